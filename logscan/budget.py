"""The time budget a signature's regex gets per record, kept by a CPU-time tick.

A user's regex may backtrack catastrophically; each search must stop after MATCH_TIMEOUT_S.
The `regex` package's own `timeout=` reads the process CPU clock twice per search, and that
clock is a system call (about 1.9 µs a search on the benchmark machine: more than the search).
A `Budget` instead asks the kernel for a SIGVTALRM every TICK_S of CPU time; a search that is
still the same one after the budget has passed gets TimeoutError raised inside it (both `regex`
and `re` check for signals while they backtrack). A search then costs two attribute stores.

Signals reach only the main thread, so elsewhere (or when the signal is in use) `search` falls
back to the per-search timeout. The previous handler and timer are restored on exit.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Protocol, TypeVar

MATCH_TIMEOUT_S = 0.25  # per record and signature
TICK_S = 0.05  # CPU time between looks: a search is stopped after 0.25 to 0.30 s

_M_co = TypeVar("_M_co", covariant=True)


class Searchable(Protocol[_M_co]):
    def search(self, string: str, *, timeout: float | None = ...) -> _M_co | None: ...


class Budget:
    """A context in which `search` runs each regex under MATCH_TIMEOUT_S of CPU time."""

    __slots__ = ("_armed", "_previous", "_running", "_searches", "_seen", "_ticks")

    def __init__(self) -> None:
        self._armed = False
        self._previous: object = None
        self._searches = 0  # numbers each search, so the tick can tell one from the next
        self._running = 0  # the number of the search under way; 0 between searches
        self._seen = 0  # the search under way at the last tick
        self._ticks = 0  # how many ticks in a row have seen it

    def __enter__(self) -> Budget:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGVTALRM)
            if previous in (signal.SIG_DFL, signal.SIG_IGN) and not any(
                signal.getitimer(signal.ITIMER_VIRTUAL)
            ):
                self._previous = previous
                signal.signal(signal.SIGVTALRM, self._tick)
                signal.setitimer(signal.ITIMER_VIRTUAL, TICK_S, TICK_S)
                self._armed = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._armed:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0, 0)
            signal.signal(signal.SIGVTALRM, self._previous)  # type: ignore[arg-type]
            self._armed = False

    def search(self, pattern: Searchable[_M_co], text: str) -> _M_co | None:
        """`pattern.search(text)`; TimeoutError once it has run past MATCH_TIMEOUT_S."""
        if not self._armed:
            return pattern.search(text, timeout=MATCH_TIMEOUT_S)
        self._searches += 1
        self._running = self._searches
        try:
            return pattern.search(text)
        finally:
            self._running = 0

    def _tick(self, _signum: int, _frame: FrameType | None) -> None:
        running = self._running
        if not running or running != self._seen:
            self._seen, self._ticks = running, 1
            return
        self._ticks += 1
        if (self._ticks - 1) * TICK_S >= MATCH_TIMEOUT_S:
            self._seen = self._running = 0
            raise TimeoutError(f"regex search ran past {MATCH_TIMEOUT_S} s")
