"""The batch pipeline: byte streams in, incident events and a summary out.

`scan()` is pure: it is handed the sources' chunks (the CLI opens the files), never reads a
clock, and gives the same events for the same input. Several sources are merged in event time;
rules group records by their envelope's pod or unit, and records without one by their source.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any, cast

from logscan.access import Access, Request
from logscan.budget import Budget
from logscan.correlator import Correlator
from logscan.framing import Framer, InputFormat, Tally
from logscan.model import Fields, IncidentEvent, IncidentState, Line
from logscan.patterns import PatternSet
from logscan.plans import Plan
from logscan.prefilter import Prefilter
from logscan.timestamps import TimestampParser

_REQUESTS_CACHE = 4096

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


class Core:
    """Matching and correlation with the run's counters: the part batch and live share.

    Fed records one at a time, it returns the incident events each one causes; `advance`
    moves event time on when no record does (live mode's clock).
    """

    __slots__ = (
        "_correlator", "_matches", "_opened", "_patterns", "_requests", "_timeouts", "tally",
    )  # fmt: skip

    def __init__(self, patterns: PatternSet) -> None:
        self._patterns = patterns
        self._correlator = Correlator(patterns.rules)
        self._matches: Counter[str] = Counter()
        self._timeouts: Counter[str] = Counter()
        self._opened: Counter[str] = Counter()
        self.tally = Tally()  # framers add the records they count without emitting them
        # The fields and plan of each request's (method, path, status): they recur.
        self._requests: dict[tuple[str, ...], tuple[Fields, Plan]] = {}

    def __getstate__(self) -> dict[str, object]:
        """Everything but the compiled packs, which a restart loads afresh (see rebind), and
        what is worked out from them."""
        kept = set(self.__slots__) - {"_patterns", "_requests"}
        return {name: getattr(self, name) for name in sorted(kept)}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._requests = {}

    def rebind(self, patterns: PatternSet) -> None:
        """Attach the packs after unpickling (the same packs: the state store checks)."""
        self._patterns = patterns

    @property
    def watermark(self) -> float:
        """The largest event time seen so far (-inf before the first record)."""
        return self._correlator.watermark

    def process(self, line: Line | Request, budget: Budget | None = None) -> list[IncidentEvent]:
        """The events one record causes (often none). `budget` keeps the regex time budget
        (see budget.py); without one each search keeps its own."""
        return self.process_all((line,), budget)

    def process_all(
        self, records: Iterable[Line | Request], budget: Budget | None = None
    ) -> list[IncidentEvent]:
        """`process` for each of `records` in turn: the events they cause, in order."""
        events: list[IncidentEvent] = []
        request, line = self._request, self._line
        for record in records:
            found = request(record) if isinstance(record, tuple) else line(record, budget)
            if found:
                events += found
        for event in events:
            if event.state is IncidentState.OPENED:
                self._opened[event.incident.kind] += 1
        return events

    def _line(self, line: Line, budget: Budget | None) -> list[IncidentEvent]:
        self.tally.add(line.ts)
        if line.literals is not None and not line.literals:
            return []  # most records: no literal of any signature in it
        found = self._patterns.find(line, self._timeouts, budget)
        if found is None:
            return []
        signature, fields = found
        self._matches[signature.id] += 1
        return self._correlator.observe_fields(signature.id, signature.signal, fields, line)

    def _request(self, request: Request) -> list[IncidentEvent]:
        """`process` for a record the access signature matched (see access.py): the same
        events, from the groups the C lane found; a Line only when a rule may keep it."""
        source, number, ts, text, group, values = request
        access = self._patterns.access
        assert access is not None
        signature = access.signature
        self.tally.add(ts)
        self._matches[signature.id] += 1
        known = self._requests.get(values)
        if known is None:
            fields = signature.fields_of(values)
            known = (fields, self._correlator.plan(signature.signal, fields))
            if len(self._requests) < _REQUESTS_CACHE:  # paths can vary without end
                self._requests[values] = known
        fields, plan = known
        if plan.quiet:
            return self._correlator.observe_quiet(plan, ts, group or source)
        line = Line(
            source=source, number=number, text=text, ts=ts, ts_inferred=False, group=group,
            truncated=False, literals=access.literals,
        )  # fmt: skip
        return self._correlator.observe_fields(signature.id, signature.signal, fields, line)

    def advance(self, now: float) -> list[IncidentEvent]:
        """Resolve what went quiet by event time `now`."""
        return self._correlator.advance(now)

    def summary(self) -> Summary:
        """What the run has seen so far."""
        return Summary(
            lines=self.tally.lines,
            matches=tuple(sorted(self._matches.items())),
            incidents=tuple(sorted(self._opened.items())),
            open=len(self._correlator.open_incidents()),
            seconds=max(self.tally.latest - self.tally.earliest, 0.0),
            regex_timeouts=tuple(sorted(self._timeouts.items())),
        )


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
    batches: Iterable[Sequence[Line | Request]]
    if len(sources) == 1:  # a feed's records at once; requests may come as tuples (access.py)
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
        batches = ((line,) for line in merged)
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
) -> Iterator[list[Line | Request]]:
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
