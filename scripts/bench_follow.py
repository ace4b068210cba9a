"""The follow-mode section of `make bench`: `logscan watch` latency and idle CPU.

    .venv/bin/python scripts/bench.py --only follow                 # this section alone (~1.5 min)
    .venv/bin/python scripts/bench.py --only follow --trials 500 --follow-poll

Latency: ONE `logscan watch --format json --from-start FILE` child follows a temporary file
(started empty, so no line can fall into a startup gap). It is ready once a first crash loop
appended to the file has come back as its `incident.opened` event. Each trial then appends
two gunicorn `WORKER TIMEOUT (pid:N)` lines for fresh pids, waits SETTLE_S (so those two are
read and processed, and the child is idle again), appends the third line that completes a
crash loop, and measures from right after that write (time.perf_counter()) to the moment the
read of the child's stdout that returns the matching `incident.opened` line (select + os.read
in this thread, no reader thread). Each trial's lines are one hour of event time after the
previous trial's, so windows never overlap; trials are apart by a seeded 20-50 ms pause, so
each measures a wake from idle, not a batch. The same is done for `logscan watch -` fed
through a pipe. `--follow-poll` adds the file variant without watchdog: logscan has no switch
for it, so the child runs with a `watchdog` package on PYTHONPATH whose import fails, which
is logscan's documented fallback (polling every 0.1 s) when watchdog is not installed.

Idle CPU: after the trials, the file child is left on its now quiet file for `--idle-seconds`;
its CPU time (utime + stime of /proc/PID/stat, all threads) over the wall time, in %.

Every child is stopped with SIGTERM and must exit 0 after printing its `summary` event.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from logscan.sources.file import POLL_INTERVAL_S

ROOT = Path(__file__).resolve().parent.parent
LOGSCAN = ROOT / ".venv" / "bin" / "logscan"
LATENCY_LIMIT_MS, IDLE_CPU_LIMIT = 250.0, 1.0  # the targets: p99 in ms, CPU in %
START = datetime(2021, 5, 25, tzinfo=UTC)  # event time of the readiness crash loop
SETTLE_S = 0.1  # between a trial's first two lines and its third (the runner holds 50 ms)
PAUSE_S = (0.02, 0.05)  # seeded pause before each trial
READY_TIMEOUT_S, EVENT_TIMEOUT_S, STOP_TIMEOUT_S = 20.0, 5.0, 10.0
NO_WATCHDOG = 'raise ImportError("hidden by scripts/bench_follow.py: poll instead")\n'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This section's options (scripts/bench.py owns the parser)."""
    group = parser.add_argument_group("follow section")
    group.add_argument("--trials", type=int, default=200, help="latency trials per variant")
    group.add_argument("--idle-seconds", type=float, default=10.0, help="idle CPU window")
    group.add_argument(
        "--follow-poll", action="store_true", help="also time file following without watchdog"
    )


# --- the lines ------------------------------------------------------------------------------


def worker_timeout(when: datetime, pid: int) -> bytes:
    """One gunicorn arbiter line, exactly as gunicorn writes it."""
    return f"[{when:%Y-%m-%d %H:%M:%S} +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:{pid})\n".encode()


def crash_loop(n: int) -> tuple[bytes, bytes, str]:
    """Trial `n`'s first two lines, the line that completes it, and its incident's first_seen.

    Three workers (fresh pids) time out within 2 s, `n` hours after START.
    """
    when = START + timedelta(hours=n)
    lines = [worker_timeout(when + timedelta(seconds=k), 10_000 + 3 * n + k) for k in range(3)]
    return lines[0] + lines[1], lines[2], when.isoformat()


# --- one `logscan watch` child --------------------------------------------------------------


class Watch:
    """A `logscan watch --format json` child; its stdout is read as timestamped lines."""

    def __init__(self, argv: Sequence[str], scratch: Path, env: dict[str, str] | None = None):
        self.stderr_path = scratch / f"stderr-{len(list(scratch.glob('stderr-*')))}"
        with self.stderr_path.open("wb") as stderr:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if "-" in argv else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=env,
            )
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()
        self._partial = b""
        self._lines: deque[tuple[float, bytes]] = deque()
        self.eof = False

    def next_line(self, timeout: float) -> tuple[float, bytes] | None:
        """The next stdout line and when the read that returned it came back; None at timeout
        or EOF."""
        deadline = time.perf_counter() + timeout
        while not self._lines and not self.eof:
            left = deadline - time.perf_counter()
            if left <= 0 or not select.select([self._fd], [], [], left)[0]:
                return None
            data = os.read(self._fd, 1 << 16)
            seen = time.perf_counter()
            if not data:
                self.eof = True
            *complete, self._partial = (self._partial + data).split(b"\n")
            self._lines.extend((seen, line) for line in complete)
        return self._lines.popleft() if self._lines else None

    def opened(self, first_seen: str, timeout: float) -> float:
        """When the `incident.opened` event of the crash loop starting at `first_seen` was read."""
        deadline = time.perf_counter() + timeout
        while (got := self.next_line(deadline - time.perf_counter())) is not None:
            seen, line = got
            event = json.loads(line)
            if event.get("event") == "incident.opened" and event.get("first_seen") == first_seen:
                return seen
        raise self.failure(f"no incident.opened for {first_seen} within {timeout:.0f} s")

    def failure(self, why: str) -> SystemExit:
        """Kill the child; the error to raise, with the end of its stderr."""
        self.proc.kill()
        self.proc.wait()
        tail = self.stderr_path.read_text(errors="replace")[-2000:]
        return SystemExit(f"logscan watch: {why} (exit {self.proc.returncode}); stderr:\n{tail}")

    def proc_stat(self) -> tuple[float, int]:
        """CPU seconds used so far (all threads: utime + stime) and the thread count."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)
        return ticks / os.sysconf("SC_CLK_TCK"), int(fields[17])  # field 20: num_threads

    def schedstat(self) -> float | None:
        """CPU seconds on the scheduler's ns clock, summed over the live threads (finer than
        stat's clock ticks); None without schedstats."""
        try:
            tasks = Path(f"/proc/{self.proc.pid}/task").iterdir()
            return sum(int((task / "schedstat").read_text().split()[0]) for task in tasks) / 1e9
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> tuple[int, bool]:
        """SIGTERM (by PID); the exit status, and whether a `summary` event came last."""
        self.proc.send_signal(signal.SIGTERM)
        last = b""
        deadline = time.perf_counter() + STOP_TIMEOUT_S
        while (got := self.next_line(deadline - time.perf_counter())) is not None:
            last = got[1]
        if not self.eof:
            raise self.failure(f"still running {STOP_TIMEOUT_S:.0f} s after SIGTERM")
        status = self.proc.wait(timeout=STOP_TIMEOUT_S)
        return status, json.loads(last or b"{}").get("event") == "summary"


# --- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Variant:
    """A way to run the child: following a file (`--from-start FILE`) or stdin (`-`)."""

    name: str
    stdin: bool
    env: dict[str, str] | None = None
    jitter_s: float = 0.0  # extra random wait before the third line (see follow_section)


@dataclass(slots=True)
class Result:
    """What one child measured, and how it stopped."""

    name: str
    latencies: list[float]  # seconds
    threads: int
    status: int
    summary: bool
    idle_cpu: float | None = None  # percent, /proc/PID/stat utime + stime
    idle_cpu_ns: float | None = None  # percent, /proc/PID/task/*/schedstat


def latencies(
    watch: Watch, write: Callable[[bytes], object], args: argparse.Namespace, variant: Variant
) -> list[float]:
    """`--trials` crash loops completed one at a time: seconds from the write to the event."""
    rng, trials = random.Random(args.seed), args.trials
    head, last, first_seen = crash_loop(0)
    write(head + last)
    watch.opened(first_seen, READY_TIMEOUT_S)  # ready: the child reads and reports
    out = []
    for n in range(1, trials + 1):
        head, last, first_seen = crash_loop(n)
        time.sleep(rng.uniform(*PAUSE_S))
        write(head)
        time.sleep(SETTLE_S + rng.uniform(0, variant.jitter_s))
        write(last)
        sent = time.perf_counter()
        out.append(watch.opened(first_seen, EVENT_TIMEOUT_S) - sent)
        if n % 50 == 0 or n == trials:
            print(
                f"  follow, {variant.name}: {n}/{trials}, "
                f"median so far {sorted(out)[len(out) // 2] * 1000:.1f} ms",
                file=sys.stderr,
            )
    return out


def run_variant(variant: Variant, args: argparse.Namespace, scratch: Path) -> Result:
    """One child: its latency trials, then (file variants) its idle CPU, then SIGTERM."""
    log = scratch / f"{variant.name.replace(' ', '-')}.log"
    log.touch()
    target = "-" if variant.stdin else str(log)
    start = [] if variant.stdin else ["--from-start"]
    argv = [str(LOGSCAN), "watch", "--format", "json", *start, target]
    watch = Watch(argv, scratch, variant.env)
    fd = watch.proc.stdin.fileno() if watch.proc.stdin else os.open(log, os.O_WRONLY | os.O_APPEND)
    try:
        times = latencies(watch, lambda data: os.write(fd, data), args, variant)
        idle = idle_ns = None
        if not variant.stdin and args.idle_seconds > 0:
            time.sleep(1.0)  # the last trial's record is out; nothing is held
            cpu0, ns0, wall0 = watch.proc_stat()[0], watch.schedstat(), time.perf_counter()
            time.sleep(args.idle_seconds)
            cpu1, ns1, wall1 = watch.proc_stat()[0], watch.schedstat(), time.perf_counter()
            idle = 100 * (cpu1 - cpu0) / (wall1 - wall0)
            if ns0 is not None and ns1 is not None:
                idle_ns = 100 * (ns1 - ns0) / (wall1 - wall0)
        threads = watch.proc_stat()[1]
        status, summary = watch.stop()
    finally:
        if not variant.stdin:
            os.close(fd)
        if watch.proc.poll() is None:
            watch.proc.kill()
            watch.proc.wait()
    return Result(variant.name, times, threads, status, summary, idle, idle_ns)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q % of values at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def follow_section(args: argparse.Namespace, corpora: object) -> None:
    """Latency from an appended line to the incident it completes, and idle CPU."""
    del corpora  # the follow section writes its own lines
    variants = [Variant("file (watchdog)", stdin=False), Variant("stdin pipe", stdin=True)]
    with tempfile.TemporaryDirectory(prefix="logscan-bench-follow-") as name:
        scratch = Path(name)
        if args.follow_poll:
            (scratch / "nowatchdog" / "watchdog").mkdir(parents=True)
            (scratch / "nowatchdog" / "watchdog" / "__init__.py").write_text(NO_WATCHDOG)
            env = {**os.environ, "PYTHONPATH": str(scratch / "nowatchdog")}
            # Trials are paced by the child's own output, which comes a fixed time after a poll;
            # a random wait over one poll interval keeps the third line off a fixed phase.
            variants.insert(
                1, Variant("file (polling)", stdin=False, env=env, jitter_s=POLL_INTERVAL_S)
            )
        results = [run_variant(variant, args, scratch) for variant in variants]
    print("\n## Follow latency and idle CPU (`logscan watch`)\n")
    print(
        f"{args.trials} trials per variant: a crash loop's third `WORKER TIMEOUT` line appended "
        f"-> its `incident.opened` read from stdout (nearest-rank percentiles, ms)"
    )
    print("\n| variant | trials | p50 | p90 | p99 | max | threads | exit | p99 < 250 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for r in results:
        ms = [percentile(r.latencies, q) * 1000 for q in (50, 90, 99, 100)]
        verdict = "yes" if ms[2] < LATENCY_LIMIT_MS else "NO"
        exit_ = f"{r.status}{'' if r.summary else ', NO SUMMARY'}"
        print(
            f"| {r.name} | {len(r.latencies)} | {ms[0]:.1f} | {ms[1]:.1f} | {ms[2]:.1f} "
            f"| {ms[3]:.1f} | {r.threads} | {exit_} | {verdict} |"
        )
    print()
    for r in results:
        if r.idle_cpu is not None:
            worst = max(r.idle_cpu, r.idle_cpu_ns or 0.0)
            verdict = "yes" if worst < IDLE_CPU_LIMIT else "NO"
            fine = "" if r.idle_cpu_ns is None else f", {r.idle_cpu_ns:.3f} % by schedstat"
            print(
                f"idle CPU, {r.name}: {r.idle_cpu:.2f} % by /proc/PID/stat{fine}, "
                f"over {args.idle_seconds:.0f} s (under {IDLE_CPU_LIMIT:.0f} %: {verdict})"
            )
    if not args.follow_poll:
        print("polling: logscan has no switch for it; `--follow-poll` times it without watchdog")
    bad = [r.name for r in results if r.status != 0 or not r.summary]
    stopped = f"FAILED: {', '.join(bad)}" if bad else "every child exited 0 with its summary"
    print(f"SIGTERM: {stopped}")
