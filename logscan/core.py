"""The Core: matching and correlation with the run's counters, the part batch and live share.

`scan` (pipeline.py) and `watch` (runner.py) frame records and hand them here, a feed's at a
time; the Core matches each, feeds the correlator and counts what the summary reports.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from logscan import accel
from logscan.access import Record, Request
from logscan.assembly import Tally
from logscan.budget import Budget
from logscan.correlator import Correlator
from logscan.model import Fields, IncidentEvent, IncidentState, Line, Match
from logscan.patterns import PatternSet, Signature
from logscan.plans import Plan
from logscan.track import Lane, Track, weighing
from logscan.window import EVIDENCE_CAP

if TYPE_CHECKING:
    from logscan._native import Requests

_REQUESTS_CACHE = 4096
_FOUND_CACHE = 1024  # texts kept with what the packs find in them
_FOUND_TEXT = 200  # longer texts (tracebacks) are not kept
_UNSEEN: Any = object()
_weigh = accel.native.weigh if accel.native is not None else None


def _weighable(lane: Lane) -> tuple[tuple[Track, ...], tuple[tuple[Any, ...], ...]] | None:
    """A quiet lane as logscan/_native_weigh.c takes it (ends, counts), or None where a rule
    it counts for can be suppressed (Python works that out)."""
    if any(suppressible for *_, suppressible in lane.counts):
        return None
    return lane.ends, tuple(weighing(rule, track) for rule, track, _, _ in lane.counts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """What a run saw: records, matches by signature id, incidents opened by kind."""

    lines: int
    matches: tuple[tuple[str, int], ...]
    incidents: tuple[tuple[str, int], ...]
    open: int
    seconds: float  # event time the input spans, from its first record to its last
    regex_timeouts: tuple[tuple[str, int], ...] = ()


class Core:
    """Matching and correlation with the run's counters: the part batch and live share.

    Fed records (a feed's at a time), it returns the incident events they cause; `advance`
    moves event time on when no record does (live mode's clock).
    """

    __slots__ = (
        "_correlator", "_found", "_laned", "_lanes", "_matches", "_opened", "_patterns",
        "_requests", "_timeouts", "tally",
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
        # By group, then (method, path, status): the quiet lanes the C part weighs with.
        self._lanes: dict[str, dict[tuple[str, ...], Any]] = {}
        self._laned = 0  # how many lanes are in _lanes
        # What the packs find in a short record's text: some recur word for word (uvicorn's
        # "Exceeded concurrency limit." is a tenth of a busy pod's matches).
        self._found: dict[str, tuple[Signature, Fields] | None] = {}

    def __getstate__(self) -> dict[str, object]:
        """Everything but the compiled packs, which a restart loads afresh (see rebind), and
        what is worked out from them."""
        kept = set(self.__slots__) - {"_found", "_lanes", "_laned", "_patterns", "_requests"}
        return {name: getattr(self, name) for name in sorted(kept)}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._requests, self._lanes, self._laned, self._found = {}, {}, 0, {}

    def rebind(self, patterns: PatternSet) -> None:
        """Attach the packs after unpickling (the same packs: the state store checks)."""
        self._patterns = patterns

    @property
    def watermark(self) -> float:
        """The largest event time seen so far (-inf before the first record)."""
        return self._correlator.watermark

    def process(self, line: Record, budget: Budget | None = None) -> list[IncidentEvent]:
        """The events one record causes (often none). `budget` keeps the regex time budget
        (see budget.py); without one each search keeps its own."""
        return self.process_all([line], budget)

    def process_all(
        self, records: list[Record], budget: Budget | None = None
    ) -> list[IncidentEvent]:
        """`process` for each of `records` in turn: the events they cause, in order. Where
        the C part is built, it counts the runs of requests that change nothing but counts
        (logscan/_native_weigh.c), and the rest come here one by one."""
        events: list[IncidentEvent] = []
        request, line, correlator = self._request, self._line, self._correlator
        at, end = 0, len(records)
        while at < end:
            record = records[at]
            if _weigh is not None and isinstance(record, tuple):  # (only with access.py's)
                counted = _weigh(
                    records, at, self._lanes, correlator.watermark, correlator.calm_until
                )
                at = self._weighed(counted)
                if at == end:
                    break
                record = records[at]
            if isinstance(record, Line):
                found = line(record, budget)
            elif isinstance(record, tuple):
                found = request(record)
            else:  # a run of requests the C lane made
                found = self._run(record)
            if found:
                events += found
            at += 1
        for event in events:
            if event.state is IncidentState.OPENED:
                self._opened[event.incident.kind] += 1
        return events

    def _run(self, run: Requests) -> list[IncidentEvent]:
        """`process_all` for a run of requests (logscan/_native_requests.c): the C part
        counts those that change nothing but counts, and each other one comes here as its
        tuple."""
        assert _weigh is not None  # (runs come from the C part)
        events: list[IncidentEvent] = []
        correlator = self._correlator
        at, end = 0, len(run)
        while at < end:
            weighed = _weigh(run, at, self._lanes, correlator.watermark, correlator.calm_until)
            at = self._weighed(weighed)
            if at < end:
                events += self._request(run[at])
                at += 1
        return events

    def _line(self, line: Line, budget: Budget | None) -> list[IncidentEvent]:
        self.tally.add(line.ts)
        if line.literals is not None and not line.literals:
            return []  # most records: no literal of any signature in it
        found = self._found.get(line.text, _UNSEEN)
        if found is _UNSEEN:
            found = self._find(line, budget)
        if found is None:
            return []
        signature, fields = found
        self._matches[signature.id] += 1
        return self._correlator.observe_fields(signature.id, signature.signal, fields, line)

    def _find(self, line: Line, budget: Budget | None) -> tuple[Signature, Fields] | None:
        """What the packs find in `line`, kept for its text when it is short and no search ran
        out of time (a later search might not)."""
        timeouts = self._timeouts.total()
        found = self._patterns.find(line, self._timeouts, budget)
        if len(line.text) <= _FOUND_TEXT and self._timeouts.total() == timeouts:
            if len(self._found) >= _FOUND_CACHE:
                self._found.clear()  # bounded: texts can vary without end
            self._found[line.text] = found
        return found

    def _request(self, request: Request) -> list[IncidentEvent]:
        """`process` for a record a request signature matched (see access.py): the same
        events, from the groups the C lane found; a Line only when a rule may keep it."""
        source, number, ts, text, group, values, kind = request
        access = self._patterns.access
        assert access is not None
        signature = access.signatures[kind]  # (all share their signal and fields: see access.py)
        self.tally.add(ts)
        self._matches[signature.id] += 1
        known = self._requests.get(values)
        if known is None:
            fields = signature.fields_of(values)
            known = (fields, self._correlator.plan(signature.signal, fields))
            if len(self._requests) < _REQUESTS_CACHE:  # paths can vary without end
                self._requests[values] = known
        fields, plan = known
        key = group or source
        if _weigh is not None:
            self._add_lane(key, values, plan, fields)
        if plan.quiet:
            return self._correlator.observe_quiet(plan, ts, key)
        line = Line(
            source=source, number=number, text=text, ts=ts, ts_inferred=False, group=group,
            truncated=False, literals=access.literals[kind],
        )  # fmt: skip
        return self._correlator.observe_fields(signature.id, signature.signal, fields, line)

    def _add_lane(self, key: str, values: tuple[str, ...], plan: Plan, fields: Fields) -> None:
        """Give the C part the lane of a request it did not have (bounded: paths vary
        without end)."""
        lanes = self._lanes.setdefault(key, {})
        if values not in lanes and self._laned < _REQUESTS_CACHE:
            lanes[values] = self._lane_of(key, plan, fields)
            self._laned += 1

    def _lane_of(self, key: str, plan: Plan, fields: Fields) -> tuple[Any, ...] | None:
        """A request's lane as logscan/_native_weigh.c takes it: a quiet plan's (see
        _weighable), or a rejection's (see rejection() there), or None (Python's)."""
        correlator = self._correlator
        if plan.quiet:
            return _weighable(correlator.lanes.quiet(plan, key))
        entries = correlator.lanes.rejection(plan, key)
        access = self._patterns.access
        if entries is None or access is None:
            return None
        ids = tuple(signature.id for signature in access.signatures)
        signal = access.signatures[0].signal  # (all share their signal and fields: access.py)
        return (entries, Line, Match, signal, fields, ids, access.literals, EVIDENCE_CAP)

    def _weighed(self, weighed: tuple[int, float, int, float, float, tuple[int, ...]]) -> int:
        """Account for the requests the C part counted; the index of the next record."""
        end, watermark, counted, earliest, latest, by_kind = weighed
        if counted:
            access = self._patterns.access
            assert access is not None
            self.tally.merge(counted, earliest, latest)
            for signature, count in zip(access.signatures, by_kind, strict=False):
                if count:
                    self._matches[signature.id] += count
            self._correlator.weighed(watermark)
        return end

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
