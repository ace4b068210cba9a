"""The batch pipeline: byte streams in, incident events and a summary out.

`scan()` is pure: it is handed the sources' chunks (the CLI opens the files), never reads a
clock, and gives the same events for the same input. Several sources are merged in event time;
rules group records by their envelope's pod or unit, and records without one by their source.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any, cast

from logscan.access import Access, Record
from logscan.budget import Budget
from logscan.core import Core, Summary
from logscan.framing import Framer, InputFormat, Tally
from logscan.model import IncidentEvent, Line
from logscan.patterns import PatternSet
from logscan.prefilter import Prefilter
from logscan.timestamps import TimestampParser

__all__ = ["BATCH_READ_TIME", "Core", "Event", "Source", "Summary", "records", "scan"]

# A batch has no meaningful read time: a record with no timestamp and no earlier record gets
# this one, so replaying a file gives the same output on every run.
BATCH_READ_TIME = 0.0


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
    group: str = "",
    budget: Budget | None = None,
) -> Iterator[Event]:
    """Incident events in event-time order, then one Summary. `group` is the group of records
    without an envelope naming one (else each source is its own group). A `budget` (entered
    by the caller: it sets a CPU-time signal) keeps the regex time budget more cheaply than
    each search's own timeout (see budget.py)."""
    core = Core(patterns)
    sources = list(sources)
    batches: Iterable[list[Record]]
    if len(sources) == 1:  # a feed's records at once; requests come as tuples or runs (access.py)
        batches = _batches(
            sources[0], input_format=input_format, timestamps=TimestampParser(tz=timezone),
            max_line=max_line, group=group, prefilter=patterns.prefilter, tally=core.tally,
            access=patterns.access,
        )  # fmt: skip
    else:
        merged = records(
            sources, input_format=input_format, timezone=timezone, max_line=max_line,
            group=group, prefilter=patterns.prefilter,
        )  # fmt: skip
        batches = ([line] for line in merged)
    for batch in batches:
        yield from core.process_all(batch, budget)
    yield from core.advance(core.watermark)
    yield core.summary()


def records(
    sources: Iterable[Source],
    *,
    input_format: InputFormat = InputFormat.AUTO,
    timezone: tzinfo = UTC,
    max_line: int = 65536,
    group: str = "",
    prefilter: Prefilter[Any] | None = None,
    tally: Tally | None = None,
) -> Iterator[Line]:
    """Every source's records, merged in event time (ties keep the sources' order). With the
    packs' `prefilter`, records carry the literals they contain (see Framer); with a `tally`
    too, a single source's records that contain none are counted there, not returned. (With
    several, every record stays: leaving some out would change how unsorted streams merge.)"""
    sources = list(sources)
    if len(sources) > 1:
        tally = None
    streams = [
        cast(
            Iterator[Line],  # without access, the framer makes Lines only
            itertools.chain.from_iterable(
                _batches(
                    source,
                    input_format=input_format,
                    timestamps=TimestampParser(tz=timezone),
                    max_line=max_line,
                    group=group,
                    prefilter=prefilter,
                    tally=tally,
                    access=None,
                )
            ),
        )
        for source in sources
    ]
    return heapq.merge(*streams, key=lambda line: line.ts)


def _batches(
    source: Source,
    *,
    input_format: InputFormat,
    timestamps: TimestampParser,
    max_line: int,
    group: str,
    prefilter: Prefilter[Any] | None,
    tally: Tally | None,
    access: Access | None,
) -> Iterator[list[Record]]:
    """The source's records, a feed's at a time."""
    framer = Framer(
        source=source.name,
        input_format=input_format,
        timestamps=timestamps,
        max_line=max_line,
        group=group,
        prefilter=prefilter,
        tally=tally,
        access=access,
    )
    for chunk in source.chunks:
        yield framer.feed(chunk, BATCH_READ_TIME)
    yield framer.close(BATCH_READ_TIME)
