"""An incident while it is open: what it has counted, its causes and its evidence.

Mutable inside the correlator; `freeze()` gives the immutable Incident each event carries.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from logscan import insights
from logscan.model import Evidence, Incident, Match, Severity
from logscan.rules import Rule, RuleType
from logscan.window import EVIDENCE_CAP, WEAK_CAUSES


@dataclass(slots=True, kw_only=True)
class OpenIncident:
    """One incident from the moment its rule first held until it resolves.

    logscan/_native_weigh.c moves `last_seen`, and logscan/_native_reject.c counts a
    rejection into `causes`, `signals`, `evidence`, `views`, `count` and `last_seen`, as
    Python does (tests/test_reject.py compares): a change to these fields is a change there."""

    rule: Rule
    id: str
    first_seen: float
    last_seen: float
    severity: Severity
    count: int
    reported_count: int  # the count at the last event, to update when it doubles
    causes: Counter[str] = field(default_factory=Counter)
    signals: Counter[str] = field(default_factory=Counter)
    evidence: list[Match] = field(default_factory=list)
    views: list[int] = field(default_factory=list)  # ratio rules: rejections per numerator view

    @classmethod
    def start(
        cls,
        rule: Rule,
        key: str,
        matches: Sequence[Match],
        *,
        causes: Counter[str],
        count: int,
        severity: Severity,
        views: list[int],
    ) -> OpenIncident:
        """The incident for a rule that has just started to hold: its window is the evidence."""
        first_seen = min(m.line.ts for m in matches)
        # Stable across runs and restarts: the same incident in the same input has the same id.
        digest = hashlib.sha256(f"{rule.kind}\0{key}\0{first_seen!r}".encode()).hexdigest()
        return cls(
            rule=rule,
            id=digest[:16],
            first_seen=first_seen,
            last_seen=max(m.line.ts for m in matches),
            severity=severity,
            count=count,
            reported_count=count,
            causes=causes,
            signals=Counter(m.signal for m in matches),
            evidence=list(matches[:EVIDENCE_CAP]),
            views=views,
        )

    def note(self, match: Match, cause: str) -> None:
        """One more counted line while open. It does not move `last_seen`: that is when the
        rule last held, and a trickle below the threshold must let the incident resolve."""
        self.causes[cause] += 1
        self.signals[match.signal] += 1
        if len(self.evidence) >= EVIDENCE_CAP:
            # Keep the first half (how it began) and a rolling second half (how it is going).
            del self.evidence[EVIDENCE_CAP // 2]
        self.evidence.append(match)

    def refine(self, weak: str, specific: str) -> None:
        """A counted worker's weak cause (`exit`) turned out to be a specific one."""
        self.causes[weak] -= 1
        self.causes[specific] += 1

    @property
    def cause(self) -> str:
        """The most frequent stated cause; one derived from a status (`http_503`) only when
        none was stated, and a weak one (`exit`) only when nothing more is known."""
        ranked = sorted(
            self.causes.items(),
            key=lambda item: (
                item[0] in WEAK_CAUSES,
                item[0].startswith("http_"),
                -item[1],
                item[0],
            ),
        )
        return next((cause for cause, n in ranked if n > 0), "")

    def freeze(self) -> Incident:
        """The incident as an event reports it now."""
        rule = self.rule
        cause = self.cause
        insight, remediation = insights.lookup(rule.kind, cause)
        first = self.evidence[0].line
        return Incident(
            id=self.id,
            kind=rule.kind,
            severity=self.severity,
            group=first.group or first.source,
            source=first.source,
            cause=cause,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            count=self.count,
            window_s=rule.anchor_within if rule.type is RuleType.AFTER else rule.window,
            signals=tuple(sorted(self.signals.items())),
            evidence=tuple(_evidence(m) for m in self.evidence),
            insight=insight,
            remediation=remediation,
        )


def _evidence(match: Match) -> Evidence:
    return Evidence(source=match.line.source, line=match.line.number, text=match.line.text)
