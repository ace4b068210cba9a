"""The correlator: matches in, incident events out. Pure: time comes only from the matches
and from `advance(now)`, so the same input always gives the same events.

For each (rule, group key) a Track holds the rule's window and, once the rule holds, the open
incident. An incident is opened when its rule first holds, updated when its severity rises or
its count doubles, and resolved once the rule has not held for `resolve_after`.
"""

from __future__ import annotations

from collections.abc import Sequence

from logscan import accel
from logscan.lanes import Lanes
from logscan.model import (
    Fields,
    Incident,
    IncidentEvent,
    IncidentState,
    Line,
    Match,
    Severity,
)
from logscan.plans import BY_GROUP, Plan, Plans
from logscan.rules import Role, Rule, RuleType
from logscan.track import NEVER, Track, calm_until
from logscan.window import EVIDENCE_CAP, CountWindow, RatioWindow, cause_of

_reject = accel.native.reject if accel.native is not None else None


class Correlator:
    """Turns matches into incident events, in event time."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = tuple(rules)
        self._plans = Plans(self._rules)
        self._tracks: dict[tuple[str, str], Track] = {}
        self._open: dict[tuple[str, str], Track] = {}  # the tracks with an open incident
        self._watermark = NEVER
        # Event time before which no open incident can be due to resolve (see advance).
        self._calm_until = NEVER
        self.lanes = Lanes(self._track)  # what quiet and rejected matches do, by group

    def __getstate__(self) -> dict[str, object]:
        """A state snapshot leaves out the plans and lanes, worked out again as matches come."""
        return {k: v for k, v in vars(self).items() if k not in {"_plans", "lanes"}}

    def __setstate__(self, state: dict[str, object]) -> None:
        vars(self).update(state)
        self._plans = Plans(self._rules)
        self.lanes = Lanes(self._track)
        self._calm_until = NEVER  # worked out again at the next advance

    @property
    def watermark(self) -> float:
        """The largest event time seen so far."""
        return self._watermark

    def open_incidents(self) -> list[Incident]:
        """Incidents opened and not yet resolved, in the order they were opened."""
        found = [track.incident for track in self._tracks.values() if track.incident is not None]
        return [incident.freeze() for incident in sorted(found, key=lambda i: i.first_seen)]

    def observe(self, match: Match) -> list[IncidentEvent]:
        """Events caused by one match (resolutions due before it come first)."""
        return self.observe_fields(match.signature, match.signal, match.fields, match.line, match)

    def observe_fields(
        self, signature: str, signal: str, fields: Fields, line: Line, match: Match | None = None
    ) -> list[IncidentEvent]:
        """`observe` for a match given by its parts: the Match is built only when a rule may
        keep it (as evidence, or for a field it groups by); most requests need none. Where
        the C part is built, a rejection that changes only counts and evidence is counted
        there (logscan/_native_reject.c), and the rest come to _feed."""
        plan = self._plans.of(signal, fields)
        if match is None:
            if plan.quiet:
                return self.observe_quiet(plan, line.ts, line.group or line.source)
            match = Match(signature=signature, signal=signal, fields=fields, line=line)
        ts = line.ts
        if _reject is not None and (ts <= self._watermark or ts < self._calm_until):
            lane = self.lanes.rejection(plan, line.group or line.source)
            now = max(self._watermark, ts)
            if lane is not None and _reject(lane, match, ts, now, EVIDENCE_CAP):
                self._watermark = now  # advance's work: nothing resolves before calm_until
                return []
        events = self.advance(ts) if ts > self._watermark else []
        for rule, role in plan.entries:
            key = _group_key(rule, line, match)
            track = self._track(rule, key)
            if event := self._feed(rule, role, key, track, line.ts, match=match):
                events.append(event)
        return events

    def plan(self, signal: str, fields: Fields) -> Plan:
        """What a match of `signal` with `fields` does to the rules (see plans.py)."""
        return self._plans.of(signal, fields)

    def observe_quiet(self, plan: Plan, ts: float, key: str) -> list[IncidentEvent]:
        """`observe_fields` for a match whose plan is quiet, at `ts` in group `key`: all it
        needs of the match (Core.process weighs requests from the C lane with it). It does
        what `_feed` does for such a match, reduced to that (the correlator tests compare)."""
        events = self.advance(ts) if ts > self._watermark else []
        lane = self.lanes.quiet(plan, key)
        for track in lane.ends:
            track.last_anchor = NEVER  # the service answered: it is no longer starting
        watermark = self._watermark
        for rule, track, window, suppressible in lane.counts:
            if ts < watermark - rule.window:
                continue  # too late to count: its window has already passed
            if suppressible and self._suppressed(rule, track, ts):
                continue  # (its window is pruned the next time it counts: nothing reads it before)
            if window.request(ts, watermark) < rule.min_count:
                continue  # the rule cannot hold (the common case)
            severity = self._severity(rule, track)
            if severity is not None and (
                event := self._open_or_update(rule, key, track, ts, severity)
            ):
                events.append(event)
        return events

    def _track(self, rule: Rule, key: str) -> Track:
        """The track of `rule` for group `key`, new if there is none yet."""
        track = self._tracks.get((rule.kind, key))
        if track is None:
            track = self._tracks[(rule.kind, key)] = Track.of(rule)
        return track

    @property
    def calm_until(self) -> float:
        """Event time before which advance resolves nothing (see advance)."""
        return self._calm_until

    def weighed(self, watermark: float) -> None:
        """Requests weighed elsewhere (logscan/_native_weigh.c, for Core) moved event time to
        `watermark`, short of calm_until: advance's work without its (empty) result."""
        if watermark > self._watermark:
            if not watermark < self._calm_until:
                raise ValueError("requests weighed past calm_until")
            self._watermark = watermark

    def advance(self, now: float) -> list[IncidentEvent]:
        """Move event time to `now` (never backwards); resolve incidents that went quiet."""
        if now <= self._watermark:
            return []
        self._watermark = now
        if now < self._calm_until:
            return []  # most calls: nothing open is near its time
        due = []
        calm = float("inf")
        for name, track in self._open.items():
            incident = track.incident
            if incident is not None and now - incident.last_seen >= track.rule.resolve_after:
                due.append((incident.last_seen + track.rule.resolve_after, incident.id, name))
            elif incident is not None:
                calm = min(calm, calm_until(incident, track.rule))
        self._calm_until = calm
        events = []
        for at, _, name in sorted(due, key=lambda item: (item[0], item[1])):
            track = self._open.pop(name)
            assert track.incident is not None
            frozen = track.incident.freeze()
            track.incident = None
            events.append(IncidentEvent(state=IncidentState.RESOLVED, incident=frozen, at=at))
        return events

    def _feed(
        self, rule: Rule, role: Role, key: str, track: Track, ts: float, *, match: Match
    ) -> IncidentEvent | None:
        """What one match at `ts` does to one track: the reference that observe_quiet, for a
        quiet plan, must agree with (the correlator tests compare the two)."""
        self._note_context(rule, role, track, ts, match)
        if ts < self._watermark - rule.window:
            return None  # too late to count: its window has already passed
        track.window.prune(self._watermark)
        if isinstance(track.window, RatioWindow):
            counted = self._count_ratio(rule, role, track, track.window, ts=ts, match=match)
        else:
            counted = self._count(rule, role, track, track.window, ts=ts, match=match)
        if not counted:
            return None
        severity = self._severity(rule, track)
        if severity is None:
            return None
        return self._open_or_update(rule, key, track, ts, severity)

    def _note_context(self, rule: Rule, role: Role, track: Track, ts: float, match: Match) -> None:
        """Record the signals that change how others count: reloads, start-ups, boots."""
        if role.unless:
            track.last_unless = max(track.last_unless, ts)
        if role.anchor:
            track.last_anchor = max(track.last_anchor, ts)
        elif role.until:
            track.last_anchor = NEVER  # the service answered: it is no longer starting
        if role.replacement:
            # Log order, not timestamps, says a boot came after a death: with whole-second
            # stamps a replacement often shares its second with the death it replaces.
            track.window.prune(self._watermark)
            if track.count() or track.incident is not None:
                track.replacements[match.field(rule.distinct)] = ts
            horizon = self._watermark - rule.window
            for worker in [w for w, at in track.replacements.items() if at < horizon]:
                del track.replacements[worker]

    def _suppressed(self, rule: Rule, track: Track, ts: float) -> bool:
        if rule.unless and ts - track.last_unless <= rule.unless.within:
            return True
        return rule.type is RuleType.AFTER and ts - track.last_anchor > rule.anchor_within

    def _count(
        self, rule: Rule, role: Role, track: Track, window: CountWindow, *, ts: float,
        match: Match,
    ) -> bool:  # fmt: skip
        if not role.selected or self._suppressed(rule, track, ts):
            return False
        if rule.distinct:
            key: object = match.field(rule.distinct) or None
        else:
            key = None if rule.count_duplicates else (match.line.text, match.line.ts)
        entry, refined_from = window.add(key, match)
        incident = track.incident
        if entry.match is not match:
            if incident is not None and refined_from is not None:
                incident.refine(refined_from, entry.cause)
            return False
        if incident is not None:
            incident.note(match, entry.cause)
            incident.count += 1
        return True

    def _count_ratio(
        self, rule: Rule, role: Role, track: Track, window: RatioWindow, *, ts: float,
        match: Match,
    ) -> bool:  # fmt: skip
        if self._suppressed(rule, track, ts):
            return False
        numerator, denominator = role.selected, role.denominator
        if not numerator:
            if denominator:
                window.add_request(ts)
            return denominator
        window.add(match, numerator, denominator)
        incident = track.incident
        if incident is not None:
            incident.note(match, cause_of(match))
            for index in numerator:
                incident.views[index] += 1
            # The views are alternative records of the same rejections: count the largest.
            incident.count = max(incident.views)
        return True

    def _severity(self, rule: Rule, track: Track) -> Severity | None:
        """The severity the rule gives now, or None when it does not hold."""
        window = track.window
        if isinstance(window, RatioWindow):
            rejected, requests = window.totals()
            if rejected < rule.min_count or rejected < rule.min_ratio * requests:
                return None
            if rule.critical_ratio and rejected >= rule.critical_ratio * requests:
                return Severity.CRITICAL
            return rule.severity
        if window.count < rule.min_count:
            return None
        if rule.critical_on_replacement and self._replacement_died(track, window):
            return Severity.CRITICAL
        return rule.severity

    @staticmethod
    def _replacement_died(track: Track, window: CountWindow) -> bool:
        """A counted worker was booted after a death: the replacements die too."""
        return any(str(key) in track.replacements for key in window.distinct_keys())

    def _open_or_update(
        self, rule: Rule, key: str, track: Track, ts: float, severity: Severity
    ) -> IncidentEvent | None:
        incident = track.incident
        if incident is None:
            if self._explained(rule, key):
                return None
            track.incident = track.open(key, severity)
            self._open[(rule.kind, key)] = track
            self._calm_until = min(self._calm_until, calm_until(track.incident, rule))
            return IncidentEvent(
                state=IncidentState.OPENED, incident=track.incident.freeze(), at=ts
            )
        incident.last_seen = max(incident.last_seen, ts)
        rose = severity.rank > incident.severity.rank
        if rose:
            incident.severity = severity
        if not rose and incident.count < 2 * incident.reported_count:
            return None
        incident.reported_count = incident.count
        return IncidentEvent(state=IncidentState.UPDATED, incident=incident.freeze(), at=ts)

    def _explained(self, rule: Rule, key: str) -> bool:
        """Another open incident in the same group already accounts for these signals."""
        tracks = (self._tracks.get((kind, key)) for kind in rule.explained_by)
        return any(track is not None and track.incident is not None for track in tracks)


def _group_key(rule: Rule, line: Line, match: Match) -> str:
    if rule.group_by == BY_GROUP:
        return line.group or line.source
    parts = [
        (line.group or line.source) if name == "group" else match.field(name)
        for name in rule.group_by
    ]
    return "/".join(parts)
