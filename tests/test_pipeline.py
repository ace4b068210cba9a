"""scan() end to end on real samples: invariants that hold for any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from logscan.core import Core
from logscan.model import Line
from logscan.patterns import PatternSet
from logscan.pipeline import Source, Summary, scan
from logscan.render import to_json
from tests.golden import SAMPLES

CRASH_LOOP = (SAMPLES / "gunicorn" / "crash_loop.log").read_bytes()


def events(chunks: list[bytes], pack: PatternSet, name: str = "crash_loop.log") -> list[str]:
    return [to_json(event) for event in scan([Source(name=name, chunks=chunks)], pack)]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


class TestScan:
    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.integers(min_value=0), max_size=30))
    def test_chunking_does_not_change_events(self, pack: PatternSet, cuts: list[int]) -> None:
        """However the bytes arrive, the incidents are the same."""
        assert events([CRASH_LOOP], pack) == events(split(CRASH_LOOP, cuts), pack)

    def test_same_input_same_output(self, pack: PatternSet) -> None:
        """Two scans of the same bytes give identical events."""
        assert events([CRASH_LOOP], pack) == events([CRASH_LOOP], pack)

    def test_summary_counts_records_and_matches(self, pack: PatternSet) -> None:
        """The summary counts records (a traceback is one) and matches by signature id."""
        data = (
            b"[2021-05-25 01:09:08 +0000] [1] [INFO] Booting worker with pid: 7\n"
            b"[2021-05-25 01:09:09 +0000] [7] [ERROR] Error handling request /predict\n"
            b"Traceback (most recent call last):\n"
            b'  File "app.py", line 3, in predict\n'
            b"ValueError: unexpected end of stream\n"
            b"[2021-05-25 01:09:10 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:7)\n"
        )
        *_, summary = scan([Source(name="x", chunks=[data])], pack)
        assert isinstance(summary, Summary)
        assert 3 == summary.lines
        assert (
            ("gunicorn.booting_worker", 1),
            ("gunicorn.worker_timeout", 1),
            ("werkzeug.unexpected_end_of_stream", 1),
        ) == summary.matches
        assert 2.0 == summary.seconds

    def test_files_are_merged_in_event_time(self, pack: PatternSet) -> None:
        """A log split in two files (second half first) gives the same incidents as the whole."""
        lines = CRASH_LOOP.splitlines(keepends=True)
        cut = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].startswith(b"["))
        first, second = b"".join(lines[:cut]), b"".join(lines[cut:])
        whole = [
            e
            for e in scan([Source(name="a", chunks=[CRASH_LOOP])], pack)
            if not isinstance(e, Summary)
        ]
        parts = [Source(name="a", chunks=[second]), Source(name="a", chunks=[first])]
        merged = [e for e in scan(parts, pack) if not isinstance(e, Summary)]
        assert [(e.state, e.incident.kind, e.incident.count) for e in whole] == [
            (e.state, e.incident.kind, e.incident.count) for e in merged
        ]


class TestCore:
    def test_texts_kept_with_what_was_found_stay_bounded(self, pack: PatternSet) -> None:
        """Recurring texts skip the regex, but ever new ones do not grow the Core without end;
        each is still found as the packs find it."""
        core = Core(pack)
        lines = [
            Line(source="s", number=n, text=f"[CRITICAL] WORKER TIMEOUT (pid:{n})", ts=float(n))
            for n in range(3000)
        ]
        for line in lines + lines[:10]:
            core.process(line)
        assert len(core._found) <= 1024
        assert (("gunicorn.worker_timeout", 3010),) == core.summary().matches
