"""The journald source against the real journalctl, on journal files written by the real
systemd-journal-remote from the entries of samples/journald/crash_loop.jsonl.

systemd-journal-remote appends to an existing --output file, and `journalctl --follow
--file`/`--directory` sees entries appended to it and files added to the directory.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from logscan.errors import ConfigError
from logscan.sources.journald import (
    JournaldQuery,
    JournaldSource,
    journald_query,
    last_cursor,
)
from logscan.sources.process import Backoff
from tests.conftest import SAMPLES
from tests.live.test_watch import Watch, opened
from tests.sources.running import DEADLINE_S, Running

REMOTE = Path("/usr/lib/systemd/systemd-journal-remote")
JOURNALCTL = shutil.which("journalctl")
SAMPLE = SAMPLES / "journald" / "crash_loop.jsonl"
ENTRIES: list[dict[str, Any]] = [json.loads(line) for line in SAMPLE.read_text().splitlines()]

# signatures of records that are never joined with others: each entry of theirs counts once
SINGLE_LINE = ("gunicorn.worker_timeout", "gunicorn.worker_sigkill", "gunicorn.booting_worker",
               "http.access")  # fmt: skip

needs_journal = pytest.mark.skipif(
    JOURNALCTL is None or not REMOTE.exists(),
    reason="needs journalctl and /usr/lib/systemd/systemd-journal-remote "
    "(apt-get install systemd-journal-remote; .ci/run installs it)",
)


def export(entries: list[dict[str, Any]]) -> bytes:
    """systemd's Journal Export Format for `entries` as `journalctl -o json` printed them; the
    fields journald computes itself (__CURSOR, __SEQNUM…) are left out."""
    out = bytearray()
    for entry in entries:
        for key, value in entry.items():
            if key.startswith("__") and key not in {
                "__REALTIME_TIMESTAMP",
                "__MONOTONIC_TIMESTAMP",
            }:
                continue
            raw = bytes(value) if isinstance(value, list) else str(value).encode()
            if b"\n" in raw:  # a binary field: name, newline, 64-bit LE size, data
                out += key.encode() + b"\n" + len(raw).to_bytes(8, "little") + raw + b"\n"
            else:
                out += key.encode() + b"=" + raw + b"\n"
        out += b"\n"
    return bytes(out)


def write_journal(path: Path, entries: list[dict[str, Any]]) -> None:
    """Append `entries` to the journal file `path` (created when missing)."""
    subprocess.run(
        [str(REMOTE), f"--output={path}", "-"],
        input=export(entries),
        check=True,
        capture_output=True,
        timeout=DEADLINE_S,
    )


def crash_loop_an_hour_later(last: dict[str, Any]) -> list[dict[str, Any]]:
    """Three worker timeouts (distinct pids) an hour after `last`: a new crash loop."""
    entries = []
    for n in range(3):
        realtime = int(last["__REALTIME_TIMESTAMP"]) + 3_600_000_000 + n
        stamp = dt.datetime.fromtimestamp(realtime / 1e6, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        entries.append(
            dict(
                last,
                __REALTIME_TIMESTAMP=str(realtime),
                __MONOTONIC_TIMESTAMP=str(int(last["__MONOTONIC_TIMESTAMP"]) + 3_600_000_000 + n),
                MESSAGE=f"[{stamp} +0000] [9526] [CRITICAL] WORKER TIMEOUT (pid:{90000 + n})",
            )
        )
    return entries


def messages(running: Running) -> list[str]:
    return [json.loads(line)["MESSAGE"] for line in running.lines()]


def texts(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["MESSAGE"] for entry in entries]


def source(query: JournaldQuery, **options: Any) -> JournaldSource:
    return JournaldSource(query, backoff=Backoff(0.01, 0.04), **options)


@needs_journal
class TestFollow:
    def test_from_start_then_appended_entries_with_cursor_checkpoints(self, tmp_path: Path) -> None:
        """--from-start reads the file, then entries appended while following arrive; each
        chunk's checkpoint is the cursor of its last entry, as journalctl printed it."""
        journal = tmp_path / "bento.journal"
        write_journal(journal, ENTRIES[:40])
        running = Running(source(journald_query(files=[str(journal)]), from_start=True))
        running.wait_lines(40)
        write_journal(journal, ENTRIES[40:100])
        running.wait_lines(100)
        running.stop()
        assert texts(ENTRIES[:100]) == messages(running)
        for chunk in running.chunks:
            assert chunk.checkpoint is not None
            assert last_cursor(chunk.data) == chunk.checkpoint.cursor
            assert json.loads(chunk.data.splitlines()[-1])["__CURSOR"] == chunk.checkpoint.cursor
        assert {"journald:*@" + str(journal)} == {chunk.stream for chunk in running.chunks}

    def test_without_from_start_only_new_entries(self, tmp_path: Path) -> None:
        """Like a file read from its end: what the journal held at start is not replayed."""
        journal = tmp_path / "bento.journal"
        write_journal(journal, ENTRIES[:20])
        followed = source(journald_query(files=[str(journal)]))
        running = Running(followed)
        # journalctl is ready once it printed something: append entries until one arrives
        for start in range(20, len(ENTRIES), 10):
            write_journal(journal, ENTRIES[start : start + 10])
            if running.poll(lambda r: bool(r.lines()), within=1.0):
                break
        running.stop()
        assert ENTRIES[0]["MESSAGE"] not in messages(running)
        assert "--lines=0" in journald_query(files=[str(journal)]).argv()

    def test_unit_filter_and_new_file_in_directory(self, tmp_path: Path) -> None:
        """--directory: a journal file that appears later is followed too; --unit keeps only
        that unit's entries."""
        other = [dict(entry, _SYSTEMD_UNIT="other.service") for entry in ENTRIES[:5]]
        write_journal(tmp_path / "a.journal", ENTRIES[:10] + other)
        query = journald_query(units=["bento.service"], directory=str(tmp_path))
        running = Running(source(query, from_start=True))
        running.wait_lines(10)
        write_journal(tmp_path / "b.journal", ENTRIES[10:30])
        running.wait_lines(30)
        running.stop()
        assert texts(ENTRIES[:30]) == messages(running)
        assert f"journald:bento.service@{tmp_path}" == running.chunks[0].stream

    def test_resume_after_cursor_no_repeat_no_gap(self, tmp_path: Path) -> None:
        """Started again from the last checkpoint (as --state does), with entries appended
        meanwhile: exactly the entries after it, none twice, none missing."""
        journal = tmp_path / "bento.journal"
        write_journal(journal, ENTRIES[:50])
        query = journald_query(files=[str(journal)])
        first = Running(source(query, from_start=True))
        first.wait_lines(50)
        first.stop()
        last = first.chunks[-1].checkpoint
        assert last is not None
        write_journal(journal, ENTRIES[50:80])
        second = Running(source(query, from_start=True, positions={query.key: last}))
        second.wait_lines(30)
        write_journal(journal, ENTRIES[80:90])
        second.wait_lines(40)
        second.stop()
        assert texts(ENTRIES[:90]) == messages(first) + messages(second)
        assert f"--after-cursor={last.cursor}" in query.argv(cursor=last.cursor)

    def test_journalctl_killed_restarts_from_the_cursor(self, tmp_path: Path) -> None:
        """A journalctl that dies mid-run is started again after the last entry it printed."""
        journal = tmp_path / "bento.journal"
        write_journal(journal, ENTRIES[:30])
        pids = tmp_path / "pids"
        wrapper = tmp_path / "journalctl"
        wrapper.write_text(f'#!/bin/sh\necho $$ >> "{pids}"\nexec "{JOURNALCTL}" "$@"\n')
        wrapper.chmod(0o755)
        query = journald_query(files=[str(journal)], binary=str(wrapper))
        running = Running(source(query, from_start=True))
        running.wait_lines(30)
        os.kill(int(pids.read_text().split()[0]), signal.SIGKILL)
        running.wait_for(lambda _: len(pids.read_text().split()) >= 2)
        write_journal(journal, ENTRIES[30:60])
        running.wait_lines(60)
        running.stop()
        assert texts(ENTRIES[:60]) == messages(running)


@needs_journal
class TestStartFailure:
    def test_missing_directory_is_one_clear_error(self, tmp_path: Path) -> None:
        """journalctl refusing at start sets `error` (the command and its stderr) and `stop`."""
        followed = source(journald_query(directory=str(tmp_path / "nothing")))
        running = Running(followed)
        running.join()
        assert running.stopped
        assert followed.error is not None
        message = str(followed.error)
        assert message.startswith("journalctl --follow --output=json")
        assert "No such file or directory" in message
        assert 1 == followed.starts


class TestQuery:
    def test_argv(self) -> None:
        """Options pass through; a cursor wins over --since, and both print from there on."""
        query = JournaldQuery(units=("a.service", "b.service"), directory="/j", since="-1h")
        assert [
            "journalctl", "--follow", "--output=json", "--no-pager", "--quiet",
            "--unit=a.service", "--unit=b.service", "--directory=/j", "--since=-1h", "--no-tail",
        ] == query.argv()  # fmt: skip
        assert ["--after-cursor=s=1", "--no-tail"] == query.argv(cursor="s=1")[-2:]
        assert "--lines=0" == JournaldQuery().argv()[-1]
        assert "--no-tail" == JournaldQuery().argv(from_start=True)[-1]

    def test_paths_are_absolute_and_exclusive(self) -> None:
        """Relative paths are made absolute (journalctl cannot follow "x.journal");
        --directory and --file together are a ConfigError."""
        assert (os.path.abspath("x.journal"),) == journald_query(files=["x.journal"]).files
        with pytest.raises(ConfigError, match="one or the other"):
            journald_query(directory="/j", files=["/x.journal"])

    def test_last_cursor_skips_what_is_not_an_entry(self) -> None:
        """Garbage is data: the cursor comes from the last line that has one."""
        block = b'{"__CURSOR":"s=1"}\n{"__CURSOR":"s=2"}\nnot json\n[1]\n'
        assert "s=2" == last_cursor(block)
        assert "" == last_cursor(b"nothing\n")

    def test_missing_binary_is_an_error_that_stops(self, tmp_path: Path) -> None:
        """A journalctl that cannot be run ends the watch with one clear line."""
        followed = source(journald_query(binary=str(tmp_path / "no-journalctl")))
        running = Running(followed)
        running.join()
        assert running.stopped
        assert "no-journalctl" in str(followed.error)


@needs_journal
class TestWatchProcess:
    def test_crash_loop_then_resume_with_state(self, tmp_path: Path) -> None:
        """`logscan watch --journald --file J --from-start`: the sample's crash loop opens with
        the id `logscan scan` gives it; a second run with the same --state reads on from the
        cursor: every entry counted once, no incident opened twice."""
        journal = tmp_path / "bento.journal"
        state = tmp_path / "state.db"
        write_journal(journal, ENTRIES[:300])
        golden = (SAMPLES / "journald" / "crash_loop.expected.jsonl").read_text().splitlines()
        expected = opened([json.loads(line) for line in golden])
        args = ("--journald", "--unit", "bento.service", "--file", str(journal))
        first = Watch(
            *args, "--from-start", "--state", str(state), "--journalctl-bin", "journalctl"
        )
        first.wait_for(lambda events: set(expected) <= set(opened(events)))
        assert 0 == first.stop()
        later = crash_loop_an_hour_later(ENTRIES[-1])
        write_journal(journal, ENTRIES[300:] + later)
        second = Watch(*args, "--state", str(state))
        # journalctl prints in order: once the last three entries' incident opened, every
        # entry before them was read too
        second.wait_for(lambda events: bool(set(opened(events)) - set(expected)))
        assert 0 == second.stop()
        assert not set(expected) & set(opened(second.events))
        # Counted by single-line signatures: `lines` counts records, and a traceback held
        # when SIGTERM came is flushed in two records (the runner's choice, not the source's).
        summary = json.loads(golden[-1])
        counted = second.events[-1]["matches"]
        assert isinstance(counted, dict)
        for signature in SINGLE_LINE:
            extra = len(later) if signature == "gunicorn.worker_timeout" else 0
            assert summary["matches"][signature] + extra == counted[signature], signature

    def test_bad_directory_exits_2_with_one_line(self, tmp_path: Path) -> None:
        """journalctl failing at start: exit 2, one line on stderr naming the command."""
        watch = Watch("--journald", "--directory", str(tmp_path / "missing"))
        assert 2 == watch.stop(None)
        lines = watch.stderr.strip().splitlines()
        assert 1 == len(lines)
        assert lines[0].startswith("logscan: error: journalctl --follow")
        assert "No such file or directory" in lines[0]
