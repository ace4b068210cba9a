"""`logscan watch FILE/GLOB…`: follow log files by offset, through every kind of rotation.

The reader thread (DESIGN.md: "Threads only at the edges") sleeps on one event. watchdog sets
it when something changes in a watched directory; without watchdog (not installed, inotify
limits, NFS) a timeout every `poll_interval` does the same. Either way the thread then reads by
offset (see follower.py for rotation, tailer.py for identity and truncation).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from logscan.sources.base import Checkpoint, Emit
from logscan.sources.follower import Follower, Settings

if TYPE_CHECKING:
    from logscan.sources.wake import Waker

_log = logging.getLogger("logscan.sources.file")

_STOP_CHECK_S = 0.2  # the longest wait between looks at `stop`, whatever the poll interval
# Without file events: a look every 0.1 s, so a line waits at most that (and the runner's 50 ms
# hold) to be read: p99 under 250 ms as with events, for ~10 stats a second per file.
POLL_INTERVAL_S = 0.1


class FileSource:
    """Follows every file matching `patterns` (paths or globs); a `LiveSource`.

    Files present at start are read from the end of their last complete line (from 0 with
    `from_start`, from the checkpoint in `positions` when its identity still matches); files
    that appear later are new content and are read from 0. Checkpoints and `positions` are
    keyed by the absolute path as the glob names it (for a symlink, the link); a stream is
    `"{path}@{identity}"`. A stream ends with a `final` chunk (empty data) when its file was
    rotated away and finished, or truncated; never on `stop`, so a restart continues it.

    `rotate_grace`: a file rotated away is read until it has been quiet this long, because the
    server writes to it until logrotate's postrotate signal makes it reopen its log.
    """

    def __init__(
        self,
        patterns: Sequence[str],
        *,
        from_start: bool = False,
        positions: Mapping[str, Checkpoint] | None = None,
        poll_interval: float = POLL_INTERVAL_S,
        use_watchdog: bool = True,
        rescan_interval: float = 1.0,
        head_bytes: int = 1024,
        chunk_bytes: int = 1 << 20,
        rotate_grace: float = 1.0,
    ) -> None:
        self.name = "file:" + ",".join(patterns)
        self._patterns = tuple(os.path.abspath(pattern) for pattern in patterns)
        self._positions = {
            key: checkpoint
            for key, checkpoint in (positions or {}).items()
            if checkpoint.kind == "file"
        }
        self._use_watchdog = use_watchdog
        self._settings = Settings(
            from_start=from_start,
            poll_interval=poll_interval,
            rescan_interval=rescan_interval,
            rotate_grace=rotate_grace,
            head_bytes=head_bytes,
            chunk_bytes=chunk_bytes,
        )

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Follow until `stop` is set. Unreadable or vanished files are skipped, not raised."""
        settings = self._settings
        wake = threading.Event()
        follower = Follower(self._patterns, dict(self._positions), settings, emit, stop)
        waker = _start_waker(wake) if self._use_watchdog else None
        next_rescan = next_poll = time.monotonic()
        woke = False
        try:
            while not stop.is_set():
                now = time.monotonic()
                rescan = now >= next_rescan
                if rescan:
                    follower.rescan()
                    next_rescan = now + settings.rescan_interval
                    if waker is not None and not waker.watch(follower.directories()):
                        waker.stop()
                        waker = None
                polling = waker is None or follower.retiring
                if rescan or woke or (polling and now >= next_poll):
                    woke = follower.visit(now)  # bytes were read: look again before sleeping
                    next_poll = now + settings.poll_interval
                if not woke:
                    due = min(next_rescan, next_poll) if polling else next_rescan
                    woke = wake.wait(min(_STOP_CHECK_S, max(0.0, due - time.monotonic())))
                wake.clear()  # before reading: an event from now on wakes the next round
        finally:
            if waker is not None:
                waker.stop()
            follower.close()


def _start_waker(wake: threading.Event) -> Waker | None:
    try:
        from logscan.sources.wake import Waker  # noqa: PLC0415 (watchdog is optional here)
    except ImportError:
        _log.info("watchdog is not installed: polling for file changes")
        return None
    return Waker.start(wake)
