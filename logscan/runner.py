"""The live pipeline behind `logscan watch`: reader threads in, one consumer, events out.

Each source runs in its own daemon thread and puts chunks on one bounded queue (a full queue
blocks the reader: backpressure, never a silent drop). The consumer thread, the caller of
`run`, owns everything else: one Framer per stream, the Core, the sink and the state file.

Time: records carry event time; between records, event time runs on with the wall clock
from the last record, so incidents resolve while a stream is quiet, and a replay of old logs
(`--from-start`) is not aged out by today's date.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo

from logscan.access import Record
from logscan.core import Core
from logscan.framing import Framer, InputFormat
from logscan.model import IncidentEvent
from logscan.patterns import PatternSet
from logscan.pipeline import Event
from logscan.sources.base import Chunk, LiveSource
from logscan.state import Snapshot, StateStore
from logscan.timestamps import TimestampParser

_log = logging.getLogger("logscan.runner")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunnerOptions:
    """How the live pipeline frames and paces its input."""

    input_format: InputFormat = InputFormat.AUTO
    timezone: tzinfo = UTC
    max_line: int = 65536
    group: str = ""  # for records with no pod/unit envelope; "" = each source its own group
    queue_chunks: int = 256  # bounded queue: at most this many chunks read ahead
    tick_s: float = 0.25  # how often a quiet stream advances event time
    flush_after_s: float = 0.05  # quiet this long, a held record (maybe a traceback) goes out
    commit_every_s: float = 0.5  # at most this often, unless events were emitted


@dataclass(frozen=True, slots=True)
class _Done:
    """A source's reader thread has finished (EOF or error)."""

    source: str


class Runner:
    """Runs sources until they end or `stop` is set; every event goes to `write`.

    `write` returns False when its reader went away (a closed stdout): the run then stops.
    """

    def __init__(
        self,
        sources: Sequence[LiveSource],
        patterns: PatternSet,
        write: Callable[[Event], bool],
        *,
        options: RunnerOptions | None = None,
        state: StateStore | None = None,
        snapshot: Snapshot | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`snapshot` is what `state.load()` returned (the sources were told its checkpoints)."""
        self._sources = tuple(sources)
        self._patterns = patterns
        self._write = write
        self._options = options or RunnerOptions()
        self._state = state
        self._clock = clock
        self._queue: queue.Queue[Chunk | _Done] = queue.Queue(self._options.queue_chunks)
        self._snapshot = snapshot or Snapshot(core=Core(patterns))
        self._timestamps = TimestampParser(tz=self._options.timezone)
        self._anchor = (self._snapshot.core.watermark, clock())  # (event time, wall time)
        # When each stream last got bytes (wall time); restored streams count from now.
        self._fed_at = dict.fromkeys(self._snapshot.framers, clock())
        self._last_commit = 0.0

    def run(self, stop: threading.Event) -> None:
        """Consume until every source ended or `stop` was set; then flush, summarise, commit."""
        threads = [self._start(source, stop) for source in self._sources]
        running = len(threads)
        while running and not stop.is_set():
            try:
                item = self._queue.get(timeout=self._wait(self._clock()))
            except queue.Empty:
                item = None
            now = self._clock()
            if isinstance(item, _Done):
                running -= 1
                continue
            events = self._chunk(item, now) if item is not None else self._advance(now)
            events += self._flush_quiet(now)
            if not self._emit(events, stop):
                break
            self._maybe_commit(now, force=bool(events))
        # Input that ended is complete: release what was held. A stop request with a state
        # file keeps held records (a traceback being joined) in the state for the restart.
        keep_held = stop.is_set() and self._state is not None
        stop.set()
        self._finish(keep_held=keep_held)
        for thread in threads:
            thread.join(timeout=0.5)

    def _start(self, source: LiveSource, stop: threading.Event) -> threading.Thread:
        def read() -> None:
            try:
                source.run(lambda chunk: self._put(chunk, stop), stop)
            except Exception:  # a source's own bug must not take the consumer down
                _log.exception("source %s failed", source.name)
            finally:
                self._put(_Done(source.name), stop)

        thread = threading.Thread(target=read, name=f"logscan-{source.name}", daemon=True)
        thread.start()
        return thread

    def _put(self, item: Chunk | _Done, stop: threading.Event) -> None:
        """Block while the queue is full (backpressure), but give up once stopping."""
        while True:
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                if stop.is_set():
                    return

    def _chunk(self, chunk: Chunk, now: float) -> list[IncidentEvent]:
        framers = self._snapshot.framers
        framer = framers.get(chunk.stream)
        if framer is None:
            framer = framers[chunk.stream] = Framer(
                source=chunk.source,
                input_format=self._options.input_format,
                timestamps=self._timestamps,
                max_line=self._options.max_line,
                group=self._options.group,
                prefilter=self._patterns.prefilter,  # the C lane where it is built
                access=self._patterns.access,
            )
        self._timestamps.set_reference(now)  # live: a year-less syslog stamp is not in the future
        lines = framer.feed(chunk.data, now)
        self._fed_at[chunk.stream] = now
        if chunk.final:
            lines += framer.close(now)
            del framers[chunk.stream]
            del self._fed_at[chunk.stream]
        if chunk.checkpoint is not None:
            self._snapshot.checkpoints[chunk.checkpoint.key] = chunk.checkpoint
        return self._process(lines, now)

    def _wait(self, now: float) -> float:
        """How long the queue may keep us waiting: until the next held record is due, at most
        a tick (so quiet streams still advance event time)."""
        due = [
            self._fed_at.get(stream, now) + self._options.flush_after_s - now
            for stream, framer in self._snapshot.framers.items()
            if framer.has_pending
        ]
        return max(0.0, min([self._options.tick_s, *due]))

    def _flush_quiet(self, now: float) -> list[IncidentEvent]:
        """Release records held for joining in every stream quiet for `flush_after_s`, however
        busy the other streams are (a chatty access log beside a quiet error log)."""
        lines: list[Record] = []
        for stream, framer in self._snapshot.framers.items():
            quiet = now - self._fed_at.get(stream, now) >= self._options.flush_after_s
            if quiet and framer.has_pending:
                lines += framer.flush(now)
        return self._process(lines, now)

    def _advance(self, now: float) -> list[IncidentEvent]:
        """No input: event time runs on with the clock from the last record."""
        watermark, wall = self._anchor
        if watermark == float("-inf"):
            return []
        return self._snapshot.core.advance(watermark + (now - wall))

    def _process(self, lines: list[Record], now: float) -> list[IncidentEvent]:
        core = self._snapshot.core
        before = core.watermark
        events = core.process_all(lines)
        if core.watermark > before:
            self._anchor = (core.watermark, now)
        return events

    def _emit(self, events: Sequence[Event], stop: threading.Event) -> bool:
        for event in events:
            if not self._write(event):
                stop.set()
                return False
        return True

    def _maybe_commit(self, now: float, *, force: bool) -> None:
        if self._state is None:
            return
        if force or now - self._last_commit >= self._options.commit_every_s:
            self._state.save(self._snapshot, self._patterns)
            self._last_commit = now

    def _finish(self, *, keep_held: bool) -> None:
        """Process what was already read, flush held records, write the summary, commit."""
        now = self._clock()
        events: list[IncidentEvent] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Chunk):
                events += self._chunk(item, now)
        framers = self._snapshot.framers
        for stream in list(framers):
            if self._state is None:  # nothing to resume from: the partial last line counts now
                events += self._process(framers.pop(stream).close(now), now)
            elif not keep_held:  # complete records go out; a partial line waits in the state
                events += self._process(framers[stream].flush(now), now)
        self._emit([*events, self._snapshot.core.summary()], threading.Event())
        if self._state is not None:
            self._state.save(self._snapshot, self._patterns)
            self._state.close()
