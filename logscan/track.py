"""Tracks: what one rule knows about one group key, and the incident it opens from them.

The correlator keeps a Track per (rule, group key): the rule's window, the context signals
that change how it counts, and its open incident, if any.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from logscan.incident import OpenIncident
from logscan.model import Severity
from logscan.rules import Rule, RuleType
from logscan.window import CountWindow, RatioWindow, cause_of

NEVER = float("-inf")


@dataclass(slots=True)
class Track:
    """What one rule knows about one group key."""

    rule: Rule
    window: CountWindow | RatioWindow
    last_unless: float = NEVER
    last_anchor: float = NEVER
    # Workers booted while deaths were already counted: replacements, by pid, with boot time.
    replacements: dict[str, float] = field(default_factory=dict)
    incident: OpenIncident | None = None

    @classmethod
    def of(cls, rule: Rule) -> Track:
        """A new track for `rule`, with an empty window of the rule's kind."""
        window = RatioWindow(rule) if rule.type is RuleType.RATIO else CountWindow(rule)
        return cls(rule, window)

    def count(self) -> int:
        """What the window counts now: rejections for a ratio rule, else events."""
        window = self.window
        return window.totals()[0] if isinstance(window, RatioWindow) else window.count

    def open(self, key: str, severity: Severity) -> OpenIncident:
        """The incident the rule opens now for group `key`, from what the window holds."""
        window = self.window
        if isinstance(window, RatioWindow):
            matches = list(window.evidence)
            causes = Counter(cause_of(m) for m in matches)
            views = window.views()
        else:
            entries = window.entries()
            matches = [entry.match for entry in entries]
            causes = Counter(entry.cause for entry in entries)
            views = []
        return OpenIncident.start(
            self.rule, key, matches, causes=causes, count=self.count(), severity=severity,
            views=views,
        )  # fmt: skip


class Lane(NamedTuple):
    """What a quiet plan does in one group: the tracks whose "after" period it ends, and the
    ratio rules whose requests it adds to (rule, track, window, whether it can be
    suppressed)."""

    ends: tuple[Track, ...]
    counts: tuple[tuple[Rule, Track, RatioWindow, bool], ...]


def weighing(rule: Rule, track: Track) -> tuple[Any, ...]:
    """A ratio rule's track as logscan/_native_weigh.c and _native_reject.c read it: (window,
    length, min_count, min_ratio, track, critical_ratio, the severities the rule's severity
    does not rise above, those critical does not rise above)."""
    return (
        track.window,
        float(rule.window),
        rule.min_count,
        float(rule.min_ratio),
        track,
        float(rule.critical_ratio),
        _not_below(rule.severity),
        _not_below(Severity.CRITICAL),
    )


def _not_below(severity: Severity) -> tuple[Severity, ...]:
    """The severities an incident can have that `severity` does not rise above."""
    return tuple(other for other in Severity if other.rank >= severity.rank)


def calm_until(incident: OpenIncident, rule: Rule) -> float:
    """A time before which `incident` cannot be due to resolve, whatever comes: last_seen
    only grows. A second early, so that rounding cannot make it late."""
    return incident.last_seen + rule.resolve_after - 1.0
