"""`logscan watch --journald`: follow `journalctl --follow --output=json`, resume by cursor.

journalctl prints one JSON object per entry and line, each with its `__CURSOR`. The reader
emits whatever complete lines one read returned as one chunk, with the cursor of the last
entry in it as the checkpoint; a restart (`--state`) passes that cursor to
`--after-cursor`, which starts *after* the named entry: no entry is repeated, none skipped.

Where reading starts without a cursor (journalctl 252, src/journal/journalctl.c): `--follow`
alone prints the last 10 entries first, and does so even with `--after-cursor` (it caps the
first screenful at `--lines`, 10 with --follow); so logscan passes `--lines=0` (only new
entries, like a followed file read from its end), or `--no-tail` with `--after-cursor`,
`--since` and `--from-start` (everything from there on).

When journalctl ends: if it was the first start and it printed nothing, it was told something
it cannot do (a bad option, a missing --directory or --file, a malformed cursor or --since) and
`error` says what, naming the command; the source sets `stop`, so the watch ends and exits 2.
Any later exit (journal files removed, journalctl killed) is logged, once per distinct reason,
and journalctl is started again after a back-off (0.5 s doubling to 30 s, back to 0.5 s after
a run that delivered entries), from the last cursor.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from logscan.errors import ConfigError, SourceError
from logscan.sources.base import Checkpoint, Chunk, Emit
from logscan.sources.process import Backoff, Child, describe_exit, spawn

_log = logging.getLogger("logscan.sources.journald")

_STOP_CHECK_S = 0.2  # the longest a read waits before looking at `stop` again


@dataclass(frozen=True, slots=True, kw_only=True)
class JournaldQuery:
    """What to follow: journalctl's own selection options, passed through unchanged."""

    units: tuple[str, ...] = ()  # --unit (repeatable: entries of any of them)
    directory: str | None = None  # --directory: a journal directory (e.g. /var/log/journal)
    files: tuple[str, ...] = ()  # --file: journal files or globs
    since: str | None = None  # --since, in any form journalctl takes ("-1h", "2024-05-01")
    binary: str = "journalctl"

    @property
    def key(self) -> str:
        """The stream's stable name, e.g. "journald:bento.service" or "journald:*@/var/log/x"."""
        where = ",".join([*([self.directory] if self.directory else []), *self.files])
        return "journald:" + (",".join(self.units) or "*") + (f"@{where}" if where else "")

    def argv(self, *, cursor: str = "", from_start: bool = False) -> list[str]:
        """The journalctl command line, resuming after `cursor` when there is one."""
        argv = [self.binary, "--follow", "--output=json", "--no-pager", "--quiet"]
        argv += [f"--unit={unit}" for unit in self.units]
        if self.directory:
            argv.append(f"--directory={self.directory}")
        argv += [f"--file={path}" for path in self.files]
        if cursor:
            argv += [f"--after-cursor={cursor}", "--no-tail"]
        elif self.since:
            argv += [f"--since={self.since}", "--no-tail"]
        else:
            argv.append("--no-tail" if from_start else "--lines=0")
        return argv


def journald_query(
    *,
    units: Sequence[str] = (),
    directory: str | None = None,
    files: Sequence[str] = (),
    since: str | None = None,
    binary: str = "journalctl",
) -> JournaldQuery:
    """The query for the `watch --journald` options; ConfigError for one that cannot work."""
    if directory and files:
        raise ConfigError("--directory and --file: journalctl reads one or the other")
    # journalctl 252 cannot follow a --file given without a directory part: it watches the
    # file's directory, and "x.journal" has none ("Failed to get journal fd: Destination
    # address required"). Absolute paths also keep the checkpoint key stable.
    return JournaldQuery(
        units=tuple(units),
        directory=os.path.abspath(directory) if directory else None,
        files=tuple(os.path.abspath(path) for path in files),
        since=since,
        binary=binary,
    )


class JournaldSource:
    """Follows one journalctl query; a `LiveSource`. See the module docstring."""

    def __init__(
        self,
        query: JournaldQuery,
        *,
        from_start: bool = False,
        positions: Mapping[str, Checkpoint] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = query.key
        self._query = query
        self._from_start = from_start
        resume = (positions or {}).get(query.key)
        self._cursor = resume.cursor if resume is not None and resume.kind == "journald" else ""
        self._backoff = backoff or Backoff()
        self.error: SourceError | None = None  # set when journalctl could not start at all
        self.starts = 0

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Follow until `stop` is set, restarting journalctl when it ends (see above)."""
        reported = ""
        while not stop.is_set():
            argv = self._query.argv(cursor=self._cursor, from_start=self._from_start)
            child = spawn(argv, _log)
            if isinstance(child, str):
                self._fail(child, stop)
                return
            self.starts += 1
            produced = self._follow(child, emit, stop)
            if stop.is_set():
                return
            reason = describe_exit(child)
            if self.starts == 1 and not produced and child.exit_code != 0:
                self._fail(f"{child.command}: {reason}", stop)
                return
            delay = self._backoff.delay(productive=produced)
            if reason != reported:  # a journal that stays gone is reported once, not per retry
                _log.warning("%s ended (%s); restarting it", argv[0], reason)
                reported = reason

            stop.wait(delay)

    def _follow(self, child: Child, emit: Emit, stop: threading.Event) -> bool:
        """Emit what `child` prints until it ends or `stop`; True if it printed an entry."""
        produced = False
        try:
            while not stop.is_set():
                block = child.read(_STOP_CHECK_S)
                if block is None:
                    break
                if not block:
                    continue
                produced = True
                cursor = last_cursor(block)
                checkpoint = None
                if cursor:
                    self._cursor = cursor
                    checkpoint = Checkpoint(kind="journald", key=self.name, cursor=cursor)
                emit(Chunk(stream=self.name, source=self.name, data=block, checkpoint=checkpoint))
        finally:
            child.stop()
        return produced

    def _fail(self, reason: str, stop: threading.Event) -> None:
        self.error = SourceError(reason)
        stop.set()


def last_cursor(block: bytes) -> str:
    """The `__CURSOR` of the last entry in `block` (complete JSON lines) that has one; "" when
    none has (not JSON: a line is data, never an error)."""
    end = len(block)
    while end > 0:
        start = block.rfind(b"\n", 0, end - 1) + 1
        try:
            entry = json.loads(block[start:end])
        except (ValueError, RecursionError):
            entry = None
        if isinstance(entry, dict) and isinstance(entry.get("__CURSOR"), str):
            return str(entry["__CURSOR"])
        end = start
    return ""
