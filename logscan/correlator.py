"""The correlator: matches in, incident events out. Pure: time comes only from the matches
and from `advance(now)`, so the same input always gives the same events.

For each (rule, group key) a Track holds the rule's window and, once the rule holds, the open
incident. An incident is opened when its rule first holds, updated when its severity rises or
its count doubles, and resolved once the rule has not held for `resolve_after`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from logscan.incident import OpenIncident
from logscan.model import Incident, IncidentEvent, IncidentState, Match, Severity
from logscan.rules import Role, Rule, RuleType
from logscan.window import CountWindow, RatioWindow, cause_of

_NEVER = float("-inf")
_PLAN_CACHE = 65536
_BY_GROUP = ("group",)


@dataclass(slots=True)
class _Track:
    """What one rule knows about one group key."""

    rule: Rule
    window: CountWindow | RatioWindow
    last_unless: float = _NEVER
    last_anchor: float = _NEVER
    # Workers booted while deaths were already counted: replacements, by pid, with boot time.
    replacements: dict[str, float] = field(default_factory=dict)
    incident: OpenIncident | None = None


class Correlator:
    """Turns matches into incident events, in event time."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = tuple(rules)
        self._by_signal: defaultdict[str, list[Rule]] = defaultdict(list)
        for rule in self._rules:
            for signal in sorted(rule.signals):
                self._by_signal[signal].append(rule)
        self._tracks: dict[tuple[str, str], _Track] = {}
        self._open: dict[tuple[str, str], _Track] = {}  # the tracks with an open incident
        # What a match does to each rule depends only on its signal and the values of the
        # fields the rules look at: worked out once per combination (see Rule.role).
        self._fields = {
            signal: tuple(sorted({name for rule in rules for name in rule.fields}))
            for signal, rules in self._by_signal.items()
        }
        self._plans: dict[tuple[str, ...], tuple[tuple[Rule, Role], ...]] = {}
        self._watermark = _NEVER

    def __getstate__(self) -> dict[str, object]:
        """A state snapshot leaves out the plan cache, which is rebuilt as matches come."""
        return {name: value for name, value in vars(self).items() if name != "_plans"}

    def __setstate__(self, state: dict[str, object]) -> None:
        vars(self).update(state, _plans={})

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
        events = self.advance(match.line.ts) if match.line.ts > self._watermark else []
        for rule, role in self._plan(match):
            key = _group_key(rule, match)
            track = self._tracks.get((rule.kind, key))
            if track is None:
                track = self._tracks[(rule.kind, key)] = _Track(rule, _new_window(rule))
            if event := self._feed(rule, role, key, track, match):
                events.append(event)
        return events

    def _plan(self, match: Match) -> tuple[tuple[Rule, Role], ...]:
        """The rules `match` affects, with what it does to each (a 200 is nothing to the
        error-burst rule)."""
        signal = match.signal
        key = (signal, *(match.field(name) for name in self._fields.get(signal, ())))
        plan = self._plans.get(key)
        if plan is None:
            roles = ((rule, rule.role(match)) for rule in self._by_signal.get(signal, ()))
            plan = tuple((rule, role) for rule, role in roles if role.affects)
            if len(self._plans) < _PLAN_CACHE:  # paths can vary without end
                self._plans[key] = plan
        return plan

    def advance(self, now: float) -> list[IncidentEvent]:
        """Move event time to `now` (never backwards); resolve incidents that went quiet."""
        if now <= self._watermark:
            return []
        self._watermark = now
        due = []
        for name, track in self._open.items():
            incident = track.incident
            if incident is not None and now - incident.last_seen >= track.rule.resolve_after:
                due.append((incident.last_seen + track.rule.resolve_after, incident.id, name))
        events = []
        for at, _, name in sorted(due, key=lambda item: (item[0], item[1])):
            track = self._open.pop(name)
            assert track.incident is not None
            frozen = track.incident.freeze()
            track.incident = None
            events.append(IncidentEvent(state=IncidentState.RESOLVED, incident=frozen, at=at))
        return events

    def _feed(
        self, rule: Rule, role: Role, key: str, track: _Track, match: Match
    ) -> IncidentEvent | None:
        ts = match.line.ts
        self._note_context(rule, role, track, match)
        if ts < self._watermark - rule.window:
            return None  # too late to count: its window has already passed
        track.window.prune(self._watermark)
        if isinstance(track.window, RatioWindow):
            counted = self._count_ratio(rule, role, track, track.window, match)
        else:
            counted = self._count(rule, role, track, track.window, match)
        if not counted:
            return None
        severity = self._severity(rule, track)
        if severity is None:
            return None
        return self._open_or_update(rule, key, track, match, severity)

    def _note_context(self, rule: Rule, role: Role, track: _Track, match: Match) -> None:
        """Record the signals that change how others count: reloads, start-ups, boots."""
        ts = match.line.ts
        if role.unless:
            track.last_unless = max(track.last_unless, ts)
        if role.anchor:
            track.last_anchor = max(track.last_anchor, ts)
        elif role.until:
            track.last_anchor = _NEVER  # the service answered: it is no longer starting
        if role.replacement:
            # Log order, not timestamps, says a boot came after a death: with whole-second
            # stamps a replacement often shares its second with the death it replaces.
            track.window.prune(self._watermark)
            if _window_count(track) or track.incident is not None:
                track.replacements[match.field(rule.distinct)] = ts
            horizon = self._watermark - rule.window
            for worker in [w for w, at in track.replacements.items() if at < horizon]:
                del track.replacements[worker]

    def _suppressed(self, rule: Rule, track: _Track, ts: float) -> bool:
        if rule.unless and ts - track.last_unless <= rule.unless.within:
            return True
        return rule.type is RuleType.AFTER and ts - track.last_anchor > rule.anchor_within

    def _count(
        self, rule: Rule, role: Role, track: _Track, window: CountWindow, match: Match
    ) -> bool:
        if not role.selected or self._suppressed(rule, track, match.line.ts):
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
        self, rule: Rule, role: Role, track: _Track, window: RatioWindow, match: Match
    ) -> bool:
        if self._suppressed(rule, track, match.line.ts):
            return False
        numerator, denominator = role.selected, role.denominator
        if not numerator and not denominator:
            return False
        window.add(match, numerator, denominator)
        incident = track.incident
        if numerator and incident is not None:
            incident.note(match, cause_of(match))
            for index in numerator:
                incident.views[index] += 1
            # The views are alternative records of the same rejections: count the largest.
            incident.count = max(incident.views)
        return True

    def _severity(self, rule: Rule, track: _Track) -> Severity | None:
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
    def _replacement_died(track: _Track, window: CountWindow) -> bool:
        """A counted worker was booted after a death: the replacements die too."""
        return any(str(key) in track.replacements for key in window.distinct_keys())

    def _open_or_update(
        self, rule: Rule, key: str, track: _Track, match: Match, severity: Severity
    ) -> IncidentEvent | None:
        ts = match.line.ts
        incident = track.incident
        if incident is None:
            if self._explained(rule, key):
                return None
            track.incident = _open(key, track, severity)
            self._open[(rule.kind, key)] = track
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


def _new_window(rule: Rule) -> CountWindow | RatioWindow:
    return RatioWindow(rule) if rule.type is RuleType.RATIO else CountWindow(rule)


def _group_key(rule: Rule, match: Match) -> str:
    line = match.line
    if rule.group_by == _BY_GROUP:
        return line.group or line.source
    parts = [
        (line.group or line.source) if name == "group" else match.field(name)
        for name in rule.group_by
    ]
    return "/".join(parts)


def _open(key: str, track: _Track, severity: Severity) -> OpenIncident:
    window = track.window
    if isinstance(window, RatioWindow):
        matches = list(window.evidence)
        causes = Counter(cause_of(m) for m in matches)
        views = window.views()
    else:
        entries = window.entries()
        matches = [entry.match for entry in entries]
        causes = Counter(entry.cause for entry in entries)
        views = []
    count = _window_count(track)
    return OpenIncident.start(
        track.rule, key, matches, causes=causes, count=count, severity=severity, views=views
    )


def _window_count(track: _Track) -> int:
    window = track.window
    return window.totals()[0] if isinstance(window, RatioWindow) else window.count
