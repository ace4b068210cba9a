"""Value types that cross module boundaries: records, matches, incidents and their events.

Everything here is immutable. Times are POSIX seconds (float, UTC): comparisons and window
arithmetic on floats are cheap, and rendering to RFC 3339 happens only at the output edge.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.StrEnum):
    """How urgently a person should look; ordered info < warning < critical."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class IncidentState(enum.StrEnum):
    """Lifecycle step an incident event reports."""

    OPENED = "opened"
    UPDATED = "updated"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One log record after framing: envelope removed, continuation lines joined.

    `text` is the message as the application wrote it; a joined traceback keeps its
    newlines. `number` is the 1-based physical line of the source where the record starts.
    `ts` is event time; `ts_inferred` says it was borrowed from the previous record or from
    the time the record was read, because the line itself carried none.
    `group` is the envelope's pod/container or journald unit, empty when there is none.
    `literals` are the pack literals in `text` when the framer already found them in its
    scan of the whole block (see prefilter.py); None when they are not known.
    """

    source: str
    number: int
    text: str
    ts: float
    ts_inferred: bool = False
    group: str = ""
    truncated: bool = False
    literals: frozenset[str] | None = field(default=None, compare=False)


Fields = tuple[tuple[str, str], ...]  # a match's (name, value) pairs: the pack's, then captured


def field_of(fields: Fields, name: str, default: str = "") -> str:
    """The value of field `name`, or `default`."""
    for key, value in fields:
        if key == name:
            return value
    return default


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """A record recognised by a signature: the signal it emits and the fields it carries."""

    signature: str
    signal: str
    fields: Fields
    line: Line

    def field(self, name: str, default: str = "") -> str:
        return field_of(self.fields, name, default)


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """A log record quoted in an incident."""

    source: str
    line: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """The state of one incident at the moment an event about it was emitted."""

    id: str
    kind: str
    severity: Severity
    group: str
    source: str
    cause: str
    first_seen: float
    last_seen: float
    count: int
    window_s: float
    signals: tuple[tuple[str, int], ...]
    evidence: tuple[Evidence, ...]
    insight: str = ""
    remediation: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentEvent:
    """An incident was opened, updated or resolved at event time `at`."""

    state: IncidentState
    incident: Incident
    at: float
