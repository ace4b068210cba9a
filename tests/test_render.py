"""Rendering events for machines (JSON lines) and people (console)."""

from __future__ import annotations

import json

from logscan.model import Evidence, Incident, IncidentEvent, IncidentState, Severity
from logscan.pipeline import Summary
from logscan.render import iso_time, to_console, to_json
from tests.conftest import T0


def incident(first_seen: float = T0) -> Incident:
    return Incident(
        id="abc",
        kind="overload",
        severity=Severity.CRITICAL,
        group="bento-0",
        source="kubectl:bento-0",
        cause="http_429",
        first_seen=first_seen,
        last_seen=first_seen + 1.5,
        count=12,
        window_s=60.0,
        signals=(("request", 12),),
        evidence=(Evidence(source="a.log", line=3, text="first\nTraceback ...\nValueError: x"),),
        insight="Too much.",
        remediation=("Set traffic.max_concurrency.",),
    )


class TestTimes:
    def test_whole_seconds_and_fractions(self) -> None:
        """Seconds when whole, milliseconds otherwise, always UTC."""
        assert "2021-05-25T01:09:08+00:00" == iso_time(T0)
        assert "2021-05-25T01:09:08.250+00:00" == iso_time(T0 + 0.25)

    def test_unknown_time_is_none(self) -> None:
        """A replay of lines without timestamps has no time to show."""
        assert iso_time(0.0) is None


class TestJson:
    def test_incident_fields(self) -> None:
        """Numbers stay numbers; window_s is whole when it can be."""
        event = IncidentEvent(state=IncidentState.UPDATED, incident=incident(), at=T0 + 1)
        data = json.loads(to_json(event))
        assert "incident.updated" == data["event"]
        assert (60, 12, {"request": 12}) == (data["window_s"], data["count"], data["signals"])
        assert [
            {"source": "a.log", "line": 3, "text": "first\nTraceback ...\nValueError: x"}
        ] == data["evidence"]

    def test_one_line_per_event(self) -> None:
        """Newlines inside evidence are escaped: one event, one line."""
        event = IncidentEvent(state=IncidentState.OPENED, incident=incident(), at=T0)
        assert "\n" not in to_json(event)

    def test_summary(self) -> None:
        """The summary lists matches and incidents as objects."""
        summary = Summary(
            lines=10, matches=(("a.b", 2),), incidents=(("overload", 1),), open=1, seconds=2.5
        )
        assert {
            "event": "summary",
            "lines": 10,
            "matches": {"a.b": 2},
            "incidents": {"overload": 1},
            "open": 1,
            "seconds": 2.5,
        } == json.loads(to_json(summary))


class TestConsole:
    def test_opened_shows_evidence_and_fix(self) -> None:
        """An opened incident shows its evidence (first line of each record) and the fix."""
        text = to_console(IncidentEvent(state=IncidentState.OPENED, incident=incident(), at=T0))
        assert "OPENED   CRITICAL overload" in text
        assert "a.log:3: first ... ValueError: x [3 lines]" in text
        assert "fix: Set traffic.max_concurrency." in text

    def test_updates_are_one_line(self) -> None:
        """Updates and resolutions are a single line."""
        text = to_console(IncidentEvent(state=IncidentState.RESOLVED, incident=incident(), at=T0))
        assert 1 == len(text.splitlines())

    def test_colour_only_when_asked(self) -> None:
        """ANSI colour codes appear only with colour=True."""
        event = IncidentEvent(state=IncidentState.OPENED, incident=incident(), at=T0)
        assert "\x1b[" not in to_console(event)
        assert "\x1b[31;1m" in to_console(event, colour=True)
