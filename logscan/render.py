"""Events as text: the JSON-lines contract (DESIGN.md, "Output contract") and the console view.

Both are pure functions from an event to a string; the CLI writes them and flushes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from logscan.model import Incident, IncidentEvent, IncidentState, Severity
from logscan.pipeline import BATCH_READ_TIME, Event, Summary

_COLOURS = {Severity.INFO: "36", Severity.WARNING: "33", Severity.CRITICAL: "31;1"}


def iso_time(ts: float) -> str | None:
    """RFC 3339 in UTC; milliseconds only when the time has a fraction. None when no time was
    known: in a replay, records without any timestamp (uvicorn's default format) sit at 0."""
    if ts <= BATCH_READ_TIME:
        return None
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")


def _number(value: float) -> float | int:
    return int(value) if value == int(value) else round(value, 3)


def event_dict(event: Event) -> dict[str, Any]:
    """The JSON object of one event, fields in the contract's order."""
    if isinstance(event, Summary):
        summary: dict[str, Any] = {
            "event": "summary",
            "lines": event.lines,
            "matches": dict(event.matches),
            "incidents": dict(event.incidents),
            "open": event.open,
            "seconds": _number(event.seconds),
        }
        if event.regex_timeouts:
            summary["regex_timeouts"] = dict(event.regex_timeouts)
        return summary
    incident = event.incident
    return {
        "event": f"incident.{event.state}",
        "id": incident.id,
        "kind": incident.kind,
        "severity": str(incident.severity),
        "group": incident.group,
        "source": incident.source,
        "cause": incident.cause,
        "first_seen": iso_time(incident.first_seen),
        "last_seen": iso_time(incident.last_seen),
        "count": incident.count,
        "window_s": _number(incident.window_s),
        "signals": dict(incident.signals),
        "evidence": [
            {"source": e.source, "line": e.line, "text": e.text} for e in incident.evidence
        ],
        "insight": incident.insight,
        "remediation": list(incident.remediation),
    }


def to_json(event: Event) -> str:
    """One line of JSON, no trailing newline."""
    return json.dumps(event_dict(event), ensure_ascii=False, separators=(", ", ": "))


def to_console(event: Event, *, colour: bool = False) -> str:
    """A few lines a person reads at a glance."""
    if isinstance(event, Summary):
        return _summary_text(event)
    return _incident_text(event, colour=colour)


def _incident_text(event: IncidentEvent, *, colour: bool) -> str:
    incident = event.incident
    severity = incident.severity.upper()
    if colour:
        severity = f"\x1b[{_COLOURS[incident.severity]}m{severity}\x1b[0m"
    when = iso_time(event.at) or "time unknown"
    head = (
        f"{when}  {event.state.upper():8} {severity:8} {incident.kind}"
        f"  group={incident.group}  cause={incident.cause or '-'}  count={incident.count}"
    )
    if event.state is not IncidentState.OPENED:
        return head
    lines = [head, f"  seen {_span(incident)} in {incident.source}"]
    lines += [f"  | {e.source}:{e.line}: {_first_line(e.text)}" for e in incident.evidence[:8]]
    if len(incident.evidence) > 8:
        lines.append(f"  | ... {len(incident.evidence) - 8} more evidence lines")
    if incident.insight:
        lines.append(f"  why: {incident.insight}")
    lines += [f"  fix: {step}" for step in incident.remediation]
    return "\n".join(lines)


def _span(incident: Incident) -> str:
    if incident.first_seen <= BATCH_READ_TIME:
        return "at unknown times (the lines carry no timestamp)"
    return f"{iso_time(incident.first_seen)} .. {iso_time(incident.last_seen)}"


def _first_line(text: str) -> str:
    """A record on one line: a traceback shows its header and its last line, the exception."""
    head, _, rest = text.partition("\n")
    if not rest:
        return head
    last = rest.rsplit("\n", 1)[-1].strip()
    return f"{head} ... {last} [{rest.count(chr(10)) + 2} lines]"


def _summary_text(summary: Summary) -> str:
    incidents = ", ".join(f"{kind}: {n}" for kind, n in summary.incidents) or "none"
    matched = sum(n for _, n in summary.matches)
    text = (
        f"summary: {summary.lines} lines, {matched} matched, incidents opened: {incidents}"
        f" ({summary.open} still open), {_number(summary.seconds)} s of log"
    )
    if summary.regex_timeouts:
        slow = ", ".join(f"{ident} x{n}" for ident, n in summary.regex_timeouts)
        text += f"\nwarning: signatures over their time budget (skipped): {slow}"
    return text
