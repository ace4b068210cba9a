"""Records on their way out of the framer: the one a group is still building (Draft), the
plain form the quick lane holds instead (Held), and the records counted, not emitted (Tally).
"""

from __future__ import annotations

from logscan.model import Line
from logscan.tracebacks import OPEN

MAX_RECORD_LINES = 200  # a joined record (a traceback) is capped at this many lines

# A record held by the quick lane (see Framer._quick and the C lane in _native_lane.c): number,
# time, text, group, literals. A plain tuple, not a Draft: most records are held once, then
# released.
Held = tuple[int, float, str, str, frozenset[str]]


class Tally:
    """How many records a run has seen and the event time they span (the summary's `lines`
    and `seconds`). The framer adds the records it counts instead of emitting them."""

    __slots__ = ("earliest", "latest", "lines")

    def __init__(self) -> None:
        self.lines = 0
        self.earliest, self.latest = float("inf"), float("-inf")

    def add(self, ts: float) -> None:
        self.lines += 1
        # Comparisons, not min() and max(): this runs for every record.
        if ts < self.earliest:  # noqa: PLR1730
            self.earliest = ts
        if ts > self.latest:  # noqa: PLR1730
            self.latest = ts

    def merge(self, lines: int, earliest: float, latest: float) -> None:
        """Add `lines` records counted elsewhere, spanning earliest to latest."""
        self.lines += lines
        self.earliest = min(self.earliest, earliest)
        self.latest = max(self.latest, latest)


class Draft:
    """A record being built: the first line's identity plus the continuation lines so far."""

    __slots__ = (
        "blank", "found", "group", "inferred", "number", "parts", "size", "state", "truncated",
        "ts",
    )  # fmt: skip

    def __init__(
        self,
        *,
        group: str,
        number: int,
        ts: float | None,
        text: str,
        truncated: bool,
        found: frozenset[str] | None,
    ) -> None:
        self.group = group
        self.number = number
        self.ts = ts
        self.inferred = False
        self.parts = [text]
        self.size = len(text)
        self.truncated = truncated
        self.found = found  # the pack literals in the text, None when not known
        self.state = OPEN
        self.blank: Line | None = None  # a blank line held until the next shows if it belongs

    def add(self, text: str, limit: int, found: frozenset[str] | None) -> None:
        """Append a line; beyond the caps it is dropped and the record flagged truncated."""
        if len(self.parts) >= MAX_RECORD_LINES or self.size + 1 + len(text) > limit:
            self.truncated = True
            return
        self.parts.append(text)
        self.size += 1 + len(text)
        if found is None or self.found is None:
            self.found = None
        elif found:
            self.found |= found

    def glue(self) -> None:
        """Make docker/CRI partial pieces one line again: they are joined without "\n"."""
        self.parts = ["".join(self.parts)]
        self.found = None  # a literal may span two pieces: the matcher looks at the text

    def text(self) -> str:
        return self.parts[0] if len(self.parts) == 1 else "\n".join(self.parts)
