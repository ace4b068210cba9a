"""stdin behind a pipe (`tail -F app.log | logscan watch -`): blocking reads, EOF ends it."""

from __future__ import annotations

import os
import threading

from logscan.sources.base import Chunk, Emit

READ_BYTES = 1 << 16


class StdinSource:
    """Reads a file descriptor (stdin by default) until EOF.

    `os.read` returns whatever the pipe holds, so a line written upstream reaches the runner
    at once instead of waiting for a buffer to fill. The read blocks and cannot be
    interrupted; the reader thread is a daemon, so a stop request does not wait for it.
    """

    def __init__(self, fd: int = 0, name: str = "<stdin>") -> None:
        self.name = name
        self._fd = fd

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Emit what is read until EOF (then one final chunk) or until `stop` is set."""
        while not stop.is_set():
            data = os.read(self._fd, READ_BYTES)
            if not data:
                emit(Chunk(stream=self.name, source=self.name, data=b"", final=True))
                return
            emit(Chunk(stream=self.name, source=self.name, data=data))
