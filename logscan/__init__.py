"""logscan: find crash loops and overload in model-server logs, with evidence and remediation."""

from logscan.errors import ConfigError, LogscanError, PatternError, SinkError, SourceError
from logscan.model import Evidence, Incident, IncidentEvent, IncidentState, Line, Match, Severity
from logscan.patterns import PatternSet, load_patterns
from logscan.pipeline import Source, Summary, scan

__all__ = [
    "ConfigError",
    "Evidence",
    "Incident",
    "IncidentEvent",
    "IncidentState",
    "Line",
    "LogscanError",
    "Match",
    "PatternError",
    "PatternSet",
    "Severity",
    "SinkError",
    "Source",
    "SourceError",
    "Summary",
    "load_patterns",
    "scan",
]
