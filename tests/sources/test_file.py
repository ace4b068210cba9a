"""The file follower against real files and a real reader thread: every rotation style, resume."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from logscan.sources import follower, wake
from logscan.sources.base import Checkpoint, Chunk
from logscan.sources.file import FileSource
from logscan.sources.tailer import Identity

DEADLINE_S = 20.0  # generous for a loaded 2-core machine; passing runs take a fraction of it
FAST = {"poll_interval": 0.02, "rescan_interval": 0.05, "rotate_grace": 0.05}
MODES = [pytest.param(True, id="watchdog"), pytest.param(False, id="polling")]


class Collector:
    """The runner's side of `emit`: rebuilds lines per stream, checks offsets never skip."""

    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self.lines: list[tuple[str, str]] = []  # (source, line), in emit order
        self.errors: list[str] = []  # found on the reader thread, asserted on the test thread
        self._partial: dict[str, bytes] = {}
        self._offsets: dict[str, int] = {}
        self._closed: set[str] = set()
        self._changed = threading.Condition()

    def __call__(self, chunk: Chunk) -> None:
        with self._changed:
            self.chunks.append(chunk)
            self._check(chunk)
            *complete, rest = (self._partial.pop(chunk.stream, b"") + chunk.data).split(b"\n")
            self.lines += [(chunk.source, line.decode()) for line in complete]
            if chunk.final:
                self._closed.add(chunk.stream)
                if rest:
                    self.lines.append((chunk.source, rest.decode()))
            elif rest:
                self._partial[chunk.stream] = rest
            self._changed.notify_all()

    def _check(self, chunk: Chunk) -> None:
        if chunk.stream in self._closed:
            self.errors.append(f"chunk after final: {chunk.stream}")
        if chunk.checkpoint is None:
            return
        before = self._offsets.get(chunk.stream)
        if before is not None and chunk.checkpoint.offset != before + len(chunk.data):
            self.errors.append(f"{chunk.stream}: {before} + {len(chunk.data)} bytes")
        self._offsets[chunk.stream] = chunk.checkpoint.offset

    def texts(self, source: str | Path | None = None) -> list[str]:
        with self._changed:
            return [text for where, text in self.lines if source is None or where == str(source)]

    def wait_for(self, condition: Callable[[Collector], bool], within: float = DEADLINE_S) -> bool:
        """Wait until `condition` holds (True) or `within` seconds passed (False)."""
        deadline = time.monotonic() + within
        with self._changed:
            while not condition(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.05))  # also re-checks what chunks do not signal
            return True

    def wait_lines(self, count: int, source: str | Path | None = None) -> bool:
        return self.wait_for(lambda found: len(found.texts(source)) >= count)

    def last_checkpoint(self, source: Path) -> Checkpoint:
        with self._changed:
            found = [c.checkpoint for c in self.chunks if c.source == str(source)]
        checkpoint = found[-1]
        assert checkpoint is not None
        return checkpoint


class Following:
    """A FileSource running on its own thread, as the runner runs it."""

    def __init__(self, source: FileSource) -> None:
        self.collector = Collector()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=source.run, args=(self.collector, self._stop))
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(DEADLINE_S)
        assert not self._thread.is_alive()
        assert [] == self.collector.errors

    def sync(self, probe: Path) -> None:
        """Wait until the first scan is done: `probe` existed at start, so it was read from its
        end, and a line appended to it shows up only once the follower holds it open."""
        with probe.open("a") as out:
            for _ in range(int(DEADLINE_S / 0.1)):
                out.write("tick\n")
                out.flush()
                if self.collector.wait_for(lambda c: bool(c.texts(probe)), within=0.1):
                    return
        pytest.fail("the follower never read its probe file")


@pytest.fixture
def follow() -> Iterator[Callable[[FileSource], Following]]:
    started: list[Following] = []

    def start(source: FileSource) -> Following:
        started.append(Following(source))
        return started[-1]

    yield start
    for following in started:
        following.stop()


def numbered(first: int, last: int) -> bytes:
    return "".join(f"line {n:06d}\n" for n in range(first, last + 1)).encode()


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as out:
        out.write(data)


def write_in_pieces(fd: int, data: bytes, piece: int = 4093) -> None:
    """Writes that cut lines in the middle, as a busy writer's buffer flushes do."""
    for start in range(0, len(data), piece):
        os.write(fd, data[start : start + piece])


def probe_file(tmp_path: Path) -> Path:
    probe = tmp_path / "probe" / "probe.log"
    probe.parent.mkdir()
    probe.touch()
    return probe


class TestFollowing:
    @pytest.mark.parametrize("watchdog", MODES)
    def test_starts_at_end_and_follows_appends(
        self, tmp_path: Path, follow: Callable[[FileSource], Following], watchdog: bool
    ) -> None:
        """Lines already there are history; lines appended after start are followed."""
        log, probe = tmp_path / "app.log", probe_file(tmp_path)
        log.write_bytes(b"old 1\nold 2\n")
        following = follow(FileSource([str(log), str(probe)], use_watchdog=watchdog, **FAST))
        following.sync(probe)
        append(log, b"new 1\nnew ")
        append(log, b"2\n")
        assert following.collector.wait_lines(2, log)
        assert ["new 1", "new 2"] == following.collector.texts(log)

    def test_start_at_end_waits_for_a_half_written_line(
        self, tmp_path: Path, follow: Callable[[FileSource], Following]
    ) -> None:
        """Starting at the end of a line being written takes that whole line, not its tail."""
        log, probe = tmp_path / "app.log", probe_file(tmp_path)
        log.write_bytes(b"old\nhalf a ")
        following = follow(FileSource([str(log), str(probe)], **FAST))
        following.sync(probe)
        append(log, b"line\n")
        assert following.collector.wait_lines(1, log)
        assert ["half a line"] == following.collector.texts(log)

    def test_from_start_reads_what_is_there(
        self, tmp_path: Path, follow: Callable[[FileSource], Following]
    ) -> None:
        """With from_start, existing content is read, then appends."""
        log = tmp_path / "app.log"
        log.write_bytes(b"one\ntwo\n")
        following = follow(FileSource([str(log)], from_start=True, **FAST))
        assert following.collector.wait_lines(2, log)
        append(log, b"three\n")
        assert following.collector.wait_lines(3, log)
        assert ["one", "two", "three"] == following.collector.texts(log)

    @pytest.mark.parametrize("watchdog", MODES)
    def test_new_files_matching_the_glob_are_read_from_0(
        self, tmp_path: Path, follow: Callable[[FileSource], Following], watchdog: bool
    ) -> None:
        """A file created after start is new content: all of it is read."""
        logs, probe = tmp_path / "logs", probe_file(tmp_path)
        logs.mkdir()
        (logs / "old.log").write_bytes(b"old\n")
        pattern = str(logs / "*.log")
        following = follow(FileSource([pattern, str(probe)], use_watchdog=watchdog, **FAST))
        following.sync(probe)
        (logs / "new.log").write_bytes(b"first\nsecond\n")
        (logs / "other.txt").write_bytes(b"not matched\n")
        assert following.collector.wait_lines(2, logs / "new.log")
        append(logs / "new.log", b"third\n")
        assert following.collector.wait_lines(3, logs / "new.log")
        assert ["first", "second", "third"] == following.collector.texts(logs / "new.log")
        assert [] == following.collector.texts(logs / "old.log")
        assert [] == following.collector.texts(logs / "other.txt")

    def test_checkpoints_name_the_path_and_identity(
        self, tmp_path: Path, follow: Callable[[FileSource], Following]
    ) -> None:
        """Chunks carry the stream, the path as source, and a checkpoint at the offset reached."""
        log = tmp_path / "app.log"
        log.write_bytes(b"x\n")
        following = follow(FileSource([str(log)], from_start=True, **FAST))
        assert following.collector.wait_lines(1, log)
        chunk = following.collector.chunks[0]
        identity = Identity.parse(chunk.checkpoint.identity if chunk.checkpoint else "")
        assert identity is not None
        info = log.stat()
        assert (info.st_dev, info.st_ino, 2) == (identity.dev, identity.ino, identity.nbytes)
        expected = Checkpoint(kind="file", key=str(log), identity=str(identity), offset=2)
        assert expected == chunk.checkpoint
        assert (f"{log}@{identity}", str(log), False) == (chunk.stream, chunk.source, chunk.final)

    def test_unreadable_file_is_reported_once_and_skipped(
        self,
        tmp_path: Path,
        follow: Callable[[FileSource], Following],
        caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A permission error is one warning, however often it is retried; access comes back."""
        secret, log = tmp_path / "secret.log", tmp_path / "app.log"
        secret.write_bytes(b"hidden\n")
        log.write_bytes(b"visible\n")
        denied = threading.Event()
        denied.set()
        attempts: list[str] = []
        real_open = follower.open_regular

        def open_regular(path: str) -> int | None:  # root ignores chmod 0: deny it here
            if denied.is_set() and path == str(secret):
                attempts.append(path)
                raise PermissionError(13, "Permission denied", path)
            return real_open(path)

        monkeypatch.setattr(follower, "open_regular", open_regular)
        caplog.set_level(logging.WARNING, logger="logscan.sources.file")
        following = follow(FileSource([str(tmp_path / "*.log")], from_start=True, **FAST))
        assert following.collector.wait_lines(1, log)
        assert following.collector.wait_for(lambda _: len(attempts) >= 3)  # rescans retry it
        denied.clear()
        assert following.collector.wait_lines(1, secret)
        assert ["hidden"] == following.collector.texts(secret)
        assert 1 == sum("secret.log" in record.getMessage() for record in caplog.records)

    def test_falls_back_to_polling_when_watches_are_refused(
        self,
        tmp_path: Path,
        follow: Callable[[FileSource], Following],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """inotify out of watches (ENOSPC) or NFS: the same lines arrive by polling."""
        monkeypatch.setattr(wake.Waker, "watch", lambda *_: False)
        log = tmp_path / "app.log"
        log.write_bytes(b"one\n")
        following = follow(FileSource([str(log)], from_start=True, **FAST))
        assert following.collector.wait_lines(1, log)
        append(log, b"two\n")
        assert following.collector.wait_lines(2, log)
        assert ["one", "two"] == following.collector.texts(log)

    def test_stop_is_prompt_and_leaves_no_thread(self, tmp_path: Path) -> None:
        """stop ends run() and the watchdog observer; the file descriptors are closed."""
        log = tmp_path / "app.log"
        log.write_bytes(b"x\n")
        before = set(threading.enumerate())
        fds_before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
        following = Following(FileSource([str(log)], from_start=True))
        assert following.collector.wait_lines(1, log)
        following.stop()
        assert set() == set(threading.enumerate()) - before
        if fds_before:
            assert fds_before == len(os.listdir("/proc/self/fd"))


class TestIdentity:
    def test_stable_while_a_tiny_file_grows(self, tmp_path: Path) -> None:
        """A crash log of a few bytes keeps its identity as it grows past head_bytes."""
        log = tmp_path / "crash.log"
        log.write_bytes(b"boom\n")
        fd = os.open(log, os.O_RDONLY)
        try:
            first = Identity.of(fd, head_bytes=1024)
            append(log, b"x" * 5000)
            assert 5 == first.nbytes
            assert first.holds(fd)
            assert first == Identity.parse(str(first))
            assert first != Identity.of(fd, head_bytes=1024)  # a fresh look hashes more bytes
        finally:
            os.close(fd)

    def test_differs_for_a_new_file_with_other_first_bytes(self, tmp_path: Path) -> None:
        """Delete and recreate may reuse the inode number; the head hash still tells them apart.

        Guaranteed: a different inode, or different first bytes, is a different identity. Not
        guaranteed: a reused inode whose new content starts with the same bytes (as many as
        were hashed) is taken for the old file; for logs whose lines start with timestamps this
        needs the same first line to the second.
        """
        log = tmp_path / "app.log"
        log.write_bytes(b"2024-01-01T00:00:00 start\n")
        fd = os.open(log, os.O_RDONLY)
        try:
            old = Identity.of(fd, head_bytes=1024)
        finally:
            os.close(fd)
        log.unlink()
        log.write_bytes(b"2024-01-01T00:00:01 start\n")
        fd = os.open(log, os.O_RDONLY)
        try:
            assert not old.holds(fd)
            assert str(old) != str(Identity.of(fd, head_bytes=1024))
        finally:
            os.close(fd)

    @pytest.mark.parametrize("text", ["", "1:2:3", "a:2:3:ff", "1:2:3:ff:extra"])
    def test_parse_rejects_other_text(self, text: str) -> None:
        """A checkpoint from elsewhere (or an older format) is not an identity."""
        assert None is Identity.parse(text)


STYLES = ["rename", "delete", "symlink", "copytruncate", "truncate"]
TOTAL_LINES = 20_000
ROTATIONS = 5


def segments() -> list[tuple[int, int]]:
    """TOTAL_LINES numbers cut into ROTATIONS + 1 files' worth."""
    bounds = [round(part * TOTAL_LINES / (ROTATIONS + 1)) for part in range(ROTATIONS + 2)]
    return [(bounds[part] + 1, bounds[part + 1]) for part in range(ROTATIONS + 1)]


def create(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)


class Rotator:
    """Plays logrotate (or kubelet) on `log` while a writer holds `fd`; returns the new fd."""

    def __init__(self, tmp_path: Path, style: str) -> None:
        self.style = style
        self.log = tmp_path / "containers" / "app.log"
        self.log.parent.mkdir()
        self.pods = tmp_path / "pods"
        if style == "symlink":  # /var/log/containers/x.log -> /var/log/pods/…/0.log
            self.pods.mkdir()
            (self.pods / "0.log").touch()
            self.log.symlink_to(self.pods / "0.log")

    def rotate(self, fd: int, number: int) -> int:
        log = self.log
        if self.style == "rename":  # logrotate `create`: rename, then a new empty file
            log.rename(f"{log}.{number}")
            return self._reopen(fd, log)
        if self.style == "delete":
            log.unlink()
            return self._reopen(fd, log)
        if self.style == "symlink":  # kubelet: a new container, a new file, the link re-pointed
            target, link = self.pods / f"{number}.log", log.with_suffix(".tmp")
            new_fd = self._reopen(fd, target)
            link.symlink_to(target)
            link.replace(log)  # rename(2) over the old link: atomic, as kubelet does
            return new_fd
        if self.style == "copytruncate":
            shutil.copyfile(log, f"{log}.{number}")
            os.truncate(log, 0)
            return fd  # the writer keeps its O_APPEND descriptor
        log.open("w").close()  # `: > app.log`
        return fd

    @staticmethod
    def _reopen(fd: int, path: Path) -> int:
        os.close(fd)
        return create(path)

    @property
    def in_place(self) -> bool:
        """The old content is gone at once: nothing may be unread when rotating."""
        return self.style in {"copytruncate", "truncate"}


class TestRotation:
    @pytest.mark.parametrize("watchdog", MODES)
    @pytest.mark.parametrize("style", STYLES)
    def test_every_line_exactly_once(
        self,
        tmp_path: Path,
        follow: Callable[[FileSource], Following],
        style: str,
        watchdog: bool,
    ) -> None:
        """20 000 numbered lines across 5 rotations: each number is emitted exactly once.

        For copytruncate and truncate the writer waits until every line was read before it
        rotates: logrotate copies and then truncates, and whatever is appended in between is in
        neither file; a follower cannot get back what logrotate itself lost.
        """
        rotator = Rotator(tmp_path, style)
        fd = create(rotator.log)
        source = FileSource([str(rotator.log)], from_start=True, use_watchdog=watchdog, **FAST)
        collector = follow(source).collector
        written = 0
        for number, (first, last) in enumerate(segments()):
            write_in_pieces(fd, numbered(first, last))
            written = last
            if number == ROTATIONS:
                break
            if rotator.in_place:
                assert collector.wait_lines(written, rotator.log)
            else:  # the follower has this file open; it may be far from its end
                assert collector.wait_for(lambda c, first=first: f"line {first:06d}" in c.texts())
            fd = rotator.rotate(fd, number + 1)
        os.close(fd)
        assert collector.wait_lines(TOTAL_LINES, rotator.log)
        expected = Counter(numbered(1, TOTAL_LINES).decode().splitlines())
        assert expected == Counter(collector.texts(rotator.log))
        finals = [chunk for chunk in collector.chunks if chunk.final]
        assert ROTATIONS == len(finals)

    def test_old_file_is_finished_before_the_new_one(
        self, tmp_path: Path, follow: Callable[[FileSource], Following]
    ) -> None:
        """Until the server reopens its log, it writes to the renamed file: those lines come
        first, then the old stream's final chunk, then the new file."""
        log = tmp_path / "app.log"
        fd = create(log)
        source = FileSource([str(log)], from_start=True, poll_interval=0.02, rotate_grace=2.0)
        collector = follow(source).collector
        os.write(fd, b"old 1\n")
        assert collector.wait_lines(1, log)
        log.rename(tmp_path / "app.log.1")
        new_fd = create(log)
        os.write(new_fd, b"new 1\n")
        os.write(fd, b"old 2\n")  # before the postrotate USR1 reached the server
        os.close(fd)
        assert collector.wait_lines(3, log)
        assert ["old 1", "old 2", "new 1"] == collector.texts(log)
        streams = [(chunk.stream, chunk.final) for chunk in collector.chunks if chunk.final]
        assert [(collector.chunks[0].stream, True)] == streams
        os.close(new_fd)

    @pytest.mark.parametrize("watchdog", MODES)
    def test_glob_matching_rotated_names_reads_nothing_twice(
        self, tmp_path: Path, follow: Callable[[FileSource], Following], watchdog: bool
    ) -> None:
        """With `app.log*`, app.log.1 appearing is the file already read, not new content."""
        log = tmp_path / "app.log"
        fd = create(log)
        pattern = str(tmp_path / "app.log*")
        source = FileSource([pattern], from_start=True, use_watchdog=watchdog, **FAST)
        collector = follow(source).collector
        for number in range(1, 4):
            os.write(fd, numbered(number * 10, number * 10 + 9))
            assert collector.wait_lines(number * 10)
            for older in range(number - 1, 0, -1):  # logrotate shifts .1 to .2 first
                (tmp_path / f"app.log.{older}").rename(tmp_path / f"app.log.{older + 1}")
            log.rename(tmp_path / "app.log.1")
            fd = Rotator._reopen(fd, log)
        os.write(fd, b"last\n")
        os.close(fd)
        assert collector.wait_for(lambda c: "last" in c.texts())
        # A re-read would show up as the rotated files' appearance is handled; give it time.
        assert collector.wait_for(lambda c: len(c.texts()) > 31, within=0.5) is False
        expected = [
            f"line {n:06d}" for number in range(1, 4) for n in range(number * 10, number * 10 + 10)
        ]
        assert Counter([*expected, "last"]) == Counter(collector.texts())


class TestResume:
    def first_run(self, log: Path, follow: Callable[[FileSource], Following]) -> Checkpoint:
        """Read lines 1-100 of `log`, stop, and return the last checkpoint, as the runner would."""
        log.write_bytes(numbered(1, 100))
        first = follow(FileSource([str(log)], from_start=True, **FAST))
        assert first.collector.wait_lines(100, log)
        first.stop()
        return first.collector.last_checkpoint(log)

    def test_continues_at_the_checkpoint(
        self, tmp_path: Path, follow: Callable[[FileSource], Following]
    ) -> None:
        """Lines written while down and after the restart are read once; older ones not again."""
        log = tmp_path / "app.log"
        checkpoint = self.first_run(log, follow)
        append(log, numbered(101, 150))
        second = follow(FileSource([str(log)], positions={str(log): checkpoint}, **FAST))
        assert second.collector.wait_lines(50, log)
        append(log, numbered(151, 160))
        assert second.collector.wait_lines(60, log)
        assert numbered(101, 160).decode().splitlines() == second.collector.texts(log)
        assert f"{log}@{checkpoint.identity}" == second.collector.chunks[0].stream

    def test_rotated_while_down_finishes_the_old_file_first(
        self, tmp_path: Path, follow: Callable[[FileSource], Following]
    ) -> None:
        """logrotate renamed the file while logscan was down: app.log.1 is found by its identity
        and read from the checkpoint, its stream closed, then the new app.log is read from 0."""
        log = tmp_path / "app.log"
        checkpoint = self.first_run(log, follow)
        append(log, numbered(101, 120))  # written before the rotation, never read
        log.rename(tmp_path / "app.log.1")
        log.write_bytes(numbered(121, 130))
        second = follow(FileSource([str(log)], positions={str(log): checkpoint}, **FAST))
        assert second.collector.wait_lines(30, log)
        assert numbered(101, 130).decode().splitlines() == second.collector.texts(log)
        old_stream = f"{log}@{checkpoint.identity}"
        finals = [chunk.stream for chunk in second.collector.chunks if chunk.final]
        assert [old_stream] == finals
        streams = list(dict.fromkeys(chunk.stream for chunk in second.collector.chunks))
        assert old_stream == streams[0]
        assert 2 == len(streams)

    def test_rotated_and_deleted_while_down_reads_the_new_file_from_0(
        self, tmp_path: Path, follow: Callable[[FileSource], Following]
    ) -> None:
        """The old file is gone (deleted, or compressed by logrotate): its stream is closed by
        an empty final chunk, and the file now at the path is read from 0."""
        log = tmp_path / "app.log"
        checkpoint = self.first_run(log, follow)
        log.unlink()
        log.write_bytes(numbered(121, 130))
        second = follow(FileSource([str(log)], positions={str(log): checkpoint}, **FAST))
        assert second.collector.wait_lines(10, log)
        assert numbered(121, 130).decode().splitlines() == second.collector.texts(log)
        first = second.collector.chunks[0]
        assert (f"{log}@{checkpoint.identity}", b"", True) == (
            first.stream,
            first.data,
            first.final,
        )

    def test_truncated_while_down_reads_from_0(
        self, tmp_path: Path, follow: Callable[[FileSource], Following]
    ) -> None:
        """The same inode, now shorter than the checkpoint (copytruncate): read from 0."""
        log = tmp_path / "app.log"
        checkpoint = self.first_run(log, follow)
        log.write_bytes(numbered(121, 130))
        second = follow(FileSource([str(log)], positions={str(log): checkpoint}, **FAST))
        assert second.collector.wait_lines(10, log)
        assert numbered(121, 130).decode().splitlines() == second.collector.texts(log)
