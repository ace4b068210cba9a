"""The C literal scan (logscan/_native_literals.c) gives exactly the hits of the `re` scan it replaces,
with its vector scan (logscan/_native_vector.c) and with its skip table alone.
The C lane's stamps (logscan/_native_stamps.c) are TimestampParser's to the last bit.

Where the module was not built (no C compiler), these tests skip: logscan then runs the `re`
scan, which the other prefilter tests cover. CI builds it (.ci/run checks that it imports).
"""

from __future__ import annotations

import platform
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logscan.model import Line
from logscan.patterns import PatternSet
from logscan.prefilter import Prefilter
from logscan.timestamps import TimestampParser
from tests.golden import sample_logs
from tests.test_prefilter import Sig, signature_lists

native = pytest.importorskip(
    "logscan._native", reason="logscan._native was not built (no C compiler)"
)


# "é" is a 1-byte character above ASCII; "ж" (in the texts) one the C scan does not take,
# and the text then goes to `re`.
_signatures = signature_lists("abé ")


def same_hits_as_re(signatures: list[Sig], text: str) -> None:
    """Both C scans (vector where the CPU has AVX2, and skip table alone) find what `re` finds."""
    reference = Prefilter(signatures, native=False).scan(text)
    assert reference == Prefilter(signatures).scan(text)
    assert reference == Prefilter(signatures, vector=False).scan(text)


@given(_signatures, st.text(alphabet="abé \nж", max_size=80))
def test_the_same_hits_as_re(signatures: list[Sig], text: str) -> None:
    """Positions, literals and their order: the framer relies on all three."""
    same_hits_as_re(signatures, text)


# Literals of 3 or more characters: the C scan then moves on by the skip table (Wu-Manber's).
_long_literals = st.lists(
    st.builds(
        lambda ls: Sig(tuple(ls)),
        st.lists(st.text(alphabet="abé ", min_size=3, max_size=7), min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=6,
)


@given(_long_literals, st.text(alphabet="abé \nж", max_size=300))
def test_the_skip_table_passes_over_no_hit(signatures: list[Sig], text: str) -> None:
    same_hits_as_re(signatures, text)


# The vector scan reads each character's two halves: the literals and the text take any
# 1-byte character (below U+0100), the high half set included.
_latin1 = "ab\x00\x0f\x10\x7f\x80\x8fé\xf0\xff \n"


@given(
    st.lists(
        st.builds(
            lambda ls: Sig(tuple(ls)),
            st.lists(st.text(alphabet=_latin1, min_size=3, max_size=6), min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=12,
    ),
    st.text(alphabet=_latin1, min_size=30, max_size=400),
)
def test_the_vector_scan_misses_no_character(signatures: list[Sig], text: str) -> None:
    same_hits_as_re(signatures, text)


@pytest.mark.parametrize("vector", [True, False], ids=["vector", "skip table"])
def test_a_literal_is_found_at_every_place(vector: bool) -> None:
    """Across the vector scan's 32-place steps and the end of the text, where the skip table
    takes over."""
    compiled = native.Literals(("HTTP/", "Worker exiting"), ((), ()), vector)
    for size in (5, 33, 34, 35, 40, 70, 100):
        for at in range(size - 4):
            text = "-" * at + "HTTP/" + "=" * (size - at - 5)
            assert [(at, "HTTP/")] == compiled.scan(text), (size, at)
    text = "HTTP/ x Worker exiting HTTP/"
    assert [(0, "HTTP/"), (8, "Worker exiting"), (23, "HTTP/")] == compiled.scan(text)
    assert [] == compiled.scan("HTTP")
    assert [] == compiled.scan("TTP/ Worker exitin")


def _has_avx2() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return platform.machine() == "x86_64" and " avx2" in flags


@pytest.mark.skipif(not _has_avx2(), reason="the vector scan needs an x86-64 CPU with AVX2")
def test_the_vector_scan_runs_where_the_cpu_has_avx2(pack: PatternSet) -> None:
    """Not a silent fallback to the skip table; and not for literals shorter than three."""
    native_scan = pack.prefilter.native
    assert native_scan is not None
    assert native_scan.vector
    assert not native.Literals(("HTTP/",), ((),), False).vector
    assert not native.Literals(("ab", "HTTP/"), ((), ())).vector


def test_it_is_the_c_scan_that_runs() -> None:
    """Not a silent fallback: the C scan answers for 1-byte text and declines wider text."""
    compiled = native.Literals(("ab", "b"), ((), ()))
    assert [(1, "ab"), (3, "b")] == compiled.scan("xabb")
    assert compiled.scan("xab ж") is None
    assert [(1, "ab"), (6, "b")] == Prefilter([Sig(("ab", "b"))]).scan("xab ж b")


def test_overlapping_literals_of_the_shipped_packs(pack: PatternSet) -> None:
    """ "Started server process" runs into "process is overloaded"; both are reported."""
    text = "INFO: Started server process is overloaded; WORKER TIMEOUT (pid:7)"
    hits = pack.prefilter.scan(text)
    assert {"Started server process", "process is overloaded", "WORKER TIMEOUT"} <= {
        literal for _, literal in hits
    }
    assert Prefilter(pack.signatures, native=False).scan(text) == hits


@pytest.mark.parametrize("sample", sample_logs(), ids=lambda path: path.name)
def test_every_sample_scans_the_same(pack: PatternSet, sample: Path) -> None:
    text = sample.read_text(encoding="utf-8", errors="replace")
    reference = Prefilter(pack.signatures, native=False)
    assert reference.scan(text) == pack.prefilter.scan(text)


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="one tuple of overlaps"):
        native.Literals(("a",), ())
    with pytest.raises(ValueError, match="above U\\+00FF"):
        native.Literals(("ж",), ((),))
    with pytest.raises(ValueError, match="out of range"):
        native.Literals(("ab", "b"), (((5, 1),), ()))


def test_the_c_lane_sets_every_field_of_line() -> None:
    """new_line in _native_lane.c makes a Line by setting these fields, in this order: a field
    added to Line must be added there too."""
    assert [
        "source", "number", "text", "ts", "ts_inferred", "group", "truncated", "literals",
    ] == [field.name for field in fields(Line)]  # fmt: skip


@given(st.binary(max_size=200) | st.lists(st.sampled_from([b"ab", b"\n", b"xyz\r"])).map(b"".join))
def test_longest_line_is_the_split_one(data: bytes) -> None:
    """How the framer learns whether a block holds a line over --max-line."""
    assert max(map(len, data.split(b"\n"))) == native.longest_line(data)


def c_lane_times(stamps: list[str]) -> tuple[list[float | None], list[str]]:
    """The times the C lane gives kubectl lines with these stamps (up to one it declines: then
    None), and the stamps it asked TimestampParser.parse_rfc3339 for."""
    parser = TimestampParser()
    asked: list[str] = []

    def parse(stamp: str) -> float | None:
        asked.append(stamp)
        return parser.parse_rfc3339(stamp)

    text = "".join(f"[pod/a/c] {stamp} m\n" for stamp in stamps)
    out: list[Line] = []
    block = native.Literals(("x",), ((),)).block(text)
    _, _, last, *_ = block.run(
        {}, {}, 0, None, False, parser.known_seconds, parse, Line, "s", out, "g", frozenset(),
        None,
    )  # fmt: skip
    return [line.ts for line in out] + [last], asked


_fraction = st.text(alphabet="0123456789", min_size=1, max_size=9)
_kubectl_stamp = st.builds(
    lambda when, fraction: f"{when.isoformat(timespec='seconds')}.{fraction}Z",
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    _fraction,
)


@settings(max_examples=300)
@given(st.lists(_kubectl_stamp, min_size=1, max_size=4))
def test_the_c_lane_times_a_valid_stamp_as_python_does(stamps: list[str]) -> None:
    """To the last bit, and without asking Python: the C lane has the second itself."""
    expected = [TimestampParser().parse_rfc3339(stamp) for stamp in stamps]
    assert (expected, []) == c_lane_times(stamps)


@pytest.mark.parametrize(
    "second",
    [
        "0001-01-01T00:00:00", "9999-12-31T23:59:59", "1970-01-01T00:00:00",
        "1969-12-31T23:59:59", "2000-02-29T12:00:00", "2024-02-29T00:00:00",
        "1600-02-29T00:00:00", "2023-02-28T23:59:59", "2026-03-01T00:00:00",
        "2026-04-30T00:00:00", "2026-12-31T00:00:00", "1900-03-01T00:00:00",
        "2100-03-01T00:00:00", "2400-02-29T00:00:00",
    ],
)  # fmt: skip
def test_the_c_lane_has_the_edges_of_the_calendar(second: str) -> None:
    """The first and last second datetime takes, the epoch, leap days, ends of months and
    of centuries."""
    stamp = f"{second}.5Z"
    assert ([TimestampParser().parse_rfc3339(stamp)], []) == c_lane_times([stamp])


def test_the_c_lane_keeps_each_second_apart() -> None:
    """The second it remembers is the whole "YYYY-MM-DDTHH:MM:SS": a stamp that differs from it
    in any place, even the last, has its own second."""
    stamps = [
        "2026-11-25T00:00:01.1Z", "2026-11-25T00:00:01.2Z", "2026-11-25T00:00:02.3Z",
        "2026-11-25T00:00:12.4Z", "2026-11-25T00:01:12.5Z", "2026-11-26T00:01:12.6Z",
        "2027-11-26T00:01:12.7Z", "2027-11-26T00:01:12.8Z",
    ]  # fmt: skip
    expected = [TimestampParser().parse_rfc3339(stamp) for stamp in stamps]
    assert (expected, []) == c_lane_times(stamps)


@pytest.mark.parametrize(
    "second",
    [
        "2026-13-25T00:00:00", "2026-00-25T00:00:00", "2026-11-00T00:00:00",
        "2026-11-31T00:00:00", "2023-02-29T00:00:00", "1900-02-29T00:00:00",
        "2100-02-29T00:00:00", "2024-02-30T00:00:00", "0000-01-01T00:00:00",
        "2026-11-25T24:00:00", "2026-11-25T00:60:00", "2026-11-25T00:00:60",
        "2026-1a-25T00:00:00", "2026-11-2:T00:00:00", "2026-11-25T00:00:0\u00b2",
        "2026-11-25X00:00:00", "2026-11-25T00-00-00", "2026/11/25T00:00:00",
    ],
)  # fmt: skip
def test_what_datetime_refuses_goes_to_python(second: str) -> None:
    """Month 13, Feb 29 outside a leap year, second 60, other shapes: Python's answer (None,
    or a time for the "/" that _learn also takes), whatever it is."""
    stamp = f"{second}.5Z"
    assert ([TimestampParser().parse_rfc3339(stamp)], [stamp]) == c_lane_times([stamp])
