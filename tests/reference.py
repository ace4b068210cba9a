"""The slow, obviously right path that every fast path is checked against.

A plain per-line matcher: every signature in priority order, its regex searched on the
record's text, no prefilter, no caching. And a plain pipeline around it: framing, this
matcher, the correlator. Differential tests compare `logscan.scan` with these.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from logscan.correlator import Correlator
from logscan.model import IncidentEvent, Line, Match
from logscan.patterns import PatternSet
from logscan.pipeline import Source, records


def reference_match(pack: PatternSet, line: Line) -> Match | None:
    """The first signature whose regex matches, trying each in order."""
    for signature in pack.signatures:
        found = signature.pattern.search(line.text)
        if found is not None:
            fields = tuple((k, v) for k, v in found.groupdict().items() if v is not None)
            return Match(
                signature=signature.id, signal=signature.signal,
                fields=signature.fields + fields, line=line,
            )  # fmt: skip
    return None


def reference_scan(
    pack: PatternSet, sources: Iterable[Source]
) -> tuple[list[IncidentEvent], Counter[str], int]:
    """Incident events, matches by signature id and the record count, the plain way."""
    correlator = Correlator(pack.rules)
    events: list[IncidentEvent] = []
    matches: Counter[str] = Counter()
    lines = 0
    latest = float("-inf")
    for line in records(sources):
        lines += 1
        latest = max(latest, line.ts)
        match = reference_match(pack, line)
        if match is not None:
            matches[match.signature] += 1
            events += correlator.observe(match)
    events += correlator.advance(latest)
    return events, matches, lines
