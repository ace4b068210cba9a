"""Errors logscan raises, arranged by what the caller can do about them.

LogscanError
├── ConfigError (ValueError)   bad options or config file: fix and restart (exit 2)
│   └── PatternError           a pattern pack that does not load: names file, id, reason
├── SourceError (OSError)      an input cannot be opened or read
└── SinkError                  an output cannot take events
"""

from __future__ import annotations


class LogscanError(Exception):
    """Base of every error logscan raises on purpose."""


class ConfigError(LogscanError, ValueError):
    """Configuration that cannot work; the message is one line naming where and why."""


class PatternError(ConfigError):
    """A pattern pack that does not load."""

    def __init__(self, path: str, item: str, reason: str) -> None:
        self.path = path
        self.item = item
        self.reason = reason
        where = f"{path}: {item}" if item else path
        super().__init__(f"{where}: {reason}")


class SourceError(LogscanError, OSError):
    """An input that cannot be opened or read."""


class SinkError(LogscanError):
    """An output that cannot take events."""
