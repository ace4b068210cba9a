"""A process-backed live source running on its own thread, as the runner runs it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from logscan.sources.base import Chunk, LiveSource

DEADLINE_S = 20.0  # generous for a loaded 2-core machine; passing runs take a fraction of it


class Running:
    """Runs `source` until `stop()`; keeps every chunk. Sources that run a command emit whole
    lines only, so each chunk's data splits into lines on its own (checked here)."""

    def __init__(self, source: LiveSource) -> None:
        self.source = source
        self.chunks: list[Chunk] = []
        self.errors: list[str] = []  # found on the reader thread, asserted on the test thread
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=source.run, args=(self._emit, self._stop))
        self._thread.start()

    def _emit(self, chunk: Chunk) -> None:
        with self._changed:
            if chunk.data and not chunk.data.endswith(b"\n"):
                self.errors.append(f"{chunk.stream}: chunk ends mid-line")
            self.chunks.append(chunk)
            self._changed.notify_all()

    def lines(self, stream: str | None = None) -> list[bytes]:
        """Every line emitted (of `stream`), in order, without its newline."""
        with self._changed:
            chunks = [c for c in self.chunks if stream is None or c.stream == stream]
        return [line for c in chunks for line in c.data.split(b"\n")[:-1]]

    def wait_for(self, condition: Callable[[Running], bool]) -> None:
        """Until `condition(self)` holds; fails after the deadline."""
        assert self.poll(condition, DEADLINE_S), f"timed out; {len(self.chunks)} chunks so far"

    def poll(self, condition: Callable[[Running], bool], within: float) -> bool:
        """Whether `condition(self)` came to hold within `within` seconds."""
        deadline = time.monotonic() + within
        with self._changed:
            while not condition(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.05))  # also re-checks what chunks do not signal
            return True

    def wait_lines(self, count: int) -> None:
        self.wait_for(lambda running: len(running.lines()) >= count)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def join(self) -> None:
        """Wait for the source to return by itself (it set `stop`, or its input ended)."""
        self._thread.join(DEADLINE_S)
        assert not self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self.join()
        assert [] == self.errors
