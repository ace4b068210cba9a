"""One open log file read by offset: its identity, where reading stands, and truncation.

A `Tail` owns one file descriptor. It never reopens its path: a rotated-away file stays
readable through the descriptor (rename keeps the inode; an unlinked inode lives while it is
open), which is what lets the follower finish the old file before it starts the new one.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from dataclasses import dataclass

from logscan.sources.base import Checkpoint, Chunk, Emit

_MAX_CHUNKS_PER_VISIT = 16  # then other files get their turn; the follower comes straight back
_ALIGN_BYTES = 1 << 16  # how far back a start at the end looks for the last line break


@dataclass(frozen=True, slots=True)
class Identity:
    """Which file a stream is: device, inode, and a hash of its first `nbytes` bytes.

    The inode alone is not enough across restarts (an unlinked inode number is reused by the
    next file created); the head hash alone is not enough for logs that start with the same
    banner. `nbytes` is fixed when the file is first seen, so a tiny crash log that grows keeps
    its identity: later checks hash the same prefix length again.
    """

    dev: int
    ino: int
    nbytes: int
    digest: str

    def __str__(self) -> str:
        return f"{self.dev}:{self.ino}:{self.nbytes}:{self.digest}"

    @classmethod
    def parse(cls, text: str) -> Identity | None:
        """The identity written by `str()`, or None when `text` is not one."""
        parts = text.split(":")
        if len(parts) != 4 or not all(part.isdigit() for part in parts[:3]):
            return None
        return cls(int(parts[0]), int(parts[1]), int(parts[2]), parts[3])

    @classmethod
    def of(cls, fd: int, head_bytes: int) -> Identity:
        """Identify an open file by what it holds now (at most `head_bytes` of it)."""
        info = os.fstat(fd)
        nbytes = min(info.st_size, head_bytes)
        return cls(info.st_dev, info.st_ino, nbytes, _head_digest(fd, nbytes))

    def holds(self, fd: int) -> bool:
        """The open file is still this one: same inode and the same first `nbytes` bytes."""
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != (self.dev, self.ino) or info.st_size < self.nbytes:
            return False
        return _head_digest(fd, self.nbytes) == self.digest


def _head_digest(fd: int, nbytes: int) -> str:
    return hashlib.sha256(os.pread(fd, nbytes, 0)).hexdigest()


def open_regular(path: str) -> int | None:
    """A read-only descriptor for `path` (following symlinks), or None if not a regular file.

    OSError (missing, permission) propagates: the caller decides what is worth reporting.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    if stat.S_ISREG(os.fstat(fd).st_mode):
        return fd
    os.close(fd)  # a FIFO or a directory matched by a glob: not something to tail by offset
    return None


def line_aligned_end(fd: int) -> int:
    """The end of the last complete line: a start "at the end" then never emits half a line."""
    size = os.fstat(fd).st_size
    start = max(0, size - _ALIGN_BYTES)
    newline = os.pread(fd, size - start, start).rfind(b"\n")
    return size if newline < 0 else start + newline + 1


class Tail:
    """One followed file: the descriptor, the stream it is, and the offset read so far.

    `identity` is None while the file is empty: it is taken from the first bytes that exist, so
    an empty file created by logrotate's `create` does not get a hash of nothing.
    """

    __slots__ = (
        "_head", "_head_bytes", "dev", "fd", "identity", "ino", "last_active", "offset", "path",
        "retired_at",
    )  # fmt: skip

    def __init__(
        self, path: str, fd: int, *, offset: int, identity: Identity | None, head_bytes: int
    ) -> None:
        info = os.fstat(fd)
        self.path = path
        self.fd = fd
        self.dev, self.ino = info.st_dev, info.st_ino
        self.offset = offset
        self.identity = identity
        self._head_bytes = head_bytes
        # The first bytes consumed so far (up to head_bytes): unlike the identity's prefix,
        # which stays as short as the file was when first seen, this grows with reading, so a
        # truncate-and-rewrite is caught even when the identity hashed only a few bytes.
        self._head = os.pread(fd, min(offset, head_bytes), 0)
        self.last_active = float("-inf")  # monotonic time of the last read that found bytes
        self.retired_at: float | None = None  # when the path was first seen to leave this file

    def is_file(self, info: os.stat_result) -> bool:
        return (info.st_dev, info.st_ino) == (self.dev, self.ino)

    @property
    def stream(self) -> str:
        return f"{self.path}@{self.identity}"

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(
            kind="file", key=self.path, identity=str(self.identity), offset=self.offset
        )

    def read(self, emit: Emit, stop: threading.Event, *, chunk_bytes: int) -> bool:
        """Emit what was appended since the last read; return False when there was nothing.

        Returns True as well when the visit's chunk budget ran out with more to read.
        """
        size = os.fstat(self.fd).st_size
        if size < self.offset or not self._same_content():
            self._restart(emit)  # copytruncate or `: > file`; see _restart
            size = os.fstat(self.fd).st_size
        if size <= self.offset:
            return False
        if self.identity is None:
            self.identity = Identity.of(self.fd, self._head_bytes)
        for _ in range(_MAX_CHUNKS_PER_VISIT):
            # Only up to the size seen before the head check: bytes past it may belong to a
            # file truncated and rewritten meanwhile; the next visit checks the head first.
            data = os.pread(self.fd, min(chunk_bytes, size - self.offset), self.offset)
            if not data or stop.is_set():
                break
            if len(self._head) < self._head_bytes:  # the head so far is bytes [0, offset)
                self._head += data[: self._head_bytes - len(self._head)]
            self.offset += len(data)
            emit(
                Chunk(stream=self.stream, source=self.path, data=data, checkpoint=self.checkpoint())
            )
        return True

    def _same_content(self) -> bool:
        # A file truncated and written up to or past our offset again between two visits
        # (copytruncate followed by a burst) shows only in its head: the first bytes changed.
        # Checked on every visit, even with no size change: a rewrite can end at our offset.
        return os.pread(self.fd, len(self._head), 0) == self._head

    def _restart(self, emit: Emit) -> None:
        """The file was truncated in place: end the old stream, read the new content from 0.

        logrotate's copytruncate copies the file and then truncates it; whatever the writer
        appended between the copy and the truncate is in neither file. That loss is
        logrotate's (its man page says so), not ours: we read the truncated file from 0.
        """
        self.finish(emit)
        self.offset = 0
        self.identity = None
        self._head = b""

    def finish(self, emit: Emit) -> None:
        """Close the stream: the runner flushes its unterminated last line and forgets it.

        A file that never held a byte never opened a stream, so there is nothing to close.
        """
        if self.identity is not None:
            emit(
                Chunk(
                    stream=self.stream,
                    source=self.path,
                    data=b"",
                    checkpoint=self.checkpoint(),
                    final=True,
                )
            )

    def quiet_for(self, grace: float, now: float) -> bool:
        """Retired, and nothing was appended for `grace` seconds since (see FileSource)."""
        if self.retired_at is None:
            self.retired_at = now
        return now - max(self.retired_at, self.last_active) >= grace

    def close(self) -> None:
        os.close(self.fd)
