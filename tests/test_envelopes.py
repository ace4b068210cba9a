"""Envelopes: kubectl, journald, docker, CRI, compose and syslog wrappers come off each line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from logscan.framing import Framer, InputFormat
from logscan.model import Line

NOW = 1_700_000_000.0
T0 = datetime(2021, 5, 25, 1, 9, 8, tzinfo=UTC).timestamp()
NS = 0.123456789


def frame(data: str | bytes, input_format: InputFormat = InputFormat.AUTO) -> list[Line]:
    raw = data.encode() if isinstance(data, str) else data
    framer = Framer(source="test", input_format=input_format)
    return framer.feed(raw, NOW) + framer.close(NOW)


def one(data: str | bytes, input_format: InputFormat = InputFormat.AUTO) -> tuple[object, ...]:
    (line,) = frame(data, input_format)
    return (line.group, line.text, line.ts, line.ts_inferred)


class TestKubectl:
    def test_prefix_and_timestamp(self) -> None:
        """`--prefix --timestamps`: the pod is the group, the stamp the time."""
        line = "[pod/bento-0/app] 2021-05-25T01:09:08.123456789Z WORKER TIMEOUT (pid:183)\n"
        assert ("bento-0", "WORKER TIMEOUT (pid:183)", T0 + NS, False) == one(line)

    def test_prefix_only(self) -> None:
        """`--prefix` alone: the message's own time is used."""
        line = "[pod/bento-0/app] [2021-05-25 01:09:08 +0000] [182] [INFO] Booting worker\n"
        assert ("bento-0", line[18:-1], T0, False) == one(line)

    def test_timestamp_only(self) -> None:
        """`--timestamps` alone: no group."""
        assert ("", "hello", T0 + NS, False) == one("2021-05-25T01:09:08.123456789Z hello\n")

    def test_timestamp_with_colon_offset(self) -> None:
        """An RFC 3339 "+00:00" offset is an envelope stamp too."""
        assert ("", "hello", T0, False) == one("2021-05-25T01:09:08+00:00 hello\n")

    def test_bentoml_stamp_stays_in_the_text(self) -> None:
        """BentoML's "+0000" (no colon) is its own header, kept in the message."""
        line = "2023-07-12T11:15:06+0000 [INFO] [cli] Starting production HTTP BentoServer"
        expected = datetime(2023, 7, 12, 11, 15, 6, tzinfo=UTC).timestamp()
        assert ("", line, expected, False) == one(line + "\n")

    def test_empty_message(self) -> None:
        """A blank application line under the prefix is an empty record."""
        assert ("bento-0", "", T0, False) == one("[pod/bento-0/app] 2021-05-25T01:09:08Z \n")

    def test_forced_kubectl_on_a_plain_line(self) -> None:
        """Forcing kubectl on a line without its envelope gives a plain record."""
        assert ("", "just text", NOW, True) == one("just text\n", InputFormat.KUBECTL)


class TestJournaldJson:
    def test_string_message(self) -> None:
        """`journalctl -o json`: MESSAGE, µs realtime stamp, unit as group."""
        line = (
            '{"__REALTIME_TIMESTAMP":"1621904948123456","_SYSTEMD_UNIT":"bento.service",'
            '"SYSLOG_IDENTIFIER":"bento","MESSAGE":"[2020-01-01 00:00:00 +0000] [7] [INFO] up"}\n'
        )
        assert (
            "bento.service",
            "[2020-01-01 00:00:00 +0000] [7] [INFO] up",
            T0 + 0.123456,
            False,
        ) == (one(line))

    def test_byte_array_message(self) -> None:
        """Non-UTF-8 messages come as byte arrays and are decoded with replacement."""
        line = '{"MESSAGE":[104,105,255],"__REALTIME_TIMESTAMP":"1621904948000000","_COMM":"x"}\n'
        assert ("x", "hi\ufffd", T0, False) == one(line)

    def test_null_message(self) -> None:
        """A null MESSAGE is an empty record."""
        line = (
            '{"MESSAGE":null,"__REALTIME_TIMESTAMP":"1621904948000000","SYSLOG_IDENTIFIER":"k"}\n'
        )
        assert ("k", "", T0, False) == one(line)

    def test_message_with_newlines(self) -> None:
        """A MESSAGE with newlines stays one record."""
        line = '{"MESSAGE":"a\\nb","__REALTIME_TIMESTAMP":"1621904948000000"}\n'
        assert ("", "a\nb", T0, False) == one(line)

    def test_escaped_colours_are_stripped(self) -> None:
        """ANSI escapes escaped inside the JSON are removed after decoding."""
        line = (
            '{"MESSAGE":"\\u001b[31mERROR\\u001b[0m x","__REALTIME_TIMESTAMP":"1621904948000000"}\n'
        )
        assert ("", "ERROR x", T0, False) == one(line)

    def test_traceback_entries_are_joined(self) -> None:
        """stderr captured line by line by journald is joined per unit."""
        entries = [
            "ERROR in app: Exception on /predict [POST]",
            "Traceback (most recent call last):",
            '  File \\"app.py\\", line 3, in predict',
            "ValueError: unexpected end of stream",
        ]
        data = "".join(
            f'{{"MESSAGE":"{text}","__REALTIME_TIMESTAMP":"1621904948000000",'
            f'"_SYSTEMD_UNIT":"bento.service"}}\n'
            for text in entries
        )
        (line,) = frame(data)
        assert (1, "\n".join(entries).replace("\\", "")) == (line.number, line.text)

    @pytest.mark.parametrize("line", ["{not json at all", "{}", '{"a": 1}', "[1, 2]", "{" * 5000])
    def test_other_braces_are_plain(self, line: str) -> None:
        """A line that starts with "{" but is no journald/docker object is data."""
        assert ("", line, NOW, True) == one(line + "\n")

    def test_forced_journald_reads_the_short_format(self) -> None:
        """journalctl's default text output works with --input-format journald too."""
        line = "Jul 05 09:13:44 web-1 bento[1234]: Booting worker\n"
        framer = Framer(source="s", input_format=InputFormat.JOURNALD)
        framer.feed(b"2021-05-25 01:09:08 +0000 a fully dated line gives the year\n", NOW)
        lines = framer.feed(line.encode(), NOW) + framer.close(NOW)
        expected = datetime(2021, 7, 5, 9, 13, 44, tzinfo=UTC).timestamp()
        assert ("bento", "Booting worker", expected) == (lines[1].group, lines[1].text, lines[1].ts)


class TestJournaldShort:
    def test_short(self) -> None:
        """`journalctl` default: the identifier is the group."""
        framer = Framer(source="s")
        framer.feed(b"2023-01-01T00:00:00Z first\n", NOW)
        lines = framer.feed(b"Jul 05 09:13:44 web-1 bento[1234]: Booting worker\n", NOW)
        lines += framer.close(NOW)
        expected = datetime(2023, 7, 5, 9, 13, 44, tzinfo=UTC).timestamp()
        assert ("bento", "Booting worker", expected) == (lines[1].group, lines[1].text, lines[1].ts)

    @pytest.mark.parametrize("offset", ["+0000", "+00:00"])
    def test_short_iso(self, offset: str) -> None:
        """`-o short-iso`, with either offset spelling."""
        line = f"2023-07-05T09:13:44{offset} web-1 bento[1234]: Booting worker\n"
        expected = datetime(2023, 7, 5, 9, 13, 44, tzinfo=UTC).timestamp()
        assert ("bento", "Booting worker", expected, False) == one(line)

    def test_without_pid_is_plain_in_auto(self) -> None:
        """In AUTO only the full "ident[pid]: " shape is an envelope."""
        line = "Jul 05 09:13:44 web-1 kernel: Out of memory: Killed process 183"
        assert "" == frame(line + "\n")[0].group

    def test_without_pid_when_forced(self) -> None:
        """Forced syslog also takes identifiers without a pid."""
        line = "Jul 05 09:13:44 web-1 kernel: Out of memory: Killed process 183\n"
        (record,) = frame(line, InputFormat.SYSLOG)
        assert ("kernel", "Out of memory: Killed process 183") == (record.group, record.text)


class TestDocker:
    def test_json_file(self) -> None:
        """docker json-file: "log" without its newline, "time" as the time."""
        line = (
            '{"log":"WORKER TIMEOUT\\n","stream":"stderr","time":"2021-05-25T01:09:08.123456789Z"}'
        )
        assert ("", "WORKER TIMEOUT", T0 + NS, False) == one(line + "\n")

    def test_partials_are_joined(self) -> None:
        """A log without a trailing newline continues in the next piece of its stream."""
        data = (
            '{"log":"abc","stream":"stderr","time":"2021-05-25T01:09:08.123456789Z"}\n'
            '{"log":"out\\n","stream":"stdout","time":"2021-05-25T01:09:09Z"}\n'
            '{"log":"def","stream":"stderr","time":"2021-05-25T01:09:10Z"}\n'
            '{"log":"ghi\\n","stream":"stderr","time":"2021-05-25T01:09:11Z"}\n'
        )
        lines = frame(data)
        assert [(2, "out", T0 + 1), (1, "abcdefghi", T0 + NS)] == [
            (line.number, line.text, line.ts) for line in lines
        ]

    def test_unfinished_partial_at_close(self) -> None:
        """A partial still open at the end of input is not lost."""
        assert ("", "abc", T0, False) == one('{"log":"abc","time":"2021-05-25T01:09:08Z"}\n')

    def test_forced_docker_on_journald(self) -> None:
        """Forcing docker on a journald object gives a plain record."""
        line = '{"MESSAGE":"x","__REALTIME_TIMESTAMP":"1621904948000000"}'
        assert ("", line, NOW, True) == one(line + "\n", InputFormat.DOCKER)


class TestCri:
    def test_full_line(self) -> None:
        """CRI log file: stamp, stream, F tag, message."""
        line = "2021-05-25T01:09:08.123456789Z stderr F [2021-05-25 01:00:00 +0000] [1] x\n"
        assert ("", "[2021-05-25 01:00:00 +0000] [1] x", T0 + NS, False) == one(line)

    def test_partials_join_until_f(self) -> None:
        """P pieces join following pieces of the same stream up to the F piece."""
        data = (
            "2021-05-25T01:09:08.123456789Z stderr P abc\n"
            "2021-05-25T01:09:08.2Z stdout F out\n"
            "2021-05-25T01:09:08.3Z stderr P def\n"
            "2021-05-25T01:09:08.4Z stderr F ghi\n"
        )
        lines = frame(data, InputFormat.CRI)
        assert [(2, "out"), (1, "abcdefghi")] == [(line.number, line.text) for line in lines]
        assert T0 + NS == lines[1].ts

    def test_empty_message(self) -> None:
        """An empty F entry is an empty record."""
        assert ("", "", T0, False) == one("2021-05-25T01:09:08Z stdout F\n")

    def test_forced_cri_on_a_plain_line(self) -> None:
        """Forcing CRI on a line without its envelope gives a plain record."""
        line = "2021-05-25 01:09:08,000 INFO hello"
        assert ("", line, T0, False) == one(line + "\n", InputFormat.CRI)


class TestCompose:
    def test_service_with_replica(self) -> None:
        """`docker compose logs`: "bento-1  | message", the group without the replica."""
        line = "bento-1  | [2021-05-25 01:09:08 +0000] [182] [CRITICAL] WORKER TIMEOUT (pid:183)\n"
        assert ("bento", line[11:-1], T0, False) == one(line)

    def test_compose_v1_name(self) -> None:
        """Compose v1 names containers project_service_N."""
        assert ("proj_bento", "hello", NOW, True) == one("proj_bento_1  | hello\n")

    def test_timestamps_flag(self) -> None:
        """`docker compose logs -t` puts an RFC 3339 stamp after the bar."""
        assert ("nginx", "x", T0 + NS, False) == one(
            "nginx-1  | 2021-05-25T01:09:08.123456789Z x\n"
        )

    def test_without_replica_needs_forcing(self) -> None:
        """A bare "name | text" is plain in AUTO and a compose line when forced."""
        line = "web    | hello\n"
        assert ("", "web    | hello", NOW, True) == one(line)
        assert ("web", "hello", NOW, True) == one(line, InputFormat.COMPOSE)


class TestPlain:
    def test_plain_ignores_envelopes(self) -> None:
        """PLAIN keeps every line as written."""
        line = "[pod/bento-0/app] 2021-05-25T01:09:08Z hi"
        assert ("", line, NOW, True) == one(line + "\n", InputFormat.PLAIN)

    def test_input_format_accepts_its_string_value(self) -> None:
        """The CLI's string value selects the same format."""
        assert InputFormat.KUBECTL == InputFormat("kubectl")
