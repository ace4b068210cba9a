"""Command-line options that several commands share, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from logscan.config import OutputFormat
from logscan.framing import InputFormat

Files = Annotated[list[str], typer.Argument(help="Log files (.gz too), or - for stdin.")]
PatternPaths = Annotated[
    list[Path] | None,
    typer.Option("--patterns", help="Extra pack file or directory of packs (repeatable)."),
]
InputFormatOption = Annotated[
    InputFormat,
    typer.Option("--input-format", help="Envelope of every line; auto recognises each line."),
]
OutputOption = Annotated[
    OutputFormat | None,
    typer.Option("--format", help="json: one event per line. Default: console on a terminal."),
]
GroupOption = Annotated[
    str,
    typer.Option(
        "--group",
        help="Group (service) for lines with no pod/unit envelope, so several files of one "
        "service correlate. Default: each file is its own group.",
    ),
]
MaxLineOption = Annotated[
    int, typer.Option("--max-line-length", help="Longer lines are cut and flagged.")
]
TimezoneOption = Annotated[
    str, typer.Option("--timezone", help="Zone of timestamps without one (UTC, IANA, +HH:MM).")
]
