"""A followed child process (`journalctl --follow`, `kubectl logs --follow`), read in lines.

The sources that run a command share this: start it, read its stdout with `os.read` as soon
as the pipe holds bytes (low latency: no stdio buffer to fill), hand back only complete lines
(so a checkpoint always names whole entries), drain its stderr on a side thread so the child
never blocks on a full pipe, and stop it by its PID. It never raises for what the child
writes; `start` raises OSError only when the command cannot be run at all.
"""

from __future__ import annotations

import collections
import logging
import os
import select
import shlex
import subprocess
import threading
from collections.abc import Sequence

READ_BYTES = 1 << 16
MAX_LINE_BYTES = 1 << 20  # a longer "line" is cut here (framing cuts it shorter and flags it)
_TERMINATE_GRACE_S = 1.0
_EXIT_WAIT_S = 5.0  # after its stdout closed, a child has this long to exit before a SIGTERM


class Child:
    """One running command whose stdout is read in whole lines."""

    def __init__(self, argv: Sequence[str], log: logging.Logger) -> None:
        """Start `argv`; OSError (no such file, not executable) when it cannot run."""
        self.argv = tuple(argv)
        self._log = log
        # Its own session: a Ctrl-C on the terminal reaches logscan, which stops the child
        # itself, instead of racing the child's own exit against the stop request.
        self._process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert self._process.stdout is not None
        self._fd = self._process.stdout.fileno()
        self._poll = select.poll()
        self._poll.register(self._fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        self._partial = bytearray()
        self._discarding = False  # skipping the rest of a line cut at MAX_LINE_BYTES
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        self.exit_code: int | None = None

    @property
    def command(self) -> str:
        """The command line, quoted as a shell would need it (for messages)."""
        return shlex.join(self.argv)

    @property
    def pid(self) -> int:
        return self._process.pid

    def read(self, timeout: float) -> bytes | None:
        """Complete lines that arrived within `timeout` seconds (b"" when none did); None once
        stdout is closed, after which `exit_code` is set. An unterminated last line is dropped:
        the sources resume from the last complete one, so it is read again in full."""
        if not self._poll.poll(timeout * 1000):
            return b""
        try:
            data = os.read(self._fd, READ_BYTES)
        except OSError:
            data = b""
        if not data:
            self._reap()
            return None
        return self._complete(data)

    def _complete(self, data: bytes) -> bytes:
        end = data.rfind(b"\n")
        if end < 0:
            self._extend(data)
            return b""
        head = data[: end + 1]
        if self._partial or self._discarding:
            first = head.find(b"\n")
            self._extend(head[:first])
            head = bytes(self._partial) + b"\n" + head[first + 1 :]
            self._partial.clear()
            self._discarding = False
        self._extend(data[end + 1 :])
        return head

    def _extend(self, data: bytes) -> None:
        room = MAX_LINE_BYTES - len(self._partial)
        if len(data) > room:
            self._discarding = True
            data = data[: max(room, 0)]
        self._partial += data

    def stderr_text(self) -> str:
        """What the child wrote on stderr (its last lines), joined into one line."""
        self._drain.join(timeout=_TERMINATE_GRACE_S)
        return "; ".join(line for line in self._stderr if line)

    def stop(self) -> None:
        """Terminate the child by its PID (SIGTERM, SIGKILL after a grace), reap, close."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=_TERMINATE_GRACE_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._reap()

    def _reap(self) -> None:
        try:
            self.exit_code = self._process.wait(timeout=_EXIT_WAIT_S)
        except subprocess.TimeoutExpired:  # stdout closed but still running: end it
            self._process.kill()
            self.exit_code = self._process.wait()
        if self._process.stdout is not None and not self._process.stdout.closed:
            self._poll.unregister(self._fd)
            self._process.stdout.close()

    def _read_stderr(self) -> None:
        stream = self._process.stderr
        assert stream is not None
        with stream:
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip()
                self._stderr.append(line)
                self._log.debug("%s: %s", self.argv[0], line)


class Backoff:
    """Delays between restarts: `initial` after a child that delivered something, else
    doubling up to `maximum`. `history` keeps every delay handed out (for tests and logs)."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0) -> None:
        self._initial = initial
        self._maximum = maximum
        self._next = initial
        self.history: list[float] = []

    def delay(self, *, productive: bool) -> float:
        """The wait before the next start; `productive`: the last child delivered lines."""
        if productive:
            self._next = self._initial
        delay = self._next
        self._next = min(self._next * 2, self._maximum)
        self.history.append(delay)
        return delay


def describe_exit(child: Child) -> str:
    """ "exit 1: <stderr>" or "killed by signal 9", for one-line messages."""
    code = child.exit_code
    what = f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"
    stderr = child.stderr_text()
    return f"{what}: {stderr}" if stderr else what


def spawn(argv: Sequence[str], log: logging.Logger) -> Child | str:
    """Start `argv`; the reason as text when it cannot be run at all."""
    try:
        return Child(argv, log)
    except OSError as error:
        return f"{argv[0]}: {error.strerror or error}"
