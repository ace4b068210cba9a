"""The command line: options become a frozen config, and one function runs it. Nothing else."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, ParamSpec

import typer

from logscan import insights
from logscan.commands import run_scan, run_watch
from logscan.config import (
    FailOn,
    OutputFormat,
    ScanConfig,
    WatchConfig,
    check_max_line,
    check_pattern_paths,
    parse_timezone,
)
from logscan.errors import ConfigError, LogscanError
from logscan.framing import InputFormat
from logscan.options import (
    Files,
    GroupOption,
    InputFormatOption,
    MaxLineOption,
    OutputOption,
    PatternPaths,
    TimezoneOption,
)
from logscan.patterns import PatternSet, load_patterns
from logscan.pipeline import records
from logscan.sources.batch import open_source

app = typer.Typer(
    help="Find crash loops and overload in model-server logs, with evidence and what to change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
patterns_app = typer.Typer(help="List and try the signature packs.", no_args_is_help=True)
app.add_typer(patterns_app, name="patterns")

_P = ParamSpec("_P")


def _user_errors(command: Callable[_P, None]) -> Callable[_P, None]:
    """Errors the user can fix (bad option, pack, file) end the command with one line, exit 2."""

    @functools.wraps(command)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except LogscanError as error:
            sys.stderr.write(f"logscan: error: {error}\n")
            raise typer.Exit(2) from None

    return wrapper


def _output(chosen: OutputFormat | None) -> OutputFormat:
    """--format, else the console view on a terminal and JSON lines in a pipe."""
    if chosen is not None:
        return chosen
    return OutputFormat.CONSOLE if sys.stdout.isatty() else OutputFormat.JSON


def _colour() -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (no-color.org)."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


@app.command("scan")
@_user_errors
def scan_command(
    files: Files,
    output: OutputOption = None,
    input_format: InputFormatOption = InputFormat.AUTO,
    timezone: TimezoneOption = "UTC",
    patterns: PatternPaths = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 when an incident this severe opened.")
    ] = FailOn.WARNING,
    max_line: MaxLineOption = 65536,
    group: GroupOption = "",
) -> None:
    """Replay captured logs and report the incidents in them.

    Exit status: 0 no incident at or above --fail-on, 1 one opened, 2 usage or config error.
    """
    config = ScanConfig(
        output=_output(output),
        input_format=input_format,
        timezone=parse_timezone(timezone),
        pattern_paths=check_pattern_paths(tuple(patterns or ())),
        fail_on=fail_on,
        max_line=check_max_line(max_line),
        group=group,
        colour=_colour(),
    )
    raise typer.Exit(run_scan(config, [open_source(spec) for spec in files]))


_JOURNALD = "journald (--journald)"
_KUBECTL = "kubectl (--kubectl)"


@app.command("watch")
@_user_errors
def watch_command(
    targets: Annotated[
        list[str] | None, typer.Argument(help="Files and globs to follow, or - for stdin.")
    ] = None,
    output: OutputOption = None,
    from_start: Annotated[
        bool,
        typer.Option("--from-start", help="Read what the files (or the journal) already hold."),
    ] = False,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="SQLite file: resume where the last run stopped."),
    ] = None,
    input_format: InputFormatOption = InputFormat.AUTO,
    timezone: TimezoneOption = "UTC",
    patterns: PatternPaths = None,
    max_line: MaxLineOption = 65536,
    group: GroupOption = "",
    journald: Annotated[
        bool,
        typer.Option(
            "--journald",
            help="Follow `journalctl --follow --output=json`.",
            rich_help_panel=_JOURNALD,
        ),
    ] = False,
    unit: Annotated[
        list[str] | None,
        typer.Option(
            "--unit", "-u", help="journalctl --unit (repeatable).", rich_help_panel=_JOURNALD
        ),
    ] = None,
    directory: Annotated[
        str | None,
        typer.Option("--directory", help="journalctl --directory.", rich_help_panel=_JOURNALD),
    ] = None,
    journal_file: Annotated[
        list[str] | None,
        typer.Option("--file", help="journalctl --file (repeatable).", rich_help_panel=_JOURNALD),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="journalctl --since (when not resuming).", rich_help_panel=_JOURNALD
        ),
    ] = None,
    journalctl_bin: Annotated[
        str, typer.Option("--journalctl-bin", help="journalctl to run.", rich_help_panel=_JOURNALD)
    ] = "journalctl",
    kubectl: Annotated[
        str | None,
        typer.Option(
            "--kubectl",
            metavar="TARGET",
            help="Follow `kubectl logs --follow --timestamps --prefix TARGET` (pod, deploy/NAME).",
            rich_help_panel=_KUBECTL,
        ),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="kubectl --namespace.", rich_help_panel=_KUBECTL),
    ] = None,
    container: Annotated[
        str | None,
        typer.Option("--container", "-c", help="kubectl --container.", rich_help_panel=_KUBECTL),
    ] = None,
    all_containers: Annotated[
        bool,
        typer.Option(
            "--all-containers", help="kubectl --all-containers.", rich_help_panel=_KUBECTL
        ),
    ] = False,
    selector: Annotated[
        str | None,
        typer.Option(
            "--selector",
            "-l",
            help="kubectl --selector (with or instead of TARGET).",
            rich_help_panel=_KUBECTL,
        ),
    ] = None,
    kubectl_bin: Annotated[
        str, typer.Option("--kubectl-bin", help="kubectl to run.", rich_help_panel=_KUBECTL)
    ] = "kubectl",
) -> None:
    """Follow logs live and report incidents as they open, update and resolve.

    Files are read from their end (new files from their start), through rotation by rename,
    copytruncate, truncation, deletion or a re-pointed symlink. `-` reads stdin until EOF.
    --journald follows journalctl, resuming by cursor; --kubectl follows kubectl logs and
    restarts it when the container dies. SIGINT/SIGTERM stop reading, flush, print the
    summary, commit --state and exit 0.
    """
    import logging  # only `watch` logs (live sources, state file): `scan` starts without it

    from logscan.sources.journald import journald_query  # live sources: only `watch` needs them
    from logscan.sources.kubectl import kubectl_query

    # logscan's own diagnostics go to stderr.
    logging.basicConfig(format="logscan: %(levelname)s: %(message)s", level=logging.WARNING)
    targets = targets or []
    following_kubectl = kubectl is not None or bool(selector)
    _needs("--journald", journald, {"--unit": unit, "--directory": directory,
                                    "--file": journal_file, "--since": since})  # fmt: skip
    _needs("--kubectl TARGET or --selector", following_kubectl, {"--namespace": namespace,
           "--container": container, "--all-containers": all_containers})  # fmt: skip
    if not (targets or journald or following_kubectl):
        raise ConfigError("watch: nothing to follow (name files, -, --journald or --kubectl)")
    journald_config = None
    if journald:
        journald_config = journald_query(
            units=unit or (),
            directory=directory,
            files=journal_file or (),
            since=since,
            binary=journalctl_bin,
        )
    kubectl_config = None
    if following_kubectl:
        kubectl_config = kubectl_query(
            kubectl or "",
            namespace=namespace,
            container=container,
            all_containers=all_containers,
            selector=selector,
            binary=kubectl_bin,
        )
    config = WatchConfig(
        output=_output(output),
        files=tuple(target for target in targets if target != "-"),
        stdin="-" in targets,
        journald=journald_config,
        kubectl=kubectl_config,
        from_start=from_start,
        state_path=state,
        input_format=input_format,
        timezone=parse_timezone(timezone),
        pattern_paths=check_pattern_paths(tuple(patterns or ())),
        max_line=check_max_line(max_line),
        group=group,
        colour=_colour(),
    )
    raise typer.Exit(run_watch(config))


def _needs(flag: str, given: bool, options: Mapping[str, object]) -> None:
    """Options of one source kind are an error without the flag that turns it on."""
    if not given:
        for name, value in options.items():
            if value:
                raise ConfigError(f"{name}: only with {flag}")


@patterns_app.command("list")
@_user_errors
def patterns_list(patterns: PatternPaths = None) -> None:
    """Every signature (pack, id, signal) and every rule."""
    pack = load_patterns(check_pattern_paths(tuple(patterns or ())))
    for signature in pack.signatures:
        typer.echo(f"{signature.pack:10} {signature.id:40} -> {signature.signal}")
        if signature.description:
            typer.echo(f"{'':10} {signature.description}")
    typer.echo("")
    for rule in pack.rules:
        signals = ", ".join(sorted(rule.signals))
        typer.echo(f"{rule.pack:10} rule {rule.kind:29} {rule.type} on {signals}")


@patterns_app.command("test")
@_user_errors
def patterns_test(
    files: Files,
    patterns: PatternPaths = None,
    input_format: InputFormatOption = InputFormat.AUTO,
    timezone: TimezoneOption = "UTC",
) -> None:
    """Per signature: hits, with line numbers; then error-looking lines nothing matched."""
    from logscan.coverage import coverage  # only this command needs it: `scan` starts faster

    pack: PatternSet = load_patterns(check_pattern_paths(tuple(patterns or ())))
    sources = [open_source(spec) for spec in files]
    merged = records(sources, input_format=input_format, timezone=parse_timezone(timezone))
    report = coverage(merged, pack)
    typer.echo(f"{report.lines} records")
    for hits in report.hits:
        where = ", ".join(hits.places) + (" ..." if hits.count > len(hits.places) else "")
        typer.echo(f"{hits.count:7}  {hits.signature:40} {where}")
    typer.echo(f"\n{report.unmatched_total} error-looking records matched no signature")
    for line in report.unmatched:
        typer.echo(f"  {line.source}:{line.number}: {line.text.partition(chr(10))[0]}")


@app.command("explain")
@_user_errors
def explain(
    kind: Annotated[str, typer.Argument(help="An incident kind, e.g. crash_loop.")],
) -> None:
    """What an incident kind means, why it happens, and what to change."""
    found = insights.explain(kind)
    if not found:
        known = ", ".join(insights.kinds())
        raise LogscanError(f"explain: unknown incident kind {kind!r} (known: {known})")
    for cause, insight in found:
        typer.echo(f"{kind}" + (f" (cause: {cause})" if cause else ""))
        typer.echo(f"  {insight.summary}")
        for step in insight.remediation:
            typer.echo(f"  - {step}")
        typer.echo("")


def main() -> None:
    """Entry point of the `logscan` command."""
    app()
