"""The state of one `FileSource.run`: which paths are followed, and a queue of tails per path.

A path (as the glob names it: for a symlink, the link) has a queue of open `Tail`s, read
strictly one after another, so its checkpoint only ever moves forward:

- rename + create (logrotate's default) and delete + recreate: the path now names another
  inode. The new file is opened at once (pinning it), but read only after the old one was read
  to its end, stayed quiet for `rotate_grace` and got its `final` chunk: until the postrotate
  script signals it (gunicorn and nginx reopen on USR1), the server still writes to the old file.
- a re-pointed symlink (kubelet's /var/log/containers/*.log -> /var/log/pods/…/N.log, where N
  counts container restarts): `stat` follows the link, so this is the rename case again.
- copytruncate and `: > file`: same inode, size below our offset or a changed head; the tail
  itself ends the old stream and reads again from 0 (see `Tail._restart`).
"""

from __future__ import annotations

import glob
import logging
import os
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass

from logscan.sources.base import Checkpoint, Chunk, Emit
from logscan.sources.tailer import Identity, Tail, line_aligned_end, open_regular

_log = logging.getLogger("logscan.sources.file")

_GLOB_MAGIC = frozenset("*?[")
_FINISHED_KEPT = 256  # finished files remembered, so a glob matching app.log.1 skips re-reading


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """How FileSource reads (its constructor's arguments, minus the patterns)."""

    from_start: bool
    poll_interval: float
    rescan_interval: float
    rotate_grace: float
    head_bytes: int
    chunk_bytes: int


class Follower:
    """Opens, reads and retires files; `FileSource.run` decides when to `rescan` and `visit`."""

    def __init__(
        self,
        patterns: tuple[str, ...],
        positions: dict[str, Checkpoint],
        settings: Settings,
        emit: Emit,
        stop: threading.Event,
    ) -> None:
        self._patterns = patterns
        self._positions = positions  # consumed as paths are first opened
        self._settings = settings
        self._emit = emit
        self._stop = stop
        self._queues: dict[str, list[Tail]] = {}
        self._known: set[str] = set()  # what the globs matched at the last rescan
        self._at_start: set[str] | None = None  # present when the run began, not opened yet
        self._finished: OrderedDict[tuple[int, int], tuple[Identity, int]] = OrderedDict()
        self._reported: set[str] = set()

    @property
    def retiring(self) -> bool:
        """A rotated-away file is being finished: its grace period needs a clock, not events."""
        return any(len(q) > 1 or q[0].retired_at is not None for q in self._queues.values())

    def rescan(self) -> None:
        """Match the globs again: files created since are followed from the next visit."""
        matched = {
            path for pattern in self._patterns for path in glob.glob(pattern, recursive=True)
        }
        self._known = {path for path in matched if _regular(path) is not None}
        if self._at_start is None:
            self._at_start = set(self._known)
        self._at_start &= self._known

    def directories(self) -> list[str]:
        """Where a change means work: each glob's fixed root, each file's and target's dir."""
        found = {_fixed_root(pattern) for pattern in self._patterns}
        for path in self._known | self._queues.keys():
            found |= {os.path.dirname(path), os.path.dirname(os.path.realpath(path))}
        return sorted(directory for directory in found if os.path.isdir(directory))

    def visit(self, now: float) -> bool:
        """Read every followed file once; True when any bytes were read."""
        active = False
        for path in sorted(self._known | self._queues.keys()):
            if self._stop.is_set():
                break
            active |= self._visit(path, now)
        return active

    def close(self) -> None:
        """Close every descriptor. No `final` chunks: a restart continues these streams."""
        for queue in self._queues.values():
            for tail in queue:
                tail.close()
        self._queues.clear()

    def _visit(self, path: str, now: float) -> bool:
        info = _regular(path)
        queue = self._queues.get(path, [])
        if info is not None and (not queue or not queue[-1].is_file(info)):
            self._open(path)
            queue = self._queues.get(path, [])
        active = False
        while queue:
            head = queue[0]
            read = self._read(head)
            if read is None:
                return active  # the path's tails were dropped after an I/O error
            if read:
                head.last_active = now
                active = True
            if len(queue) == 1 and info is not None and head.is_file(info):
                head.retired_at = None  # still the file at the path
                break
            if not head.quiet_for(self._settings.rotate_grace, now):
                break
            self._retire(queue.pop(0))
        if not queue:
            self._queues.pop(path, None)
        return active

    def _retire(self, tail: Tail) -> None:
        tail.finish(self._emit)
        tail.close()
        if tail.identity is not None:
            self._finished[tail.dev, tail.ino] = (tail.identity, tail.offset)
            while len(self._finished) > _FINISHED_KEPT:
                self._finished.popitem(last=False)

    def _read(self, tail: Tail) -> bool | None:
        try:
            return tail.read(self._emit, self._stop, chunk_bytes=self._settings.chunk_bytes)
        except OSError as error:  # EIO, ESTALE on NFS: drop the path, retry on the next rescan
            self._report(tail.path, error)
            if tail.identity is not None:  # a reopen of the same file continues the stream
                self._positions[tail.path] = tail.checkpoint()
            for dropped in self._queues.pop(tail.path, []):
                dropped.close()
            self._known.discard(tail.path)
            return None

    def _open(self, path: str) -> None:
        try:
            fd = open_regular(path)
        except FileNotFoundError:
            fd = None
        except OSError as error:
            self._report(path, error)
            fd = None
        if fd is None:
            self._known.discard(path)  # the next rescan tries again
            return
        self._reported.discard(path)
        queue = self._queues.setdefault(path, [])
        info = os.fstat(fd)
        if (queue and queue[-1].is_file(info)) or self._held(info):
            os.close(fd)  # stat'ed mid-rotation, or followed under its old name: look again later
            if not queue:
                del self._queues[path]
            return
        queue.extend(self._first_tails(path, fd) if not queue else [self._tail(path, fd)])

    def _held(self, info: os.stat_result) -> bool:
        """Another path still reads this file (a glob matching app.log* sees app.log.1 appear)."""
        return any(tail.is_file(info) for queue in self._queues.values() for tail in queue)

    def _first_tails(self, path: str, fd: int) -> list[Tail]:
        """The first file this run opens at `path`: resume, start at the end, or from 0."""
        checkpoint = self._positions.pop(path, None)
        if checkpoint is not None:
            return self._resume(path, fd, checkpoint)
        at_start = self._at_start is not None and path in self._at_start
        if self._at_start is not None:
            self._at_start.discard(path)  # gone and back, a file at this path is new content
        if at_start and not self._settings.from_start:
            size = os.fstat(fd).st_size
            identity = Identity.of(fd, self._settings.head_bytes) if size else None
            return [self._tail(path, fd, offset=line_aligned_end(fd), identity=identity)]
        return [self._tail(path, fd)]

    def _resume(self, path: str, fd: int, checkpoint: Checkpoint) -> list[Tail]:
        """Continue at the checkpoint if the file is still the one it names.

        Otherwise the file was rotated while logscan was down: the old file is looked for next
        to the path (logrotate renames app.log to app.log.1 beside it; kubelet keeps the
        previous container's 0.log beside 1.log) and finished from the checkpoint first. If it
        is gone (deleted, or compressed into a new inode), what it held past the checkpoint is
        lost, and its stream is closed with an empty `final` chunk.
        """
        offset = checkpoint.offset
        identity = Identity.parse(checkpoint.identity)
        if identity is not None and _holds_from(identity, fd, offset):
            return [self._tail(path, fd, offset=offset, identity=identity)]
        old = _find_rotated(path, identity, offset) if identity is not None else None
        if old is not None:
            return [self._tail(path, old, offset=offset, identity=identity), self._tail(path, fd)]
        stream = f"{path}@{checkpoint.identity}"
        self._emit(Chunk(stream=stream, source=path, data=b"", checkpoint=checkpoint, final=True))
        return [self._tail(path, fd)]

    def _tail(
        self, path: str, fd: int, *, offset: int = 0, identity: Identity | None = None
    ) -> Tail:
        """A tail at `offset`; a file followed before under another name continues where it
        was finished, as a new stream under the new name, instead of being read again."""
        seen = self._finished.pop(_file_key(fd), None)
        if seen is not None and identity is None and _holds_from(seen[0], fd, seen[1]):
            identity, offset = seen
        head_bytes = self._settings.head_bytes
        return Tail(path, fd, offset=offset, identity=identity, head_bytes=head_bytes)

    def _report(self, path: str, error: OSError) -> None:
        if path not in self._reported:  # once per path, until it can be opened again
            self._reported.add(path)
            _log.warning("cannot read %s: %s", path, error.strerror or error)


def _file_key(fd: int) -> tuple[int, int]:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino


def _regular(path: str) -> os.stat_result | None:
    """`stat` through symlinks; None for a missing path or anything but a regular file."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def _holds_from(identity: Identity, fd: int, offset: int) -> bool:
    return identity.holds(fd) and os.fstat(fd).st_size >= offset


def _find_rotated(path: str, identity: Identity, offset: int) -> int | None:
    """An open descriptor for the file `identity` names, found beside `path` or its target."""
    for directory in {os.path.dirname(path), os.path.dirname(os.path.realpath(path))}:
        for candidate in _same_inode(directory, identity.ino):
            try:
                fd = open_regular(candidate)
            except OSError:
                continue
            if fd is None:
                continue
            if _holds_from(identity, fd, offset):
                return fd
            os.close(fd)
    return None


def _same_inode(directory: str, ino: int) -> list[str]:
    try:
        with os.scandir(directory) as entries:
            # scandir gives inode numbers without a stat per entry (readdir's d_ino).
            return [entry.path for entry in entries if entry.inode() == ino]
    except OSError:
        return []


def _fixed_root(pattern: str) -> str:
    """The directory part of a glob before its first wildcard: `/var/log/*/app.log` -> /var/log."""
    parts = pattern.split(os.sep)
    for index, part in enumerate(parts):
        if _GLOB_MAGIC & set(part):
            return os.sep.join(parts[:index]) or os.sep
    return os.path.dirname(pattern)
