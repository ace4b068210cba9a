"""`logscan watch` as a process: a real file appended to, signals, stdin, --state after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import ROOT, gunicorn

DEADLINE_S = 30.0


def death_lines(hour: int) -> list[str]:
    """A crash loop (three timeouts) at `hour` hours after T0, with distinct pids."""
    pids = range(hour * 10, hour * 10 + 3)
    return [
        gunicorn(hour * 3600 + n, 1, "CRITICAL", f"WORKER TIMEOUT (pid:{p})")
        for n, p in enumerate(pids)
    ]


def append(path: Path, lines: list[str]) -> None:
    with path.open("a") as handle:
        handle.write("".join(line + "\n" for line in lines))


class Watch:
    """A `logscan watch --format json` child process whose stdout is read by a thread."""

    def __init__(self, *args: str, stdin: int | IO[bytes] | None = subprocess.DEVNULL) -> None:
        command = [sys.executable, "-m", "logscan", "watch", "--format", "json", *args]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.events: list[dict[str, object]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.append(json.loads(line))

    def wait_for(self, predicate: Callable[[list[dict[str, object]]], bool]) -> None:
        """Until `predicate(events)` holds, or fail after the deadline."""
        deadline = time.monotonic() + DEADLINE_S
        while not predicate(self.events):
            assert time.monotonic() < deadline, f"timed out; events so far: {self.events}"
            time.sleep(0.02)

    def stop(self, signum: int | None = signal.SIGTERM) -> int:
        """Send `signum` (None: just wait for the end), reap, close the pipes; the exit code."""
        if signum is not None:
            self.process.send_signal(signum)
        code = self.process.wait(timeout=DEADLINE_S)
        self._reader.join(timeout=DEADLINE_S)
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self.stderr = self.process.stderr.read().decode()
        self.process.stdout.close()
        self.process.stderr.close()
        return code


def opened(events: list[dict[str, object]]) -> list[object]:
    return [e["id"] for e in events if e["event"] == "incident.opened"]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    path.write_text("")
    return path


class TestWatch:
    def test_appended_lines_open_an_incident_then_sigterm_summarises(self, log: Path) -> None:
        """A followed file: an incident appears as lines arrive; SIGTERM prints the summary, exit 0."""
        # --from-start on an empty file: lines appended at any moment are read, however long
        # the process takes to start (no sleep-and-hope on a loaded machine).
        watch = Watch("--from-start", str(log))
        append(log, death_lines(0))
        watch.wait_for(lambda events: len(opened(events)) == 1)
        assert 0 == watch.stop()
        assert "summary" == watch.events[-1]["event"]
        assert 3 == watch.events[-1]["lines"]

    def test_sigint_exits_zero(self, log: Path) -> None:
        """Ctrl-C stops quietly with a summary."""
        watch = Watch("--from-start", str(log))
        append(log, death_lines(0))
        watch.wait_for(lambda events: len(opened(events)) == 1)  # running, handlers installed
        assert 0 == watch.stop(signal.SIGINT)
        assert "summary" == watch.events[-1]["event"]
        assert "Traceback" not in watch.stderr

    def test_stdin_pipeline_ends_at_eof(self) -> None:
        """`tail -F … | logscan watch -`: events flushed per line; EOF flushes and ends."""
        read_end, write_end = os.pipe()
        watch = Watch("-", stdin=read_end)
        os.close(read_end)
        os.write(write_end, "".join(line + "\n" for line in death_lines(0)).encode())
        watch.wait_for(lambda events: len(opened(events)) == 1)  # before EOF: flushed live
        os.close(write_end)
        assert 0 == watch.stop(None)
        assert "summary" == watch.events[-1]["event"]

    def test_from_start_reads_what_is_there(self, log: Path) -> None:
        """--from-start reads the existing content first."""
        append(log, death_lines(0))
        watch = Watch("--from-start", str(log))
        watch.wait_for(lambda events: len(opened(events)) == 1)
        assert 0 == watch.stop()


class TestQuietStream:
    def test_incident_resolves_while_the_file_is_quiet(self, log: Path, tmp_path: Path) -> None:
        """No more lines: event time runs on with the clock and the incident resolves."""
        quick = tmp_path / "quick.toml"  # the built-in crash_loop rule, resolving after 1 s
        quick.write_text(
            '[[rule]]\nkind = "crash_loop"\ntype = "threshold"\nsignals = ["worker_death"]\n'
            'distinct = "pid"\nmin_count = 3\nwindow = "5m"\nresolve_after = "1s"\n'
        )
        watch = Watch("--from-start", "--patterns", str(quick), str(log))
        append(log, death_lines(0))
        watch.wait_for(lambda events: any(e["event"] == "incident.resolved" for e in events))
        assert 0 == watch.stop()
        assert ["incident.opened", "incident.resolved"] == [e["event"] for e in watch.events[:-1]]


class TestDiagnostics:
    def test_unusable_state_file_is_one_warning_line(self, log: Path, tmp_path: Path) -> None:
        """A state file that is not one: moved aside, one `logscan: WARNING:` line, run goes on."""
        state = tmp_path / "state.db"
        state.write_bytes(b"not a database" * 200)
        watch = Watch("--from-start", "--state", str(state), str(log))
        append(log, death_lines(0))
        watch.wait_for(lambda events: len(opened(events)) == 1)
        assert 0 == watch.stop()
        [warning] = watch.stderr.splitlines()
        assert warning.startswith("logscan: WARNING: state file")
        assert "moved to" in warning


class TestStateAfterKill:
    def test_kill_9_then_restart_matches_an_uninterrupted_run(
        self, log: Path, tmp_path: Path
    ) -> None:
        """kill -9 mid-stream, restart with the same --state: the incidents and line count of
        one uninterrupted run; no incident opened twice."""
        state = tmp_path / "state.db"
        all_lines = [line for hour in range(6) for line in death_lines(hour)]
        first = Watch("--from-start", "--state", str(state), str(log))
        append(log, all_lines[:9])
        first.wait_for(lambda events: len(opened(events)) == 3)
        time.sleep(0.8)  # a state commit follows the events (at most every 0.5 s)
        first.stop(signal.SIGKILL)
        append(log, all_lines[9:])
        second = Watch("--state", str(state), str(log))
        second.wait_for(lambda events: len(opened(events)) == 3)
        assert 0 == second.stop()
        assert len(all_lines) == second.events[-1]["lines"]
        uninterrupted = subprocess.run(
            [sys.executable, "-m", "logscan", "scan", "--format", "json", "--fail-on", "none", str(log)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        expected = opened([json.loads(line) for line in uninterrupted.stdout.splitlines()])
        assert 6 == len(expected)
        assert expected == opened(first.events) + opened(second.events)  # none twice, none lost
