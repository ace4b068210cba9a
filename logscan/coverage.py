"""`logscan patterns test`: what each signature matches in a log, and what looks like trouble
but matches nothing (the lines a new signature should be written for)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from logscan.model import Line
from logscan.patterns import PatternSet

# Error-looking: a logging level of ERROR or worse, a traceback, an exception line, or a 5xx
# status after a quoted request line. Deliberately broad: it only suggests where to look.
_TROUBLE = re.compile(
    r"\b(?:ERROR|CRITICAL|FATAL|Traceback|Exception)\b|\w(?:Error|Exception): |\" 5\d\d "
)
LINES_SHOWN = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class Hits:
    """How often one signature matched, and where (the first LINES_SHOWN places)."""

    signature: str
    signal: str
    count: int
    places: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """Every signature's hits (zero included) and the error-looking lines nothing matched."""

    hits: tuple[Hits, ...]
    unmatched: tuple[Line, ...]
    unmatched_total: int
    lines: int


def coverage(records: Iterable[Line], patterns: PatternSet) -> Coverage:
    """Match every record; count hits per signature, keep a sample of unmatched trouble."""
    counts = {s.id: 0 for s in patterns.signatures}
    places: dict[str, list[str]] = {s.id: [] for s in patterns.signatures}
    unmatched: list[Line] = []
    unmatched_total = lines = 0
    for line in records:
        lines += 1
        match = patterns.match(line)
        if match is None:
            if _TROUBLE.search(line.text):
                unmatched_total += 1
                if len(unmatched) < LINES_SHOWN * 5:
                    unmatched.append(line)
            continue
        counts[match.signature] += 1
        if len(places[match.signature]) < LINES_SHOWN:
            places[match.signature].append(f"{line.source}:{line.number}")
    hits = tuple(
        Hits(signature=s.id, signal=s.signal, count=counts[s.id], places=tuple(places[s.id]))
        for s in patterns.signatures
    )
    return Coverage(
        hits=hits, unmatched=tuple(unmatched), unmatched_total=unmatched_total, lines=lines
    )
