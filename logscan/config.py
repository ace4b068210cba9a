"""Run configuration: a frozen value built once from the command line and validated at start.

Anything wrong here stops the run before it reads a line, with one line naming the option and
the reason (ConfigError, exit 2).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from logscan.errors import ConfigError
from logscan.framing import InputFormat
from logscan.model import Severity

if TYPE_CHECKING:  # only annotations here: `scan` does not import the live sources
    from logscan.sources.journald import JournaldQuery
    from logscan.sources.kubectl import KubectlQuery


class OutputFormat(enum.StrEnum):
    """How events are written to stdout."""

    CONSOLE = "console"
    JSON = "json"


class FailOn(enum.StrEnum):
    """The least severe incident that makes `scan` exit 1."""

    NONE = "none"
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    def fails(self, severity: Severity) -> bool:
        return self is not FailOn.NONE and severity.rank >= Severity(self.value).rank


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanConfig:
    """Everything `logscan scan` needs besides its inputs."""

    output: OutputFormat
    input_format: InputFormat = InputFormat.AUTO
    timezone: tzinfo = UTC
    pattern_paths: tuple[Path, ...] = ()
    fail_on: FailOn = FailOn.WARNING
    max_line: int = 65536
    colour: bool = False
    group: str = ""  # for lines with no pod/unit envelope; "" = each source its own group


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchConfig:
    """Everything `logscan watch` needs."""

    output: OutputFormat
    files: tuple[str, ...] = ()  # paths and globs to follow
    stdin: bool = False
    journald: JournaldQuery | None = None  # --journald: follow journalctl
    kubectl: KubectlQuery | None = None  # --kubectl: follow kubectl logs
    from_start: bool = False
    state_path: Path | None = None
    input_format: InputFormat = InputFormat.AUTO
    timezone: tzinfo = UTC
    pattern_paths: tuple[Path, ...] = ()
    max_line: int = 65536
    colour: bool = False
    group: str = ""  # for lines with no pod/unit envelope; "" = each source its own group


def parse_timezone(name: str) -> tzinfo:
    """`UTC`, an IANA name like `Europe/Berlin`, or a fixed offset like `+02:00`."""
    if name.upper() in {"UTC", "Z"}:
        return UTC
    if name[:1] in "+-" and len(name) in (5, 6):
        digits = name[1:].replace(":", "")
        if digits.isdigit() and len(digits) == 4:
            sign = -1 if name[0] == "-" else 1
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            return timezone(sign * offset)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # only for a named zone: start-up time

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"--timezone: unknown time zone {name!r} (use UTC, an IANA name or +HH:MM)"
        ) from None


def check_pattern_paths(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    """Each --patterns path must exist (a pack file or a directory of packs)."""
    for path in paths:
        if not path.exists():
            raise ConfigError(f"--patterns: {path}: no such file or directory")
    return paths


def check_max_line(value: int) -> int:
    if value < 256:
        raise ConfigError(f"--max-line-length: must be at least 256 bytes, got {value}")
    return value
