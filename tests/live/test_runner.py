"""The live runner with scripted sources: ordering, backpressure, quiet streams, resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from logscan.model import IncidentEvent, IncidentState
from logscan.patterns import PatternSet, load_patterns
from logscan.pipeline import Event, Summary
from logscan.render import to_json
from logscan.runner import Runner, RunnerOptions
from logscan.sources.base import Checkpoint, Chunk, Emit
from logscan.sources.stdin import StdinSource
from logscan.state import StateStore
from tests.conftest import gunicorn

DEADLINE_S = 20.0


def crash_loop_lines(start: float = 0, first_pid: int = 10) -> list[str]:
    """Three workers booted, then timed out one after another: one crash loop."""
    pids = range(first_pid, first_pid + 3)
    lines = [gunicorn(start, 1, "INFO", f"Booting worker with pid: {pid}") for pid in pids]
    lines += [
        gunicorn(start + 30 + n, 1, "CRITICAL", f"WORKER TIMEOUT (pid:{pid})")
        for n, pid in enumerate(pids)
    ]
    return lines


class ScriptedSource:
    """Emits its chunks, then ends (or, with `linger`, waits for stop like a tailer)."""

    def __init__(self, chunks: list[Chunk], *, linger: bool = False) -> None:
        self.name = "scripted"
        self.chunks = chunks
        self.linger = linger
        self.emitted = 0

    def run(self, emit: Emit, stop: threading.Event) -> None:
        for chunk in self.chunks:
            if stop.is_set():
                return
            emit(chunk)
            self.emitted += 1
        if self.linger:
            stop.wait(DEADLINE_S)


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


class ChattySource:
    """A line every 5 ms until stopped: an access log that never goes quiet."""

    def __init__(self, stream: str) -> None:
        self.name = stream
        self.emitted = 0

    def run(self, emit: Emit, stop: threading.Event) -> None:
        while not stop.wait(0.005):
            line = gunicorn(self.emitted / 100, 2, "INFO", f"request {self.emitted} served")
            emit(Chunk(stream=self.name, source=self.name, data=(line + "\n").encode()))
            self.emitted += 1


def chunks_of(lines: list[str], *, stream: str = "app.log", per_chunk: int = 1) -> list[Chunk]:
    """One chunk per `per_chunk` lines, each with the file offset reached."""
    found, offset = [], 0
    for start in range(0, len(lines), per_chunk):
        data = "".join(line + "\n" for line in lines[start : start + per_chunk]).encode()
        offset += len(data)
        checkpoint = Checkpoint(kind="file", key=stream, identity="1:2:3", offset=offset)
        found.append(Chunk(stream=stream, source=stream, data=data, checkpoint=checkpoint))
    return found


class Collector:
    """The runner's sink: keeps every event; can stop the run when a condition holds."""

    def __init__(self, stop: threading.Event | None = None, until: str | None = None) -> None:
        self.events: list[Event] = []
        self.stop = stop
        self.until = until
        self.ended_the_run = False  # the awaited event came while running, not at shutdown

    def __call__(self, event: Event) -> bool:
        self.events.append(event)
        if self.stop is not None and isinstance(event, IncidentEvent) and event.state == self.until:
            self.ended_the_run = not self.stop.is_set()
            self.stop.set()
        return True

    def states(self) -> list[tuple[str, str]]:
        return [(e.state, e.incident.kind) for e in self.events if isinstance(e, IncidentEvent)]

    def summary(self) -> Summary:
        last = self.events[-1]
        assert isinstance(last, Summary)
        return last


def run(runner: Runner, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    timer = threading.Timer(DEADLINE_S, stop.set)  # a hung run fails the test, never the suite
    timer.start()
    try:
        runner.run(stop)
    finally:
        timer.cancel()


class TestRunner:
    def test_source_end_flushes_and_summarises(self, pack: PatternSet) -> None:
        """When every source ended, held records are flushed and a summary closes the run."""
        sink = Collector()
        end = Chunk(stream="app.log", source="app.log", data=b"", final=True)
        source = ScriptedSource([*chunks_of(crash_loop_lines()), end])
        run(Runner([source], pack, sink))
        assert [("opened", "crash_loop")] == sink.states()
        assert 6 == sink.summary().lines

    def test_stdin_pipe_until_eof(self, pack: PatternSet) -> None:
        """`... | logscan watch -`: lines from a pipe, EOF ends the run after flushing."""
        read_end, write_end = os.pipe()
        os.write(write_end, "".join(line + "\n" for line in crash_loop_lines()).encode())
        os.close(write_end)
        sink = Collector()
        try:
            run(Runner([StdinSource(fd=read_end)], pack, sink))
        finally:
            os.close(read_end)
        assert [("opened", "crash_loop")] == sink.states()
        assert 6 == sink.summary().lines

    def test_backpressure_loses_nothing(self, pack: PatternSet) -> None:
        """A two-chunk queue and 3 000 one-line chunks: every line is counted."""
        lines = [gunicorn(n / 100, 1, "INFO", f"request {n}") for n in range(3000)]
        sink = Collector()
        options = RunnerOptions(queue_chunks=2)
        run(Runner([ScriptedSource(chunks_of(lines))], pack, sink, options=options))
        assert 3000 == sink.summary().lines

    def test_quiet_stream_resolves(self, tmp_path: Path) -> None:
        """With no more lines, event time runs on with the clock and the incident resolves."""
        quick = tmp_path / "quick.toml"
        quick.write_text(
            '[[rule]]\nkind = "crash_loop"\ntype = "threshold"\nsignals = ["worker_death"]\ndistinct = "pid"\nmin_count = 3\nwindow = "5m"\nresolve_after = "1s"\n'
        )
        pack = load_patterns([quick])
        stop = threading.Event()
        sink = Collector(stop, until=IncidentState.RESOLVED)
        source = ScriptedSource(chunks_of(crash_loop_lines()), linger=True)
        run(Runner([source], pack, sink), stop)
        assert sink.ended_the_run
        assert [("opened", "crash_loop"), ("resolved", "crash_loop")] == sink.states()

    def test_chatty_neighbour_does_not_hold_back_a_quiet_stream(self, pack: PatternSet) -> None:
        """A record held for traceback joining goes out after its own stream is quiet, however
        busy another stream is (a chatty access log beside a quiet error log)."""
        stop = threading.Event()
        sink = Collector(stop, until=IncidentState.OPENED)
        quiet = ScriptedSource(chunks_of(crash_loop_lines(), stream="error.log"), linger=True)
        chatty = ChattySource("access.log")
        run(Runner([quiet, chatty], pack, sink), stop)
        assert sink.ended_the_run  # not released by the shutdown flush after the deadline
        assert [("opened", "crash_loop")] == sink.states()
        assert chatty.emitted > 0

    def test_yearless_syslog_stamps_take_the_year_of_now(self, pack: PatternSet) -> None:
        """Live `journalctl -o short` lines carry no year: with the clock in January 2030, a
        July stamp is July 2029 (the latest that is not in the future), not 1970."""
        lines = [
            f"Jul 05 09:13:4{n} web-1 gunicorn[1]: [CRITICAL] WORKER TIMEOUT (pid:{10 + n})"
            for n in range(3)
        ]
        now = datetime(2030, 1, 10, tzinfo=UTC).timestamp()
        sink = Collector()
        run(Runner([ScriptedSource(chunks_of(lines))], pack, sink, clock=lambda: now))
        [opened] = [e for e in sink.events if isinstance(e, IncidentEvent)]
        assert datetime(2029, 7, 5, 9, 13, 40, tzinfo=UTC).timestamp() == opened.incident.first_seen

    def test_closed_sink_stops_the_run(self, pack: PatternSet) -> None:
        """When the writer reports its reader gone, the run ends instead of reading on."""
        lines = crash_loop_lines() + crash_loop_lines(start=3600, first_pid=20)
        source = ScriptedSource(chunks_of(lines), linger=True)
        run(Runner([source], pack, lambda _event: False))
        assert source.emitted < len(lines) + 1


class TestResume:
    def test_restart_gives_the_uninterrupted_incidents(
        self, pack: PatternSet, tmp_path: Path
    ) -> None:
        """Stop after the first half, restart from --state: same incidents, same line count."""
        lines = []
        for hour in range(4):
            lines += crash_loop_lines(start=hour * 3600, first_pid=hour * 10)
        chunks = chunks_of(lines, per_chunk=2)
        whole = Collector()
        run(Runner([ScriptedSource(chunks)], pack, whole))

        state_path = tmp_path / "state.db"
        first = Collector()
        store = StateStore(state_path)
        run(
            Runner(
                [ScriptedSource(chunks[:7])], pack, first, state=store, snapshot=store.load(pack)
            )
        )
        store = StateStore(state_path)
        snapshot = store.load(pack)
        assert snapshot is not None
        assert chunks[6].checkpoint == snapshot.checkpoints["app.log"]
        second = Collector()
        run(Runner([ScriptedSource(chunks[7:])], pack, second, state=store, snapshot=snapshot))

        def opened(events: list[Event]) -> list[str]:
            return [
                e.incident.id
                for e in events
                if isinstance(e, IncidentEvent) and e.state is IncidentState.OPENED
            ]

        assert opened(whole.events) == opened(first.events) + opened(second.events)
        assert whole.summary().lines == second.summary().lines
        # the restored framers scan for literals again (in C where it is built)
        assert all(f._prefilter is pack.prefilter for f in snapshot.framers.values())

    def test_stop_mid_traceback_keeps_it_whole_across_a_restart(
        self, pack: PatternSet, tmp_path: Path
    ) -> None:
        """SIGTERM while a traceback is still being joined: it waits in the state and is one
        record after the restart, so the line count equals an uninterrupted run's."""
        record = [
            gunicorn(0, 7, "ERROR", "Error handling request POST /predict"),
            "Traceback (most recent call last):",
            '  File "app.py", line 3, in predict',
            "ValueError: unexpected end of stream",
        ]
        chunks = chunks_of([*record, gunicorn(1, 7, "INFO", "next")])
        options = RunnerOptions(flush_after_s=60.0)  # nothing is released by quiet in this test
        whole = Collector()
        run(Runner([ScriptedSource(chunks)], pack, whole, options=options))

        store = StateStore(tmp_path / "state.db")
        stop = threading.Event()
        first = ScriptedSource(chunks[:2], linger=True)
        stopper = threading.Thread(
            target=lambda: (_wait_until(lambda: first.emitted == 2), time.sleep(0.2), stop.set())
        )
        stopper.start()
        run(Runner([first], pack, Collector(), options=options, state=store), stop)
        stopper.join()
        store = StateStore(tmp_path / "state.db")
        second = Collector()
        run(
            Runner(
                [ScriptedSource(chunks[2:])],
                pack,
                second,
                options=options,
                state=store,
                snapshot=store.load(pack),
            )
        )
        assert whole.summary().lines == second.summary().lines == 2

    def test_corrupt_state_file_is_set_aside(self, pack: PatternSet, tmp_path: Path) -> None:
        """A file that is not a state database is moved aside, and the run starts afresh."""
        state_path = tmp_path / "state.db"
        state_path.write_bytes(b"this is not sqlite" * 100)
        store = StateStore(state_path)
        assert store.load(pack) is None
        assert 1 == len(list(tmp_path.glob("state.db.unusable-*")))

    def test_state_from_other_packs_keeps_positions_only(
        self, pack: PatternSet, tmp_path: Path
    ) -> None:
        """Changed packs: the windows are dropped, the positions kept."""
        state_path = tmp_path / "state.db"
        store = StateStore(state_path)
        run(Runner([ScriptedSource(chunks_of(crash_loop_lines()))], pack, Collector(), state=store))
        extra = tmp_path / "extra.toml"
        extra.write_text(
            '[[rule]]\nkind = "crash_loop"\ntype = "threshold"\nsignals = ["worker_death"]\nmin_count = 9\n'
        )
        other = load_patterns([extra])
        snapshot = StateStore(state_path).load(other)
        assert snapshot is not None
        assert 0 == snapshot.core.summary().lines
        assert "app.log" in snapshot.checkpoints


def test_events_serialise(pack: PatternSet) -> None:
    """The runner's events render as the JSON contract (smoke test of the live sink path)."""
    sink = Collector()
    run(Runner([ScriptedSource(chunks_of(crash_loop_lines()))], pack, sink))
    assert "incident.opened" == json.loads(to_json(sink.events[0]))["event"]


def test_pack_fingerprint_is_the_same_in_every_process() -> None:
    """The state's pack fingerprint does not depend on the string hash seed."""
    code = "from logscan.patterns import load_patterns; from logscan.state import fingerprint; print(fingerprint(load_patterns()))"
    prints = {
        subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True, text=True, check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }  # fmt: skip
    assert 1 == len(prints)
