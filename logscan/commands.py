"""What each command does, given its frozen config: the glue between edges and core."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING

from logscan.budget import Budget
from logscan.config import OutputFormat, ScanConfig, WatchConfig
from logscan.model import IncidentEvent, IncidentState
from logscan.patterns import load_patterns
from logscan.pipeline import Event, Source, scan
from logscan.render import to_console, to_json

if TYPE_CHECKING:
    from logscan.sources.base import LiveSource

_COLLECT_AFTER = 100_000  # new container objects per young-generation collection (see below)


class StdoutWriter:
    """Writes each event in the chosen format and flushes it (events are read live)."""

    def __init__(self, output: OutputFormat, *, colour: bool) -> None:
        self._json = output is OutputFormat.JSON
        self._colour = colour
        self.closed = False

    def __call__(self, event: Event) -> bool:
        """False once the reader went away (`| head`): stop quietly."""
        if self.closed:
            return False
        text = to_json(event) if self._json else to_console(event, colour=self._colour)
        try:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            # Point stdout at /dev/null so the interpreter's own flush at exit stays quiet.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            self.closed = True
        return not self.closed


def run_scan(config: ScanConfig, sources: Sequence[Source]) -> int:
    """Scan `sources`, write each event as it comes; the exit status (0, or 1 on --fail-on)."""
    pack = load_patterns(config.pattern_paths)
    _collect_less()
    write = StdoutWriter(config.output, colour=config.colour)
    failed = False
    with Budget() as budget:
        events = scan(
            sources,
            pack,
            input_format=config.input_format,
            timezone=config.timezone,
            max_line=config.max_line,
            group=config.group,
            budget=budget,
        )
        for event in events:
            if not write(event):
                break
            if isinstance(event, IncidentEvent) and event.state is IncidentState.OPENED:
                failed |= config.fail_on.fails(event.incident.severity)
    return 1 if failed else 0


def run_watch(config: WatchConfig) -> int:
    """Follow the sources until they end or SIGINT/SIGTERM; exit status 0.

    A journalctl or kubectl that cannot start (bad option, missing journal, no such binary)
    ends the watch; its SourceError is raised after the summary (one line, exit 2).
    """
    # The live machinery (threads, watchdog, sqlite3) is imported here, not at module level,
    # so `scan`, `patterns` and `explain` start without it (tests/test_cli.py checks this).
    from logscan.runner import Runner, RunnerOptions
    from logscan.sources.file import FileSource
    from logscan.sources.journald import JournaldSource
    from logscan.sources.kubectl import KubectlSource
    from logscan.sources.stdin import StdinSource
    from logscan.state import StateStore

    pack = load_patterns(config.pattern_paths)
    _collect_less()
    store = StateStore(config.state_path) if config.state_path else None
    snapshot = store.load(pack) if store else None
    positions = snapshot.checkpoints if snapshot else {}
    sources: list[LiveSource] = []
    if config.stdin:
        sources.append(StdinSource())
    if config.files:
        sources.append(FileSource(config.files, from_start=config.from_start, positions=positions))
    commands: list[JournaldSource | KubectlSource] = []
    if config.journald:
        commands.append(
            JournaldSource(config.journald, from_start=config.from_start, positions=positions)
        )
    if config.kubectl:
        commands.append(KubectlSource(config.kubectl, positions=positions))
    sources += commands
    runner = Runner(
        sources,
        pack,
        StdoutWriter(config.output, colour=config.colour),
        options=RunnerOptions(
            input_format=config.input_format,
            timezone=config.timezone,
            max_line=config.max_line,
            group=config.group,
        ),
        state=store,
        snapshot=snapshot,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    runner.run(stop)
    for source in commands:
        if source.error is not None:
            raise source.error
    return 0


def _collect_less() -> None:
    """Run the cycle collector less often. A scan makes millions of short-lived objects
    without cycles (records, tuples); at the default threshold (a collection per 700 new
    ones) collecting took ~10 % of a scan (docs/benchmarks.md). What start-up made (the
    packs, the modules) is set aside for good, out of every collection's way."""
    gc.freeze()
    gc.set_threshold(_COLLECT_AFTER)
