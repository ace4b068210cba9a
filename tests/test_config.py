"""Configuration values: parsed once at start, wrong ones named clearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from logscan.config import FailOn, check_max_line, check_pattern_paths, parse_timezone
from logscan.durations import parse_duration
from logscan.errors import ConfigError
from logscan.model import Severity


class TestTimezone:
    @pytest.mark.parametrize(
        ("name", "offset_hours"),
        [("UTC", 0), ("+02:00", 2), ("-0530", -5.5), ("Europe/Berlin", 1)],
    )
    def test_names_and_offsets(self, name: str, offset_hours: float) -> None:
        """UTC, ±HH:MM / ±HHMM and IANA names (Berlin is UTC+1 in January)."""
        zone = parse_timezone(name)
        assert timedelta(hours=offset_hours) == datetime(2024, 1, 15, tzinfo=zone).utcoffset()

    def test_unknown_zone(self) -> None:
        """An unknown zone names the option."""
        with pytest.raises(ConfigError, match="--timezone"):
            parse_timezone("Mars/Olympus")

    def test_utc_is_the_singleton(self) -> None:
        """UTC is datetime.UTC, not an equal-but-different zone."""
        assert UTC is parse_timezone("utc")


class TestChecks:
    def test_missing_pattern_path(self, tmp_path: Path) -> None:
        """A --patterns path that does not exist stops the run."""
        with pytest.raises(ConfigError, match="no such file"):
            check_pattern_paths((tmp_path / "absent",))

    def test_tiny_max_line(self) -> None:
        """A line cap too small to hold a log header is refused."""
        with pytest.raises(ConfigError, match="--max-line-length"):
            check_max_line(10)

    @pytest.mark.parametrize(
        ("fail_on", "severity", "fails"),
        [
            (FailOn.WARNING, Severity.INFO, False),
            (FailOn.WARNING, Severity.WARNING, True),
            (FailOn.WARNING, Severity.CRITICAL, True),
            (FailOn.CRITICAL, Severity.WARNING, False),
            (FailOn.NONE, Severity.CRITICAL, False),
        ],
    )
    def test_fail_on(self, fail_on: FailOn, severity: Severity, fails: bool) -> None:
        """--fail-on X fails for X and anything more severe; none never fails."""
        assert fails == fail_on.fails(severity)


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "seconds"), [("500ms", 0.5), ("30s", 30), ("5m", 300), ("1h", 3600), (90, 90)]
    )
    def test_units(self, text: str | int, seconds: float) -> None:
        """Durations in ms, s, m, h, or plain seconds."""
        assert seconds == parse_duration(text)

    @pytest.mark.parametrize("text", ["soon", "5 minutes", "-3s", True])
    def test_refused(self, text: object) -> None:
        """Anything else is a ValueError that says what was expected."""
        with pytest.raises(ValueError, match=r"duration|negative"):
            parse_duration(text)
