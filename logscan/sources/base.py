"""What every live source hands the runner: chunks of bytes with a checkpoint.

A live source runs in its own reader thread and calls `emit` for every chunk it reads; `emit`
blocks when the runner's queue is full (backpressure: nothing is ever dropped). A source stops
when `stop` is set, or on its own at the end of its input (stdin EOF).

A *stream* is one sequence of bytes that framing reads from start to end: one file identity
(a rotated file is a new stream under the same name), stdin, one journald query, one
kubectl container. The runner keeps one Framer per stream and closes it when a chunk says
the stream is `final`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """Where to resume a stream after this chunk: a file's identity and offset, a journald
    cursor, or a kubectl container's last timestamp (RFC 3339 text)."""

    kind: str  # "file" | "journald" | "kubectl" | "stdin"
    key: str  # the stream's stable name: a path, a unit/query, a pod/container
    identity: str = ""  # files: "<dev>:<ino>:<sha256 of the first bytes>"
    offset: int = 0  # files: bytes consumed so far
    cursor: str = ""  # journald cursor, or kubectl RFC 3339 time


@dataclass(frozen=True, slots=True, kw_only=True)
class Chunk:
    """Bytes read from one stream, and the checkpoint that holds once they are processed."""

    stream: str  # unique per stream (e.g. "app.log@<identity>"), stable across restarts
    source: str  # the name records carry as `Line.source` (e.g. "app.log")
    data: bytes
    checkpoint: Checkpoint | None = None
    final: bool = False  # the stream ended (rotated away, deleted, EOF): flush and forget it


Emit = Callable[[Chunk], None]


class LiveSource(Protocol):
    """A reader thread's body."""

    name: str

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Read and emit until `stop` is set or the input ends; never raise for bad data."""
