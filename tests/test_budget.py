"""A regex that backtracks catastrophically is stopped, counted and skipped; the stream goes on.

Given a Budget, `scan` keeps it with a CPU-time tick in the main thread and with the regex
package's own timeout elsewhere; without one, each search keeps its own timeout. All of them
must stop the same searches and leave every other record alone.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from logscan.budget import Budget
from logscan.patterns import PatternSet, load_patterns
from logscan.pipeline import Source, Summary, scan

# `(a|aa)+c` on a run of "a" without a "c" tries every way to split the run: 2^40 of them.
SLOW = """
[[signature]]
id = "mine.slow"
signal = "request_exception"
regex = '(a|aa)+c'
literals = ["aaaa"]
samples = ["aaaac"]
"""
SLOW_LINE = "a" * 40
TIMEOUT_LINE = "[2021-05-25 01:09:08 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:7)"


def summary(pack: PatternSet, *, budget: bool = True) -> Summary:
    data = f"{SLOW_LINE}\n{TIMEOUT_LINE}\n{SLOW_LINE}\n{TIMEOUT_LINE}\n".encode()
    if not budget:
        *_, last = scan([Source(name="s", chunks=[data])], pack)
    else:
        with Budget() as kept:
            *_, last = scan([Source(name="s", chunks=[data])], pack, budget=kept)
    assert isinstance(last, Summary)
    return last


def slow_pack(tmp_path: Path) -> PatternSet:
    path = tmp_path / "slow.toml"
    path.write_text(SLOW)
    return load_patterns([path])


def test_a_runaway_regex_is_counted_and_the_stream_goes_on(tmp_path: Path) -> None:
    result = summary(slow_pack(tmp_path))
    assert (("mine.slow", 2),) == result.regex_timeouts
    assert (("gunicorn.worker_timeout", 2),) == result.matches
    assert 4 == result.lines


def test_without_a_budget_each_search_keeps_its_own_timeout(tmp_path: Path) -> None:
    result = summary(slow_pack(tmp_path), budget=False)
    assert (("mine.slow", 2),) == result.regex_timeouts
    assert (("gunicorn.worker_timeout", 2),) == result.matches


def test_off_the_main_thread_the_regex_package_keeps_the_budget(tmp_path: Path) -> None:
    pack = slow_pack(tmp_path)
    results: list[Summary] = []
    worker = threading.Thread(target=lambda: results.append(summary(pack)))
    worker.start()
    worker.join()
    assert (("mine.slow", 2),) == results[0].regex_timeouts
    assert (("gunicorn.worker_timeout", 2),) == results[0].matches


def test_the_signal_and_timer_are_given_back() -> None:
    before = signal.getsignal(signal.SIGVTALRM)
    with Budget():
        assert signal.getitimer(signal.ITIMER_VIRTUAL) != (0.0, 0.0)
    assert signal.getsignal(signal.SIGVTALRM) == before
    assert signal.getitimer(signal.ITIMER_VIRTUAL) == (0.0, 0.0)


def test_a_signal_someone_else_uses_is_left_alone(tmp_path: Path) -> None:
    """With SIGVTALRM taken, the budget falls back to the per-search timeout."""

    def theirs(signum: int, frame: object) -> None:
        pass

    previous = signal.signal(signal.SIGVTALRM, theirs)
    try:
        assert (("mine.slow", 2),) == summary(slow_pack(tmp_path)).regex_timeouts
        assert signal.getsignal(signal.SIGVTALRM) is theirs
    finally:
        signal.signal(signal.SIGVTALRM, previous)
