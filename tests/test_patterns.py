"""Pattern packs: built-ins load and prove themselves; broken packs fail with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from logscan.errors import PatternError
from logscan.model import Line
from logscan.patterns import PatternSet, Signature, load_pack, load_patterns
from tests.conftest import T0

GOOD_SIGNATURE = """
[[signature]]
id = "mine.oops"
signal = "request_exception"
regex = 'OOPS (?P<code>\\d+)'
literals = ["OOPS"]
samples = ["OOPS 42"]
"""


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def line(text: str) -> Line:
    return Line(source="t", number=1, text=text, ts=T0)


class TestBuiltinPacks:
    def test_every_sample_matches_its_own_signature(self, pack: PatternSet) -> None:
        """Each signature's samples are matched by that signature, first in priority order."""
        for signature in pack.signatures:
            for sample in signature.samples:
                found = pack.match(line(sample))
                assert found is not None, (signature.id, sample)
                assert signature.id == found.signature, sample

    def test_rules_only_use_signals_some_signature_emits(self, pack: PatternSet) -> None:
        """A rule waiting for a signal nothing emits would never fire."""
        emitted = {signature.signal for signature in pack.signatures}
        for rule in pack.rules:
            assert rule.signals <= emitted, (rule.kind, rule.signals - emitted)

    def test_fields_come_from_named_groups_and_constants(self, pack: PatternSet) -> None:
        """A timeout line yields pid (captured) and cause (constant)."""
        found = pack.match(
            line("[2021-05-25 01:09:08 +0000] [182] [CRITICAL] WORKER TIMEOUT (pid:183)")
        )
        assert found is not None
        assert ("worker_death", "183", "timeout") == (
            found.signal,
            found.field("pid"),
            found.field("cause"),
        )

    def test_access_line_fields(self, pack: PatternSet) -> None:
        """Access lines give method, path (query stripped) and status."""
        found = pack.match(
            line(
                '10.0.0.1 - - [25/May/2021:01:09:08 +0000] "GET /readyz?x=1 HTTP/1.1" 503 0 "-" "kube-probe/1.27"'
            )
        )
        assert found is not None
        assert ("GET", "/readyz", "503") == (
            found.field("method"),
            found.field("path"),
            found.field("status"),
        )

    def test_parse_failure_wins_over_generic_flask_exception(self, pack: PatternSet) -> None:
        """A Flask exception record whose traceback ends in a multipart error is a parse failure."""
        text = '[2020-12-02 19:06:13,092] ERROR in app: Exception on /predict [POST]\nTraceback (most recent call last):\n  File "x.py", line 1, in f\nValueError: unexpected end of stream'
        found = pack.match(line(text))
        assert found is not None
        assert ("parse_failure", "/predict", "POST") == (
            found.signal,
            found.field("path"),
            found.field("method"),
        )

    def test_plain_lines_match_nothing(self, pack: PatternSet) -> None:
        """An ordinary app line is not a signal."""
        assert (
            pack.match(line("2021-05-25 01:09:08,123 INFO loaded model resnet50 in 2.1s")) is None
        )


class TestUserPacks:
    def test_user_pack_adds_a_signature(self, tmp_path: Path) -> None:
        """--patterns FILE adds its signatures after the built-ins."""
        loaded = load_patterns([write(tmp_path, GOOD_SIGNATURE)])
        found = loaded.match(line("x OOPS 7"))
        assert found is not None
        assert ("mine.oops", "7") == (found.signature, found.field("code"))

    def test_user_pack_overrides_builtin_by_id(self, tmp_path: Path) -> None:
        """A signature with a built-in's id replaces it."""
        text = GOOD_SIGNATURE.replace("mine.oops", "gunicorn.worker_timeout")
        loaded = load_patterns([write(tmp_path, text)])
        ids = [s.id for s in loaded.signatures]
        assert 1 == ids.count("gunicorn.worker_timeout")
        assert loaded.match(line("[x] [1] [CRITICAL] WORKER TIMEOUT (pid:2)")) is None

    def test_directory_of_packs(self, tmp_path: Path) -> None:
        """--patterns DIR loads every *.toml in it."""
        write(tmp_path, GOOD_SIGNATURE)
        assert any(s.id == "mine.oops" for s in load_patterns([tmp_path]).signatures)


class TestFields:
    """A match's fields are its named groups that took part, as groupdict() gives them."""

    @staticmethod
    def groupdict_fields(signature: Signature, text: str) -> tuple[tuple[str, str], ...]:
        found = signature.pattern.search(text)
        assert found is not None
        captured = tuple((k, v) for k, v in found.groupdict().items() if v is not None)
        return signature.fields + captured

    def test_every_builtin_sample(self, pack: PatternSet) -> None:
        for signature in pack.signatures:
            for sample in signature.samples:
                found = signature.match(line(sample))
                assert found is not None
                assert found.fields == self.groupdict_fields(signature, sample), sample

    @pytest.mark.parametrize(
        ("regex", "text"),
        [
            (r"(?P<a>x)(?P<b>y)?(?P<c>)", "x"),  # a group that did not take part; an empty one
            (r"(?P<a>x)|(?P<a>y)", "y"),  # one name twice (the regex package allows it)
            (r"(x)(?P<a>y)", "xy"),  # an unnamed group
            (r"(?P<b>x)(?P<a>y)", "xy"),  # names out of alphabetical order
        ],
    )
    def test_group_shapes(self, tmp_path: Path, regex: str, text: str) -> None:
        toml = GOOD_SIGNATURE.replace("OOPS (?P<code>\\d+)", regex)
        toml = toml.replace('["OOPS"]', f'["{text}"]').replace('["OOPS 42"]', f'["{text}"]')
        (signature,), _ = load_pack(write(tmp_path, toml))
        found = signature.match(line(text))
        assert found is not None
        assert found.fields == self.groupdict_fields(signature, text)


class TestBrokenPacks:
    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("[[signature]\nid=", "not valid TOML"),
            (
                GOOD_SIGNATURE.replace(
                    'signal = "request_exception"', 'signal = "x"\ncolour = "red"'
                ),
                "unknown key 'colour'",
            ),
            (GOOD_SIGNATURE.replace("OOPS (?P<code>", "OOPS ((?P<code>"), "bad regex"),
            (
                GOOD_SIGNATURE.replace('samples = ["OOPS 42"]', 'samples = ["OOPS fortytwo"]'),
                "does not match its sample",
            ),
            (
                GOOD_SIGNATURE.replace('samples = ["OOPS 42"]', "samples = []"),
                "'samples' must have at least one entry",
            ),
            (
                GOOD_SIGNATURE.replace('literals = ["OOPS"]', 'literals = ["NOPE"]'),
                "none of the literals",
            ),
            (GOOD_SIGNATURE + GOOD_SIGNATURE, "duplicate id"),
            ('[[rule]]\nkind = "x"\ntype = "sometimes"\nsignals = ["a"]', "'type' must be one of"),
            (
                '[[rule]]\nkind = "x"\ntype = "threshold"\nsignals = ["a"]\nwindow = "soon"',
                "'window'",
            ),
            (
                '[[rule]]\nkind = "x"\ntype = "threshold"\nsignals = ["a"]\nmin_count = 0',
                "'min_count'",
            ),
        ],
    )
    def test_names_file_item_and_reason(self, tmp_path: Path, text: str, reason: str) -> None:
        """The error is one line: the file, the item, the reason."""
        path = write(tmp_path, text)
        with pytest.raises(PatternError) as raised:
            load_pack(path)
        message = str(raised.value)
        assert message.startswith(str(path))
        assert reason in message
        assert "\n" not in message

    def test_missing_file(self, tmp_path: Path) -> None:
        """A pack that cannot be read says so."""
        with pytest.raises(PatternError, match="cannot read"):
            load_pack(tmp_path / "absent.toml")
