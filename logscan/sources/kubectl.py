"""`logscan watch --kubectl TARGET`: follow `kubectl logs --follow --timestamps --prefix`.

One kubectl child streams the target; its output interleaves containers, each line
"[pod/NAME/CONTAINER] <RFC3339Nano> message" (the kubelet's fixed-width nanosecond stamp).
Each container is its own stream ("kubectl:NAME/CONTAINER"), and runs of consecutive lines of
one container go out as one chunk, so the order of lines across containers is kept.

`kubectl logs -f` exits when the container it follows dies, which in a crash loop is exactly
when it matters. logscan then

- writes one line of its own into each container stream the child was following,
  "[pod/NAME/CONTAINER] <stamp of its last line> [logscan] kubectl logs stream ended (exit N)"
  (patterns/logscan.toml turns it into the `stream_ended` signal). It carries the container's
  last stamp, not the wall clock, so event time stays in step with the container's own lines;
- starts kubectl again with `--since-time` of the last line it saw (the earliest over the
  containers that child followed) and `--tail=-1` (with a selector kubectl would default to
  the last 10 lines), after a back-off: 0.5 s doubling to 30 s while the pod is gone or
  waiting (kubectl fails at once), back to 0.5 s after a run that delivered new lines;
- drops the overlap. The API server gets `sinceTime` with second precision (metav1.Time), so
  the new child repeats lines up to a second older than the last one seen. Per container,
  lines older than its last stamp are dropped, and of the lines at exactly that stamp (several
  lines can share one) those already seen are dropped once each, by content digest.

The checkpoint of a container is its last stamp followed by those digests, so `--state`
resumes the same way (`--since-time` of the earliest container). A kubectl that cannot be run
at all sets `error` and `stop`; kubectl's own errors (pod not found, container waiting in
CrashLoopBackOff, no such namespace) are logged once per distinct message and retried, since
each of them ends by itself in a crash loop.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import hashlib
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from logscan.errors import ConfigError, SourceError
from logscan.sources.base import Checkpoint, Chunk, Emit
from logscan.sources.process import Backoff, Child, describe_exit, spawn

_log = logging.getLogger("logscan.sources.kubectl")

_STOP_CHECK_S = 0.2  # the longest a read waits before looking at `stop` again
# "[logscan]" and not "logscan:": framing would take "word: text" after traceback frames for
# the exception line that ends the traceback, and a container can die in the middle of one.
STREAM_ENDED = "[logscan] kubectl logs stream ended (exit {code})"
# kubelet's --timestamps stamp is RFC3339Nano with a fixed 9-digit fraction
# (pkg/kubelet/kuberuntime/logs: "2006-01-02T15:04:05.000000000Z07:00"); any RFC 3339 is taken.
_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class KubectlQuery:
    """What to follow: `kubectl logs` selection options, passed through unchanged."""

    target: str = ""  # pod name, TYPE/NAME (deploy/bento), or "" with a selector
    namespace: str | None = None
    container: str | None = None
    all_containers: bool = False
    selector: str | None = None
    binary: str = "kubectl"

    @property
    def name(self) -> str:
        return "kubectl:" + (self.target or f"-l {self.selector}")

    def argv(self, since_time: str = "") -> list[str]:
        """The kubectl command line; with `since_time`, everything from that time on."""
        argv = [self.binary, "logs", "--follow", "--timestamps", "--prefix"]
        argv += [self.target] if self.target else []
        argv += [f"--namespace={self.namespace}"] if self.namespace else []
        argv += [f"--container={self.container}"] if self.container else []
        argv += ["--all-containers"] if self.all_containers else []
        argv += [f"--selector={self.selector}"] if self.selector else []
        argv += [f"--since-time={since_time}", "--tail=-1"] if since_time else []
        return argv


def kubectl_query(
    target: str,
    *,
    namespace: str | None = None,
    container: str | None = None,
    all_containers: bool = False,
    selector: str | None = None,
    binary: str = "kubectl",
) -> KubectlQuery:
    """The query for the `watch --kubectl` options; ConfigError for one that cannot work."""
    if not target and not selector:
        raise ConfigError("--kubectl: name a TARGET (pod, deploy/NAME, …) or a --selector")
    if container and all_containers:
        raise ConfigError("--container and --all-containers: kubectl takes one or the other")
    return KubectlQuery(
        target=target,
        namespace=namespace,
        container=container,
        all_containers=all_containers,
        selector=selector,
        binary=binary,
    )


class _Container:
    """One container's position: its last stamp, and the lines seen at exactly that stamp."""

    __slots__ = ("at_last", "instant", "pending", "prefix", "stamp", "stream")

    def __init__(self, prefix: bytes, stamp: str = "", digests: Iterable[str] = ()) -> None:
        self.prefix = prefix  # b"[pod/NAME/CONTAINER]"
        self.stream = "kubectl:" + prefix[5:-1].decode("utf-8", "replace")
        self.stamp = stamp
        self.instant = instant(stamp) if stamp else None
        self.at_last = collections.Counter(digests)
        self.pending = collections.Counter(self.at_last)  # seen before: drop once each

    def admit(self, moment: int, stamp: str, line: bytes) -> bool:
        """False for a line an earlier kubectl already delivered."""
        digest = hashlib.blake2b(line, digest_size=8).hexdigest()
        if self.instant is not None and moment <= self.instant:
            if moment < self.instant:
                return False
            if self.pending[digest] > 0:
                self.pending[digest] -= 1
                return False
            self.at_last[digest] += 1
            return True
        self.instant, self.stamp = moment, stamp
        self.at_last = collections.Counter({digest: 1})
        self.pending.clear()
        return True

    def restart(self) -> None:
        """A new kubectl will repeat the lines at the last stamp: expect each once more."""
        self.pending = collections.Counter(self.at_last)

    def checkpoint(self) -> Checkpoint:
        cursor = " ".join([self.stamp, ",".join(sorted(self.at_last.elements()))])
        return Checkpoint(kind="kubectl", key=self.stream, cursor=cursor.rstrip())


class KubectlSource:
    """Follows one `kubectl logs` target through container deaths; a `LiveSource`."""

    def __init__(
        self,
        query: KubectlQuery,
        *,
        positions: Mapping[str, Checkpoint] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = query.name
        self._query = query
        self._containers: dict[bytes, _Container] = {}
        for key, checkpoint in (positions or {}).items():
            if checkpoint.kind == "kubectl" and key.startswith("kubectl:"):
                stamp, _, digests = checkpoint.cursor.partition(" ")
                prefix = f"[pod/{key.removeprefix('kubectl:')}]".encode()
                self._containers[prefix] = _Container(
                    prefix, stamp, filter(None, digests.split(","))
                )
        self._since = _earliest(self._containers.values())
        self._backoff = backoff or Backoff()
        self.error: SourceError | None = None  # set when kubectl cannot be run at all
        self.starts = 0

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Follow until `stop` is set, restarting kubectl whenever it exits."""
        reported = ""
        while not stop.is_set():
            child = spawn(self._query.argv(self._since), _log)
            if isinstance(child, str):
                self.error = SourceError(f"{child} (--kubectl-bin)")
                stop.set()
                return
            self.starts += 1
            followed: dict[bytes, _Container] = {}
            produced = self._follow(child, emit, stop, followed)
            if stop.is_set():
                return
            self._ended(child, followed.values(), emit)
            reason = describe_exit(child)
            if child.exit_code != 0 and reason != reported:
                _log.warning("kubectl logs ended (%s); restarting it", reason)
            reported = reason
            stop.wait(self._backoff.delay(productive=produced))

    def _follow(
        self, child: Child, emit: Emit, stop: threading.Event, followed: dict[bytes, _Container]
    ) -> bool:
        """Emit what `child` prints until it ends or `stop`; True if any of it was new."""
        produced = False
        try:
            while not stop.is_set():
                block = child.read(_STOP_CHECK_S)
                if block is None:
                    break
                if block:
                    produced |= self._lines(block, emit, followed)
        finally:
            child.stop()
        return produced

    def _lines(self, block: bytes, emit: Emit, followed: dict[bytes, _Container]) -> bool:
        """Drop the overlap; emit each run of one container's new lines as one chunk."""
        run: list[bytes] = []
        owner: _Container | None = None
        new = False
        for line in block.split(b"\n")[:-1]:
            container, moment, stamp = self._place(line)
            if container is not None:
                followed[container.prefix] = container
                if moment is not None and not container.admit(moment, stamp, line):
                    continue
            if container is not owner and run:
                self._emit(run, owner, emit)
                run = []
            owner = container
            run.append(line)
            new = True
        if run:
            self._emit(run, owner, emit)
        return new

    def _place(self, line: bytes) -> tuple[_Container | None, int | None, str]:
        """The line's container, and its stamp as an instant (ns) and as text."""
        end = line.find(b"] ") if line.startswith(b"[pod/") else -1
        if end < 0:
            return None, None, ""
        prefix = line[: end + 1]
        container = self._containers.get(prefix)
        if container is None:
            container = self._containers[prefix] = _Container(prefix)
        space = line.find(b" ", end + 2)
        stamp = line[end + 2 : space if space >= 0 else len(line)].decode("ascii", "replace")
        return container, instant(stamp), stamp

    def _emit(self, run: list[bytes], owner: _Container | None, emit: Emit) -> None:
        data = b"\n".join(run) + b"\n"
        if owner is None:  # no "[pod/…]" prefix: kept, under the target's name
            emit(Chunk(stream=self.name, source=self.name, data=data))
            return
        checkpoint = owner.checkpoint() if owner.instant is not None else None
        emit(Chunk(stream=owner.stream, source=owner.stream, data=data, checkpoint=checkpoint))

    def _ended(self, child: Child, followed: Iterable[_Container], emit: Emit) -> None:
        """Say in each followed stream that it ended; resume from the earliest of them."""
        followed = tuple(followed)
        message = STREAM_ENDED.format(code=child.exit_code)
        for container in followed:
            stamp = f" {container.stamp}" if container.stamp else ""
            data = container.prefix + f"{stamp} {message}\n".encode()
            emit(Chunk(stream=container.stream, source=container.stream, data=data))
            container.restart()
        self._since = _earliest(followed) or self._since


def instant(stamp: str) -> int | None:
    """Nanoseconds since the epoch of an RFC 3339 stamp; None for anything else. Exact
    integers, not floats: two lines at the same stamp must compare equal."""
    found = _STAMP.fullmatch(stamp)
    if found is None:
        return None
    base, fraction, zone = found.groups()
    seconds = _seconds(base + ("+00:00" if zone == "Z" else zone))
    if seconds is None:
        return None
    return seconds * 1_000_000_000 + int((fraction or "").ljust(9, "0"))


@functools.lru_cache(maxsize=1024)
def _seconds(text: str) -> int | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:  # the shape of a stamp, not a real time ("2024-13-45T…")
        return None
    return (moment - _EPOCH) // dt.timedelta(seconds=1)


def _earliest(containers: Iterable[_Container]) -> str:
    """The earliest last stamp among `containers` ("" when none has one)."""
    stamped = [c for c in containers if c.instant is not None]
    return min(stamped, key=lambda c: c.instant or 0).stamp if stamped else ""
