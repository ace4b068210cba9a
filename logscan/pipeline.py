"""The batch pipeline: byte streams in, incident events and a summary out.

`scan()` is pure: it is handed the sources' chunks (the CLI opens the files), never reads a
clock, and gives the same events for the same input. Several sources are merged in event time,
so an error log and an access log of the same service correlate as if they were one stream.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, tzinfo

from logscan.correlator import Correlator
from logscan.framing import Framer, InputFormat
from logscan.model import IncidentEvent, IncidentState, Line
from logscan.patterns import PatternSet
from logscan.timestamps import TimestampParser

# A batch has no meaningful read time: a record with no timestamp and no earlier record gets
# this one, so replaying a file gives the same output on every run.
BATCH_READ_TIME = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """What a run saw: records, matches by signature id, incidents opened by kind."""

    lines: int
    matches: tuple[tuple[str, int], ...]
    incidents: tuple[tuple[str, int], ...]
    open: int
    seconds: float  # event time the input spans, from its first record to its last
    regex_timeouts: tuple[tuple[str, int], ...] = ()


Event = IncidentEvent | Summary


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A named byte stream: a file's chunks, stdin's, or a test's."""

    name: str
    chunks: Iterable[bytes]


def scan(
    sources: Iterable[Source],
    patterns: PatternSet,
    *,
    input_format: InputFormat = InputFormat.AUTO,
    timezone: tzinfo = UTC,
    max_line: int = 65536,
) -> Iterator[Event]:
    """Incident events in event-time order, then one Summary."""
    merged = records(sources, input_format=input_format, timezone=timezone, max_line=max_line)
    correlator = Correlator(patterns.rules)
    matches: Counter[str] = Counter()
    timeouts: Counter[str] = Counter()
    opened: Counter[str] = Counter()
    lines = 0
    earliest, latest = float("inf"), float("-inf")
    for line in merged:
        lines += 1
        earliest, latest = min(earliest, line.ts), max(latest, line.ts)
        match = patterns.match(line, timeouts)
        if match is None:
            continue
        matches[match.signature] += 1
        for event in correlator.observe(match):
            if event.state is IncidentState.OPENED:
                opened[event.incident.kind] += 1
            yield event
    yield from correlator.advance(latest)
    yield Summary(
        lines=lines,
        matches=tuple(sorted(matches.items())),
        incidents=tuple(sorted(opened.items())),
        open=len(correlator.open_incidents()),
        seconds=max(latest - earliest, 0.0),
        regex_timeouts=tuple(sorted(timeouts.items())),
    )


def records(
    sources: Iterable[Source],
    *,
    input_format: InputFormat = InputFormat.AUTO,
    timezone: tzinfo = UTC,
    max_line: int = 65536,
) -> Iterator[Line]:
    """Every source's records, merged in event time (ties keep the sources' order)."""
    streams = [
        _records(source, input_format, TimestampParser(tz=timezone), max_line) for source in sources
    ]
    return heapq.merge(*streams, key=lambda line: line.ts)


def _records(
    source: Source, input_format: InputFormat, timestamps: TimestampParser, max_line: int
) -> Iterator[Line]:
    framer = Framer(
        source=source.name, input_format=input_format, timestamps=timestamps, max_line=max_line
    )
    for chunk in source.chunks:
        yield from framer.feed(chunk, BATCH_READ_TIME)
    yield from framer.close(BATCH_READ_TIME)
