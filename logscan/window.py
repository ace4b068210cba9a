"""Sliding windows in event time: what one rule has counted for one group key.

A window never reads a clock: `prune(now)` is told the time. Memory is bounded by the window's
length, never by the length of the stream: count windows keep one entry per counted event (one
per distinct value when the rule has `distinct`), ratio windows keep one bucket per second.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from logscan.model import Match
from logscan.rules import Rule

# Causes that only say a worker went away; any specific cause seen for the same worker wins
# (gunicorn logs a timed-out worker as TIMEOUT, then "Worker exiting", then maybe SIGKILL).
WEAK_CAUSES = frozenset({"", "exit"})
EVIDENCE_CAP = 20


def cause_of(match: Match) -> str:
    """The cause a match states, or its HTTP status as `http_NNN`."""
    cause = match.field("cause")
    if not cause and (status := match.field("status")):
        return f"http_{status}"
    return cause


@dataclass(slots=True)
class Entry:
    """One counted event; for a distinct rule, the first line of that worker's death."""

    ts: float
    cause: str
    match: Match


class CountWindow:
    """Counted events of a threshold, after or single rule, keyed for de-duplication."""

    __slots__ = ("_entries", "_length", "_sequence")

    def __init__(self, rule: Rule) -> None:
        self._entries: dict[object, Entry] = {}
        self._length = rule.window
        self._sequence = 0

    def add(self, key: object, match: Match) -> tuple[Entry, str | None]:
        """The entry counted under `key` (new when its match is `match`), and the weak cause
        it had when this line refined it (None when nothing changed)."""
        if key is None:
            self._sequence += 1
            key = self._sequence
        cause = cause_of(match)
        known = self._entries.get(key)
        if known is None:
            known = self._entries[key] = Entry(ts=match.line.ts, cause=cause, match=match)
            return known, None
        if known.cause in WEAK_CAUSES and cause not in WEAK_CAUSES:
            replaced, known.cause = known.cause, cause
            return known, replaced
        return known, None

    def prune(self, now: float) -> None:
        horizon = now - self._length
        while self._entries:
            first = next(iter(self._entries))
            if self._entries[first].ts >= horizon:
                break
            del self._entries[first]

    @property
    def count(self) -> int:
        return len(self._entries)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def distinct_keys(self) -> list[object]:
        return list(self._entries)


class RatioWindow:
    """Per-second counts of numerator selectors and the denominator, plus recent evidence.

    Running totals are kept as buckets enter and leave, so asking for them on every request
    costs nothing however long the window is. The C part works on these slots as Python
    does: logscan/_native_held.c (for _native_weigh.c) reads `_buckets`, `_denominator`,
    `_rejected` and `_selectors`, adds quiet requests to the newest bucket (or a new one),
    takes out leaving buckets without rejections and writes `_denominator` back;
    logscan/_native_reject.c adds rejections, to `_views` and `evidence` too. A change to their
    layout is a change there too (tests/test_access.py and tests/test_reject.py compare).
    """

    __slots__ = (
        "_buckets", "_denominator", "_length", "_rejected", "_selectors", "_views", "evidence",
    )  # fmt: skip

    def __init__(self, rule: Rule) -> None:
        self._length = rule.window
        self._selectors = len(rule.select)
        # each bucket: [second, denominator, numerator per selector...]
        self._buckets: deque[list[int]] = deque()
        self._denominator = 0
        self._views = [0] * self._selectors
        self._rejected = 0  # max(self._views), kept as they change: asked on every request
        self.evidence: deque[Match] = deque(maxlen=EVIDENCE_CAP)

    def add(self, match: Match, numerator: Sequence[int], denominator: bool) -> None:
        bucket = self._bucket(int(match.line.ts))
        bucket[1] += denominator
        self._denominator += denominator
        for index in numerator:
            bucket[2 + index] += 1
            self._views[index] += 1
        if numerator:
            self._rejected = max(self._views)
            self.evidence.append(match)

    def add_request(self, ts: float) -> None:
        """A request that no numerator selector counts: `add` without a match to keep."""
        self._bucket(int(ts))[1] += 1
        self._denominator += 1

    def request(self, ts: float, now: float) -> int:
        """`prune(now)`, then `add_request(ts)` (the quiet path's step); the rejections the
        window then holds."""
        self.prune(now)
        self.add_request(ts)
        return self._rejected

    def _bucket(self, second: int) -> list[int]:
        if not self._buckets or self._buckets[-1][0] < second:
            self._buckets.append([second, 0, *([0] * self._selectors)])
        return self._buckets[-1] if self._buckets[-1][0] <= second else self._find(second)

    def _find(self, second: int) -> list[int]:
        """The bucket for an out-of-order second (rare: interleaved sources)."""
        for bucket in reversed(self._buckets):
            if bucket[0] <= second:
                return bucket
        return self._buckets[0]

    def prune(self, now: float) -> None:
        horizon = now - self._length
        buckets = self._buckets
        while buckets and buckets[0][0] + 1 <= horizon:
            gone = buckets.popleft()
            self._denominator -= gone[1]
            for index in range(self._selectors):
                self._views[index] -= gone[2 + index]
            self._rejected = max(self._views, default=0)

    def views(self) -> list[int]:
        """How many rejections each numerator selector saw in the window."""
        return list(self._views)

    def totals(self) -> tuple[int, int]:
        """(rejected, requests): the largest numerator view, and requests counting those."""
        numerator = self._rejected
        return numerator, max(self._denominator, numerator)
