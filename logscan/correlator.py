"""The correlator: matches in, incident events out. Pure: time comes only from the matches
and from `advance(now)`, so the same input always gives the same events.

For each (rule, group key) a Track holds the rule's window and, once the rule holds, the open
incident. An incident is opened when its rule first holds, updated when its severity rises or
its count doubles, and resolved once the rule has not held for `resolve_after`.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from logscan import insights
from logscan.model import Evidence, Incident, IncidentEvent, IncidentState, Match, Severity
from logscan.rules import Rule, RuleType
from logscan.window import EVIDENCE_CAP, WEAK_CAUSES, CountWindow, RatioWindow, cause_of

_NEVER = float("-inf")


@dataclass(slots=True, kw_only=True)
class _Open:
    """An incident while it is open; mutable here, frozen into Incident for each event."""

    id: str
    first_seen: float
    last_seen: float
    severity: Severity
    count: int
    reported_count: int
    causes: Counter[str] = field(default_factory=Counter)
    signals: Counter[str] = field(default_factory=Counter)
    evidence: list[Match] = field(default_factory=list)
    views: list[int] = field(default_factory=list)  # ratio rules: rejections per numerator view


@dataclass(slots=True)
class _Track:
    """What one rule knows about one group key."""

    window: CountWindow | RatioWindow
    last_unless: float = _NEVER
    last_anchor: float = _NEVER
    boots: dict[str, float] = field(default_factory=dict)
    incident: _Open | None = None


class Correlator:
    """Turns matches into incident events, in event time."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = tuple(rules)
        self._by_signal: defaultdict[str, list[Rule]] = defaultdict(list)
        for rule in self._rules:
            for signal in sorted(rule.signals):
                self._by_signal[signal].append(rule)
        self._tracks: dict[tuple[str, str], _Track] = {}
        self._watermark = _NEVER

    @property
    def watermark(self) -> float:
        """The largest event time seen so far."""
        return self._watermark

    def open_incidents(self) -> list[Incident]:
        """Incidents opened and not yet resolved, in the order they were opened."""
        found = []
        for (kind, _), track in self._tracks.items():
            if track.incident is not None:
                rule = next(r for r in self._rules if r.kind == kind)
                found.append((track.incident.first_seen, self._freeze(rule, track)))
        return [incident for _, incident in sorted(found, key=lambda pair: pair[0])]

    def observe(self, match: Match) -> list[IncidentEvent]:
        """Events caused by one match (resolutions due before it come first)."""
        events = self.advance(match.line.ts)
        for rule in self._by_signal.get(match.signal, ()):
            key = _group_key(rule, match)
            track = self._tracks.get((rule.kind, key))
            if track is None:
                track = self._tracks[(rule.kind, key)] = _Track(_new_window(rule))
            if event := self._feed(rule, key, track, match):
                events.append(event)
        return events

    def advance(self, now: float) -> list[IncidentEvent]:
        """Move event time to `now` (never backwards); resolve incidents that went quiet."""
        if now <= self._watermark:
            return []
        self._watermark = now
        due = []
        for (kind, _), track in self._tracks.items():
            incident = track.incident
            if incident is None:
                continue
            rule = next(r for r in self._rules if r.kind == kind)
            if now - incident.last_seen >= rule.resolve_after:
                due.append((incident.last_seen + rule.resolve_after, incident.id, rule, track))
        events = []
        for at, _, rule, track in sorted(due, key=lambda item: (item[0], item[1])):
            frozen = self._freeze(rule, track)
            track.incident = None
            events.append(IncidentEvent(state=IncidentState.RESOLVED, incident=frozen, at=at))
        return events

    def _feed(self, rule: Rule, key: str, track: _Track, match: Match) -> IncidentEvent | None:
        ts = match.line.ts
        self._note_context(rule, track, match)
        if ts < self._watermark - rule.window:
            return None  # too late to count: its window has already passed
        track.window.prune(self._watermark)
        if isinstance(track.window, RatioWindow):
            counted = self._count_ratio(rule, track, track.window, match)
        else:
            counted = self._count(rule, track, track.window, match)
        if not counted:
            return None
        severity = self._severity(rule, track)
        if severity is None:
            return None
        return self._open_or_update(rule, key, track, match, severity)

    def _note_context(self, rule: Rule, track: _Track, match: Match) -> None:
        """Record the signals that change how others count: reloads, start-ups, boots."""
        ts = match.line.ts
        if rule.unless and match.signal in rule.unless.signals:
            track.last_unless = max(track.last_unless, ts)
        if rule.anchor and rule.anchor.selects(match):
            track.last_anchor = max(track.last_anchor, ts)
        elif any(selector.selects(match) for selector in rule.until):
            track.last_anchor = _NEVER  # the service answered: it is no longer starting
        if match.signal == rule.critical_on_replacement and rule.distinct:
            track.boots[match.field(rule.distinct)] = ts
            horizon = self._watermark - rule.window
            for worker in [w for w, at in track.boots.items() if at < horizon]:
                del track.boots[worker]

    def _suppressed(self, rule: Rule, track: _Track, ts: float) -> bool:
        if rule.unless and ts - track.last_unless <= rule.unless.within:
            return True
        return rule.type is RuleType.AFTER and ts - track.last_anchor > rule.anchor_within

    def _count(self, rule: Rule, track: _Track, window: CountWindow, match: Match) -> bool:
        selected = any(selector.selects(match) for selector in rule.select)
        if not selected or self._suppressed(rule, track, match.line.ts):
            return False
        if rule.distinct:
            key: object = match.field(rule.distinct) or None
        else:
            key = None if rule.count_duplicates else (match.line.text, match.line.ts)
        entry, refined_from = window.add(key, match)
        incident = track.incident
        if entry.match is not match:
            if incident is not None and refined_from is not None:
                incident.causes[refined_from] -= 1
                incident.causes[entry.cause] += 1
            return False
        if incident is not None:
            _note(incident, match, entry.cause)
            incident.count += 1
        return True

    def _count_ratio(self, rule: Rule, track: _Track, window: RatioWindow, match: Match) -> bool:
        if self._suppressed(rule, track, match.line.ts):
            return False
        numerator = [i for i, selector in enumerate(rule.select) if selector.selects(match)]
        denominator = any(selector.selects(match) for selector in rule.denominator)
        if not numerator and not denominator:
            return False
        window.add(match, numerator, denominator)
        incident = track.incident
        if numerator and incident is not None:
            _note(incident, match, cause_of(match))
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
        """A counted worker booted after the first death: the replacements die too."""
        entries = window.entries()
        first = track.incident.first_seen if track.incident else entries[0].ts
        return any(track.boots.get(str(key), _NEVER) > first for key in window.distinct_keys())

    def _open_or_update(
        self, rule: Rule, key: str, track: _Track, match: Match, severity: Severity
    ) -> IncidentEvent | None:
        ts = match.line.ts
        incident = track.incident
        if incident is None:
            if self._explained(rule, key):
                return None
            track.incident = _open(rule, key, track, severity)
            return IncidentEvent(
                state=IncidentState.OPENED, incident=self._freeze(rule, track), at=ts
            )
        incident.last_seen = max(incident.last_seen, ts)
        rose = severity.rank > incident.severity.rank
        if rose:
            incident.severity = severity
        if not rose and incident.count < 2 * incident.reported_count:
            return None
        incident.reported_count = incident.count
        return IncidentEvent(state=IncidentState.UPDATED, incident=self._freeze(rule, track), at=ts)

    def _explained(self, rule: Rule, key: str) -> bool:
        """Another open incident in the same group already accounts for these signals."""
        tracks = (self._tracks.get((kind, key)) for kind in rule.explained_by)
        return any(track is not None and track.incident is not None for track in tracks)

    def _freeze(self, rule: Rule, track: _Track) -> Incident:
        incident = track.incident
        assert incident is not None
        cause = _main_cause(incident.causes)
        insight, remediation = insights.lookup(rule.kind, cause)
        first = incident.evidence[0].line
        return Incident(
            id=incident.id,
            kind=rule.kind,
            severity=incident.severity,
            group=first.group or first.source,
            source=first.source,
            cause=cause,
            first_seen=incident.first_seen,
            last_seen=incident.last_seen,
            count=incident.count,
            window_s=rule.anchor_within if rule.type is RuleType.AFTER else rule.window,
            signals=tuple(sorted(incident.signals.items())),
            evidence=tuple(_evidence(m) for m in incident.evidence),
            insight=insight,
            remediation=remediation,
        )


def _new_window(rule: Rule) -> CountWindow | RatioWindow:
    return RatioWindow(rule) if rule.type is RuleType.RATIO else CountWindow(rule)


def _group_key(rule: Rule, match: Match) -> str:
    line = match.line
    parts = [
        (line.group or line.source) if name == "group" else match.field(name)
        for name in rule.group_by
    ]
    return "/".join(parts)


def _open(rule: Rule, key: str, track: _Track, severity: Severity) -> _Open:
    """The incident for a rule that has just started to hold: its window is the evidence."""
    window = track.window
    views: list[int] = []
    if isinstance(window, RatioWindow):
        matches = list(window.evidence)
        causes = Counter(cause_of(m) for m in matches)
        views = window.views()
    else:
        entries = window.entries()
        matches = [entry.match for entry in entries]
        causes = Counter(entry.cause for entry in entries)
    first_seen = min(m.line.ts for m in matches)
    # Stable across runs and restarts: the same incident in the same input has the same id.
    digest = hashlib.sha256(f"{rule.kind}\0{key}\0{first_seen!r}".encode()).hexdigest()
    count = _window_count(track)
    return _Open(
        id=digest[:16],
        first_seen=first_seen,
        last_seen=max(m.line.ts for m in matches),
        severity=severity,
        count=count,
        reported_count=count,
        causes=causes,
        signals=Counter(m.signal for m in matches),
        evidence=matches[:EVIDENCE_CAP],
        views=views,
    )


def _window_count(track: _Track) -> int:
    window = track.window
    return window.totals()[0] if isinstance(window, RatioWindow) else window.count


def _note(incident: _Open, match: Match, cause: str) -> None:
    incident.causes[cause] += 1
    incident.signals[match.signal] += 1
    incident.last_seen = max(incident.last_seen, match.line.ts)
    if len(incident.evidence) >= EVIDENCE_CAP:
        # Keep the first half (how it began) and a rolling second half (how it is going).
        del incident.evidence[EVIDENCE_CAP // 2]
    incident.evidence.append(match)


def _main_cause(causes: Counter[str]) -> str:
    """The most frequent stated cause; one derived from a status (`http_503`) only when none
    was stated, and a weak one (`exit`) only when nothing more is known."""
    ranked = sorted(
        causes.items(),
        key=lambda item: (item[0] in WEAK_CAUSES, item[0].startswith("http_"), -item[1], item[0]),
    )
    return next((cause for cause, n in ranked if n > 0), "")


def _evidence(match: Match) -> Evidence:
    return Evidence(source=match.line.source, line=match.line.number, text=match.line.text)
