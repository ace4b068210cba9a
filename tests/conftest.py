"""Shared helpers: build records the way framing would, and run them through the real packs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from logscan.correlator import Correlator
from logscan.model import IncidentEvent, IncidentState, Line
from logscan.patterns import PatternSet, load_patterns

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
T0 = datetime(2021, 5, 25, 1, 9, 8, tzinfo=UTC).timestamp()

# scripts/sanitize.sh runs the tests on a build with ASan, several times slower: there what
# is checked is memory, not how fast hypothesis draws or a test runs.
settings.register_profile("sanitize", deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="session")
def pack() -> PatternSet:
    return load_patterns()


def gunicorn(at: float, pid: int, level: str, message: str) -> str:
    """A line in gunicorn's error-log format at T0 + `at` seconds."""
    stamp = datetime.fromtimestamp(T0 + at, UTC).strftime("%Y-%m-%d %H:%M:%S +0000")
    return f"[{stamp}] [{pid}] [{level}] {message}"


def access(at: float, path: str, status: int, method: str = "POST") -> str:
    """A gunicorn access-log line (Common Log Format) at T0 + `at` seconds."""
    stamp = datetime.fromtimestamp(T0 + at, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'127.0.0.1 - - [{stamp}] "{method} {path} HTTP/1.1" {status} 12 "-" "curl/8.0"'


def run(
    pack: PatternSet, timed: Iterable[tuple[float, str]], *, group: str = "", ticks: bool = False
) -> list[IncidentEvent]:
    """Events from `(seconds after T0, text)` records; with `ticks`, advance between them."""
    correlator = Correlator(pack.rules)
    events: list[IncidentEvent] = []
    for number, (at, text) in enumerate(timed, 1):
        line = Line(source="test.log", number=number, text=text, ts=T0 + at, group=group)
        if ticks:
            events += correlator.advance(T0 + at - 0.5)
        match = pack.match(line)
        if match is not None:
            events += correlator.observe(match)
    return events


def opened(events: Iterable[IncidentEvent], kind: str | None = None) -> list[IncidentEvent]:
    return [
        e
        for e in events
        if e.state is IncidentState.OPENED and (kind is None or e.incident.kind == kind)
    ]
