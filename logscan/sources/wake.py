"""watchdog as an alarm clock: a change in a watched directory wakes the file follower.

The follower never takes data from events (DESIGN.md: "watchdog only wakes the file tailer; the
tailer reads by offset"); inotify can drop events when its queue overflows, and on NFS it sees
none, so every read is decided by `stat` and offsets and the follower also polls as a safety net.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from watchdog.events import (
    EVENT_TYPE_CLOSED_NO_WRITE,
    EVENT_TYPE_OPENED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

_log = logging.getLogger("logscan.sources.file")

# Our own reads open and close files; waking on those would make the follower wake itself.
_IGNORED = frozenset({EVENT_TYPE_OPENED, EVENT_TYPE_CLOSED_NO_WRITE})


class _Alarm(FileSystemEventHandler):
    def __init__(self, wake: threading.Event) -> None:
        self._wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _IGNORED:
            self._wake.set()


class Waker:
    """An Observer on directories (not recursive) that sets `wake` on any change in them."""

    def __init__(self, wake: threading.Event) -> None:
        self._alarm = _Alarm(wake)
        self._observer: BaseObserver = Observer()
        self._observer.daemon = True
        self._directories: set[str] = set()

    @classmethod
    def start(cls, wake: threading.Event) -> Waker | None:
        """A running Waker, or None when the platform will not give one (inotify limits)."""
        waker = cls(wake)
        try:
            waker._observer.start()
        except OSError as error:
            _log.warning("file events unavailable (%s): polling instead", error)
            return None
        return waker

    def watch(self, directories: Iterable[str]) -> bool:
        """Watch the directories not watched yet; False when the system refuses one."""
        for directory in directories:
            if directory in self._directories:
                continue
            try:
                self._observer.schedule(self._alarm, directory, recursive=False)
            except FileNotFoundError:  # removed since it was listed: the next rescan retries
                continue
            except OSError as error:  # ENOSPC: fs.inotify.max_user_watches is used up
                _log.warning("cannot watch %s (%s): polling instead", directory, error)
                return False
            self._directories.add(directory)
        return True

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=1.0)
