"""Framer: bytes to records — line buffer, caps, decoding, dating and traceback joining."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from logscan.framing import Framer, InputFormat
from logscan.model import Line

NOW = 1_700_000_000.0
T0 = datetime(2021, 5, 25, 1, 9, 8, tzinfo=UTC).timestamp()


def frame(data: bytes, **options: object) -> list[Line]:
    framer = Framer(source="test", **options)  # type: ignore[arg-type]
    return framer.feed(data, NOW) + framer.close(NOW)


def texts(data: bytes, **options: object) -> list[str]:
    return [line.text for line in frame(data, **options)]


FLASK_TRACEBACK = (
    "[2020-12-02 19:06:13,092] ERROR in app: Exception on /predict [POST]\n"
    "Traceback (most recent call last):\n"
    '  File "/usr/local/lib/python3.11/site-packages/flask/app.py", line 2525, in wsgi_app\n'
    "    response = self.full_dispatch_request()\n"
    "               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    '  File "/app/service.py", line 31, in predict\n'
    "    image = request.files['image'].read()\n"
    "ValueError: unexpected end of stream"
)
ACCESS = '127.0.0.1 - - [02/Dec/2020 19:06:13] "POST /predict HTTP/1.1" 500 -'

# Everything the framer must survive, for the chunking property.
MIXED = (
    FLASK_TRACEBACK + "\r\n" + ACCESS + "\r\n"
    "\n"
    'INFO:     127.0.0.1:52310 - "POST /predict HTTP/1.1" 200 OK\r\n'
    "[pod/bento-0/app] 2021-05-25T01:09:08.123456789Z héllo wörld ✓ 🚀\n"
    "[pod/bento-1/app] 2021-05-25T01:09:09Z Traceback (most recent call last):\n"
    '[pod/bento-0/app] 2021-05-25T01:09:10Z   File "x.py", line 1\n'
    '{"log":"piece one ","stream":"stderr","time":"2021-05-25T01:09:08.1Z"}\n'
    '{"log":"piece two\\n","stream":"stderr","time":"2021-05-25T01:09:08.2Z"}\n'
    "\x1b[31mERROR\x1b[0m colour\n" + "x" * 300 + "\ntail without newline \r"
).encode() + b"\xff\xfe bad utf-8 \x00 nul\n\xe2\x82"


class TestLineBuffer:
    def test_lines_split_on_newline(self) -> None:
        """Each "\\n"-terminated line is one record, numbered from 1."""
        lines = frame(b"one\ntwo\n")
        assert [(1, "one"), (2, "two")] == [(line.number, line.text) for line in lines]

    def test_crlf_is_removed(self) -> None:
        """Windows line ends leave no "\\r" in the text."""
        assert ["one", "two"] == texts(b"one\r\ntwo\r\n")

    def test_lone_trailing_cr_is_removed(self) -> None:
        """An unterminated last line ending in "\\r" loses it at close."""
        assert ["one", "two"] == texts(b"one\ntwo\r")

    def test_cr_inside_a_line_stays(self) -> None:
        """Only a line-ending "\\r" is removed."""
        assert ["a\rb"] == texts(b"a\rb\n")

    def test_partial_line_waits_for_its_end(self) -> None:
        """Bytes without a newline are not a record until the rest arrives."""
        framer = Framer(source="s", input_format=InputFormat.PLAIN)
        assert [] == framer.feed(b"WORKER TIM", NOW)
        assert [] == framer.feed(b"EOUT\nnext", NOW)
        assert ["WORKER TIMEOUT"] == [line.text for line in framer.flush(NOW)]
        assert ["next"] == [line.text for line in framer.close(NOW)]

    def test_flush_keeps_the_partial_line(self) -> None:
        """An idle flush does not cut a line that is still being written."""
        framer = Framer(source="s")
        framer.feed(b"half a li", NOW)
        assert [] == framer.flush(NOW)
        framer.feed(b"ne\n", NOW)
        assert ["half a line"] == [line.text for line in framer.close(NOW)]

    def test_buffer_holds_only_the_partial_line(self) -> None:
        """Completed lines leave the buffer; only the unterminated tail stays."""
        framer = Framer(source="s")
        framer.feed(b"one\ntwo\nthr", NOW)
        assert b"thr" == bytes(framer._buffer)

    def test_byte_at_a_time(self) -> None:
        """h11-style replay: one byte per feed gives the same records as one feed."""
        framer = Framer(source="test")
        lines: list[Line] = []
        for index in range(len(MIXED)):
            lines += framer.feed(MIXED[index : index + 1], NOW)
        assert frame(MIXED) == lines + framer.close(NOW)

    @settings(max_examples=200, deadline=None)
    @given(cuts=st.lists(st.integers(min_value=0, max_value=len(MIXED)), max_size=40))
    def test_chunking_does_not_change_records(self, cuts: list[int]) -> None:
        """Any split of the bytes (inside UTF-8 characters or "\\r\\n") gives the same records."""
        bounds = [0, *sorted(cuts), len(MIXED)]
        framer = Framer(source="test", max_line=200)
        lines: list[Line] = []
        for start, end in itertools.pairwise(bounds):
            lines += framer.feed(MIXED[start:end], NOW)
        assert frame(MIXED, max_line=200) == lines + framer.close(NOW)

    def test_mixed_input_frames_as_expected(self) -> None:
        """The chunking fixture itself frames to the expected records."""
        lines = frame(MIXED, max_line=200)
        assert [
            (1, "", True),  # the Flask traceback, capped at 200 characters
            (9, "", False),
            (10, "", False),
            (11, "", False),
            (17, "", False),
            (18, "", True),
            (19, "", False),
            (12, "bento-0", False),
            (13, "bento-1", False),
            (15, "", False),
            (20, "", False),
        ] == [(line.number, line.group, line.truncated) for line in lines]
        assert [
            "ERROR colour",
            "x" * 200,
            "tail without newline \r\ufffd\ufffd bad utf-8 \x00 nul",
        ] == [line.text for line in lines[4:7]]
        assert ["piece one piece two", "\ufffd"] == [line.text for line in lines[9:]]


class TestMaxLine:
    def test_long_line_is_cut_and_flagged(self) -> None:
        """A line over max_line is cut at the cap; the next line is read normally."""
        lines = frame(b"a" * 20 + b"\nnext\n", max_line=8)
        assert [("a" * 8, True), ("next", False)] == [(ln.text, ln.truncated) for ln in lines]

    def test_line_at_the_cap_is_whole(self) -> None:
        """A line of exactly max_line bytes, with or without "\\r\\n", is not truncated."""
        lines = frame(b"12345678\r\n12345678\n", max_line=8)
        assert [("12345678", False)] * 2 == [(ln.text, ln.truncated) for ln in lines]

    def test_cap_with_crlf_split_across_feeds(self) -> None:
        """A line at the cap whose "\\r" arrives before its "\\n" is still whole."""
        framer = Framer(source="s", max_line=8)
        lines = framer.feed(b"12345678\r", NOW) + framer.feed(b"\n", NOW) + framer.close(NOW)
        assert [("12345678", False)] == [(ln.text, ln.truncated) for ln in lines]

    def test_one_byte_over_the_cap_is_cut(self) -> None:
        """A line of max_line + 1 bytes is cut, however it was chunked."""
        framer = Framer(source="s", max_line=8)
        lines = framer.feed(b"123456789", NOW) + framer.feed(b"\n", NOW) + framer.close(NOW)
        assert [("12345678", True)] == [(ln.text, ln.truncated) for ln in lines]
        assert [("12345678", True)] == [
            (ln.text, ln.truncated) for ln in frame(b"123456789\n", max_line=8)
        ]

    def test_ten_megabyte_line_streams_in_bounded_memory(self) -> None:
        """A 10 MB line fed in 64 KiB chunks is cut, never buffered whole; the stream goes on."""
        framer = Framer(source="s", input_format=InputFormat.PLAIN)
        data = b"[2021-05-25 01:09:08 +0000] " + b"z" * 10_000_000 + b"\nafter\n"
        lines: list[Line] = []
        chunk = 65536
        for start in range(0, len(data), chunk):
            lines += framer.feed(data[start : start + chunk], NOW)
            assert len(framer._buffer) <= 65536 + 1
        lines += framer.close(NOW)
        first = "[2021-05-25 01:09:08 +0000] " + "z" * (65536 - 28)
        assert [(first, True, T0), ("after", False, T0)] == [
            (line.text, line.truncated, line.ts) for line in lines
        ]

    def test_cut_inside_a_utf8_character(self) -> None:
        """A cap that splits a multi-byte character replaces the half character."""
        assert ["ab\ufffd"] == texts("abé".encode() + b"xyz\n", max_line=3)

    def test_unterminated_long_last_line(self) -> None:
        """A long last line without a newline is cut at close too."""
        lines = frame(b"abcdefghij", max_line=4)
        assert [("abcd", True)] == [(line.text, line.truncated) for line in lines]


class TestDecoding:
    def test_invalid_utf8_is_replaced(self) -> None:
        """Bytes that are not UTF-8 become U+FFFD; the line survives."""
        assert ["caf\ufffd ok"] == texts(b"caf\xe9 ok\n")

    def test_nul_and_binary_pass(self) -> None:
        """NUL and control bytes are data."""
        assert ["a\x00b\x07c"] == texts(b"a\x00b\x07c\n")

    def test_ansi_colours_are_stripped(self) -> None:
        """uvicorn colours its level names; the escapes are removed."""
        line = b"\x1b[32mINFO\x1b[0m:     Application startup complete.\n"
        assert ["INFO:     Application startup complete."] == texts(line)

    def test_other_csi_sequences_are_stripped(self) -> None:
        """Cursor and erase sequences go as well."""
        assert ["progress done"] == texts(b"\x1b[2K\x1b[1Gprogress \x1b[1;31;4mdone\x1b[m\n")


class TestTimestamps:
    def test_text_timestamp(self) -> None:
        """A record's time comes from its text when no envelope gives one."""
        (line,) = frame(b"[2021-05-25 01:09:08 +0000] [182] [CRITICAL] WORKER TIMEOUT (pid:183)\n")
        assert (T0, False) == (line.ts, line.ts_inferred)

    def test_envelope_time_wins(self) -> None:
        """kubectl's stamp is the event time even when the text has its own."""
        data = b"2021-05-25T01:09:08Z [2020-01-01 00:00:00 +0000] [1] [INFO] x\n"
        (line,) = frame(data)
        assert (T0, False) == (line.ts, line.ts_inferred)

    def test_undated_line_borrows_the_previous_time(self) -> None:
        """uvicorn's default format has no time: the previous record's is used, flagged."""
        data = b"2021-05-25 01:09:08,000 INFO boot\nINFO:     Application startup complete.\n"
        lines = frame(data)
        assert [(T0, False), (T0, True)] == [(line.ts, line.ts_inferred) for line in lines]

    def test_first_undated_line_takes_the_read_time(self) -> None:
        """With no previous record, the time it was read is used, flagged."""
        (line,) = frame(b"INFO:     Started server process [1]\n")
        assert (NOW, True) == (line.ts, line.ts_inferred)

    def test_now_is_the_feed_time(self) -> None:
        """The read time is the one passed with the bytes that completed the line."""
        framer = Framer(source="s")
        framer.feed(b"INFO:     one\n", 10.0)
        lines = framer.feed(b"INFO:     two\n", 20.0) + framer.close(30.0)
        assert [10.0, 20.0] == [line.ts for line in lines]

    def test_source_is_carried(self) -> None:
        """Every record names its source."""
        framer = Framer(source="/var/log/bento/error.log")
        lines = framer.feed(b"a\nb\n", NOW) + framer.close(NOW)
        assert ["/var/log/bento/error.log"] * 2 == [line.source for line in lines]


GUNICORN_WORKERS = """\
[2021-05-25 01:09:08 +0000] [183] [ERROR] Error handling request /predict
Traceback (most recent call last):
  File "/usr/local/lib/python3.11/site-packages/gunicorn/workers/sync.py", line 135, in handle
    self.handle_request(listener, req, client, addr)
ValueError: unexpected end of stream
[2021-05-25 01:09:08 +0000] [184] [ERROR] Error handling request /predict
Traceback (most recent call last):
  File "/usr/local/lib/python3.11/site-packages/gunicorn/workers/sync.py", line 135, in handle
    self.handle_request(listener, req, client, addr)
werkzeug.exceptions.ClientDisconnected: 400 Bad Request: The browser (or other client) sent
[2021-05-25 01:09:09 +0000] [182] [CRITICAL] WORKER TIMEOUT (pid:183)
"""

CHAINED = """\
ERROR:    Exception in ASGI application
Traceback (most recent call last):
  File "/app/service.py", line 12, in predict
    return model(payload)
KeyError: 'image'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/service.py", line 14, in predict
    raise HTTPException(400)
fastapi.exceptions.HTTPException

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/app/service.py", line 20, in <module>
RuntimeError: request failed
INFO:     127.0.0.1:52310 - "POST /predict HTTP/1.1" 500 Internal Server Error
"""


class TestJoining:
    def test_flask_exception_is_one_record(self) -> None:
        """Flask's "Exception on /predict" line and its traceback are one record."""
        lines = frame((FLASK_TRACEBACK + "\n" + ACCESS + "\n").encode())
        assert [FLASK_TRACEBACK, ACCESS] == [line.text for line in lines]
        assert [1, 9] == [line.number for line in lines]

    def test_chained_exceptions_with_blank_lines(self) -> None:
        """Chain markers and the blank lines around them stay in the record."""
        lines = frame(CHAINED.encode())
        expected = CHAINED.rstrip("\n").rsplit("\n", 1)
        assert expected == [line.text for line in lines]
        assert [1, 19] == [line.number for line in lines]

    def test_blank_line_after_exception_is_its_own_record(self) -> None:
        """A held blank line not followed by a chain marker is released as itself."""
        data = b"ERROR x\nTraceback (most recent call last):\n  f\nOSError: boom\n\nINFO: next\n"
        lines = frame(data)
        assert [
            (1, "ERROR x\nTraceback (most recent call last):\n  f\nOSError: boom"),
            (5, ""),
            (6, "INFO: next"),
        ] == [(line.number, line.text) for line in lines]

    def test_record_is_complete_after_the_exception_line(self) -> None:
        """An indented line after the exception line starts a new record."""
        data = b"E\nTraceback (most recent call last):\n  f\nValueError: x\n  indented\n"
        assert ["E\nTraceback (most recent call last):\n  f\nValueError: x", "  indented"] == (
            texts(data)
        )

    def test_uvicorn_traceback_on_the_header_line(self) -> None:
        """uvicorn's lifespan error puts "Traceback" on the ERROR line; the exception joins."""
        data = (
            b"INFO:     Waiting for application startup.\n"
            b"ERROR:    Traceback (most recent call last):\n"
            b'  File "/app/service.py", line 8, in lifespan\n'
            b"    model = torch.load(MODEL_PATH)\n"
            b"FileNotFoundError: [Errno 2] No such file or directory: '/models/classifier.pt'\n"
            b"\n"
            b"ERROR:    Application startup failed. Exiting.\n"
        )
        assert [1, 2, 6, 7] == [line.number for line in frame(data)]
        assert data.decode().split("\n")[1:5] == frame(data)[1].text.split("\n")

    def test_bare_exception_name_ends_the_traceback(self) -> None:
        """`raise StopIteration` prints a bare class name as the last line."""
        data = b"Traceback (most recent call last):\n  f\nStopIteration\nnext\n"
        assert ["Traceback (most recent call last):\n  f\nStopIteration", "next"] == texts(data)

    def test_log_header_is_not_an_exception_line(self) -> None:
        """uvicorn's "INFO:" header after frames is a new record, not the exception."""
        data = b"Traceback (most recent call last):\n  f\nINFO:     up\n"
        assert ["Traceback (most recent call last):\n  f", "INFO:     up"] == texts(data)

    def test_timestamped_line_is_never_a_continuation(self) -> None:
        """A line with its own log header starts a record, even mid-traceback."""
        data = b"ERROR a\nTraceback (most recent call last):\n[2021-05-25 01:09:08 +0000] [1] x\n"
        assert [
            "ERROR a\nTraceback (most recent call last):",
            "[2021-05-25 01:09:08 +0000] [1] x",
        ] == (texts(data))

    def test_gunicorn_workers_are_separate_records(self) -> None:
        """Error lines of different worker pids each start their own traceback record."""
        lines = frame(GUNICORN_WORKERS.encode())
        assert [1, 6, 11] == [line.number for line in lines]
        assert lines[0].text.endswith("ValueError: unexpected end of stream")
        assert lines[1].text.startswith("[2021-05-25 01:09:08 +0000] [184] [ERROR]")
        assert 5 == lines[1].text.count("\n") + 1

    def test_interleaved_pods_do_not_mix(self) -> None:
        """kubectl --prefix lines of two pods join within their own pod only."""
        data = (
            b"[pod/bento-0/app] ERROR in app: Exception on /predict [POST]\n"
            b"[pod/bento-1/app] ERROR in app: Exception on /predict [POST]\n"
            b"[pod/bento-0/app] Traceback (most recent call last):\n"
            b"[pod/bento-1/app] Traceback (most recent call last):\n"
            b'[pod/bento-0/app]   File "a.py", line 1\n'
            b"[pod/bento-0/app] ValueError: zero\n"
            b"[pod/bento-1/app] KeyError: 'one'\n"
            b"[pod/bento-0/app] INFO next\n"
        )
        lines = frame(data)
        tb = "ERROR in app: Exception on /predict [POST]\nTraceback (most recent call last):\n"
        assert [
            ("bento-0", 1, tb + '  File "a.py", line 1\nValueError: zero'),
            ("bento-1", 2, tb + "KeyError: 'one'"),
            ("bento-0", 8, "INFO next"),
        ] == [(line.group, line.number, line.text) for line in lines]

    def test_record_is_held_until_the_next_line(self) -> None:
        """feed holds the last record; the next line of its group releases it."""
        framer = Framer(source="s")
        assert [] == framer.feed(b"ERROR in app: boom\n", NOW)
        assert ["ERROR in app: boom"] == [ln.text for ln in framer.feed(b"INFO next\n", NOW)]
        assert ["INFO next"] == [ln.text for ln in framer.flush(NOW)]
        assert [] == framer.close(NOW)

    def test_flush_releases_a_held_blank_line(self) -> None:
        """An idle flush emits a finished traceback and the blank line held after it."""
        framer = Framer(source="s")
        framer.feed(b"Traceback (most recent call last):\n  f\nOSError: x\n\n", NOW)
        assert ["Traceback (most recent call last):\n  f\nOSError: x", ""] == [
            line.text for line in framer.flush(NOW)
        ]

    def test_joined_record_is_capped(self) -> None:
        """A runaway traceback stops growing at 200 lines and is flagged."""
        data = b"Traceback (most recent call last):\n" + b"  frame\n" * 500 + b"OSError: x\nnext\n"
        lines = frame(data)
        assert [200, 1] == [line.text.count("\n") + 1 for line in lines]
        assert [True, False] == [line.truncated for line in lines]
        assert 503 == lines[1].number

    def test_joined_record_is_capped_in_size(self) -> None:
        """A joined record never exceeds max_line characters."""
        data = b"Traceback (most recent call last):\n" + b"  " + b"f" * 40 + b"\n"
        (line,) = frame(data, max_line=40)
        assert ("Traceback (most recent call last):", True) == (line.text, line.truncated)


class TestBounded:
    def test_held_records_are_bounded_by_group_count(self) -> None:
        """Thousands of pods cannot make the framer hold thousands of records."""
        framer = Framer(source="s")
        data = b"".join(b"[pod/p-%d/app] hello\n" % pod for pod in range(3000))
        released = framer.feed(data, NOW)
        assert len(framer._pending) <= 256
        assert 3000 == len(released) + len(framer.close(NOW))
