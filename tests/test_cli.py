"""The command line, through typer's runner, as a user types it."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from logscan.cli import app
from tests.conftest import ROOT, gunicorn

runner = CliRunner()

CRASH_LOOP = "\n".join(
    [gunicorn(0, 1, "INFO", "Starting gunicorn 23.0.0")]
    + [gunicorn(0, 1, "INFO", f"Booting worker with pid: {pid}") for pid in (10, 11, 12)]
    + [gunicorn(30 + n, 1, "CRITICAL", f"WORKER TIMEOUT (pid:{pid})") for n, pid in enumerate((10, 11, 12))]
) + "\n"  # fmt: skip


def write(tmp_path: Path, text: str | bytes, name: str = "app.log") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def events(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines()]


class TestScan:
    def test_json_contract(self, tmp_path: Path) -> None:
        """--format json: one object per line, the contract's fields, a summary last."""
        result = runner.invoke(app, ["scan", "--format", "json", str(write(tmp_path, CRASH_LOOP))])
        found = events(result.stdout)
        assert ["incident.opened", "summary"] == [e["event"] for e in found]
        assert [
            "event", "id", "kind", "severity", "group", "source", "cause", "first_seen",
            "last_seen", "count", "window_s", "signals", "evidence", "insight", "remediation",
        ] == list(found[0])  # fmt: skip
        assert "2021-05-25T01:09:38+00:00" == found[0]["first_seen"]
        assert 7 == found[1]["lines"]

    def test_exit_1_when_an_incident_opened(self, tmp_path: Path) -> None:
        """A warning incident with the default --fail-on warning exits 1."""
        result = runner.invoke(app, ["scan", "--format", "json", str(write(tmp_path, CRASH_LOOP))])
        assert 1 == result.exit_code

    def test_fail_on_critical_ignores_warnings(self, tmp_path: Path) -> None:
        """--fail-on critical exits 0 for a warning."""
        path = str(write(tmp_path, CRASH_LOOP))
        result = runner.invoke(app, ["scan", "--format", "json", "--fail-on", "critical", path])
        assert 0 == result.exit_code

    def test_gzip_input(self, tmp_path: Path) -> None:
        """A .gz file is read like the plain one."""
        path = write(tmp_path, gzip.compress(CRASH_LOOP.encode()), "app.log.gz")
        result = runner.invoke(app, ["scan", "--format", "json", str(path)])
        assert "crash_loop" == events(result.stdout)[0]["kind"]

    def test_stdin(self) -> None:
        """`-` reads stdin."""
        result = runner.invoke(app, ["scan", "--format", "json", "-"], input=CRASH_LOOP)
        assert "crash_loop" == events(result.stdout)[0]["kind"]

    def test_console_format(self, tmp_path: Path) -> None:
        """The console format names the incident, its evidence and the fix."""
        path = str(write(tmp_path, CRASH_LOOP))
        result = runner.invoke(app, ["scan", "--format", "console", path])
        assert "OPENED" in result.stdout
        assert "crash_loop" in result.stdout
        assert "WORKER TIMEOUT (pid:10)" in result.stdout
        assert "fix:" in result.stdout

    def test_same_input_same_output(self, tmp_path: Path) -> None:
        """Two runs on the same input print byte-identical output."""
        path = str(write(tmp_path, CRASH_LOOP))
        first = runner.invoke(app, ["scan", "--format", "json", path]).stdout
        assert first == runner.invoke(app, ["scan", "--format", "json", path]).stdout


class TestBadInput:
    def test_missing_file_is_one_line_exit_2(self, tmp_path: Path) -> None:
        """A missing file: one line naming it, exit 2, nothing on stdout."""
        result = runner.invoke(app, ["scan", str(tmp_path / "nope.log")])
        assert 2 == result.exit_code
        assert "" == result.stdout
        assert 1 == len(result.stderr.strip().splitlines())
        assert "nope.log" in result.stderr
        assert "cannot open" in result.stderr

    def test_bad_pack_is_one_line_exit_2(self, tmp_path: Path) -> None:
        """A broken --patterns pack stops the run at start with file, item and reason."""
        pack = write(
            tmp_path,
            '[[signature]]\nid = "x.y"\nsignal = "s"\nregex = "("\nliterals = ["a"]\nsamples = ["a"]\n',
            "bad.toml",
        )
        result = runner.invoke(
            app, ["scan", "--patterns", str(pack), str(write(tmp_path, CRASH_LOOP))]
        )
        assert 2 == result.exit_code
        assert f"{pack}: signature x.y: bad regex" in result.stderr

    def test_bad_timezone_exit_2(self, tmp_path: Path) -> None:
        """An unknown --timezone names the option."""
        result = runner.invoke(
            app, ["scan", "--timezone", "Mars/Base", str(write(tmp_path, CRASH_LOOP))]
        )
        assert 2 == result.exit_code
        assert "--timezone" in result.stderr

    def test_empty_file(self, tmp_path: Path) -> None:
        """An empty file: no incident, a summary of zero lines, exit 0."""
        result = runner.invoke(app, ["scan", "--format", "json", str(write(tmp_path, b""))])
        assert 0 == result.exit_code
        assert [
            {
                "event": "summary",
                "lines": 0,
                "matches": {},
                "incidents": {},
                "open": 0,
                "seconds": 0,
            }
        ] == events(result.stdout)

    def test_binary_and_invalid_utf8_are_data(self, tmp_path: Path) -> None:
        """Garbage lines between real ones do not stop the stream."""
        garbage = b"\x00\x01\xff\xfe binary \xc3\x28\n" * 50
        data = garbage + CRASH_LOOP.encode() + garbage
        result = runner.invoke(app, ["scan", "--format", "json", str(write(tmp_path, data))])
        found = events(result.stdout)
        assert "crash_loop" == found[0]["kind"]
        assert 107 == found[-1]["lines"]

    def test_ten_megabyte_line(self, tmp_path: Path) -> None:
        """A 10 MB line is cut, not fatal; the lines after it still count."""
        data = b"x" * 10_000_000 + b"\n" + CRASH_LOOP.encode()
        result = runner.invoke(app, ["scan", "--format", "json", str(write(tmp_path, data))])
        found = events(result.stdout)
        assert "crash_loop" == found[0]["kind"]
        assert 8 == found[-1]["lines"]


class TestOtherCommands:
    def test_patterns_list(self) -> None:
        """Lists every built-in signature with its pack, and the rules."""
        result = runner.invoke(app, ["patterns", "list"])
        assert 0 == result.exit_code
        assert "gunicorn.worker_timeout" in result.stdout
        assert "rule crash_loop" in result.stdout

    def test_patterns_test(self, tmp_path: Path) -> None:
        """Hits per signature with line numbers, and error-looking lines nothing matched."""
        text = CRASH_LOOP + "[2021-05-25 01:10:00 +0000] [12] [ERROR] Something new broke\n"
        path = write(tmp_path, text)
        result = runner.invoke(app, ["patterns", "test", str(path)])
        assert 0 == result.exit_code
        assert "3  gunicorn.worker_timeout" in result.stdout
        assert f"{path}:5" in result.stdout
        assert "1 error-looking records matched no signature" in result.stdout
        assert "Something new broke" in result.stdout

    def test_explain(self) -> None:
        """explain KIND says what to change."""
        result = runner.invoke(app, ["explain", "overload"])
        assert 0 == result.exit_code
        assert "traffic.max_concurrency" in result.stdout

    def test_explain_unknown_kind(self) -> None:
        """An unknown kind lists the known ones, exit 2."""
        result = runner.invoke(app, ["explain", "meltdown"])
        assert 2 == result.exit_code
        assert "crash_loop" in result.stderr


class TestProcess:
    def test_closed_stdout_ends_quietly(self, tmp_path: Path) -> None:
        """`logscan scan ... | head -c 10` exits 0 without a traceback (a broken pipe is no error)."""
        loops = []  # 400 crash loops an hour apart: ~800 events, far more than a pipe buffer
        for hour in range(400):
            pids = range(hour * 10, hour * 10 + 3)
            loops += [
                gunicorn(hour * 3600 + n, 1, "CRITICAL", f"WORKER TIMEOUT (pid:{p})")
                for n, p in enumerate(pids)
            ]
        path = write(tmp_path, "\n".join(loops) + "\n")
        command = f"{sys.executable} -m logscan scan --format json --fail-on none {path}"
        done = subprocess.run(
            f"set -o pipefail; {command} | head -c 10 >/dev/null",
            shell=True, executable="/bin/bash", capture_output=True, text=True, cwd=ROOT, check=False,
        )  # fmt: skip
        assert "" == done.stderr
        assert 0 == done.returncode

    def test_live_machinery_not_imported_at_start(self) -> None:
        """`scan`, `patterns` and `explain` start without the runner, sqlite3 or watchdog:
        only `watch` imports them, when it runs (a fresh interpreter, so nothing is cached)."""
        live = (
            "logscan.runner",
            "logscan.state",
            "logscan.sources.follower",
            "watchdog",
            "sqlite3",
        )
        code = f"import logscan.cli, sys; print(sorted(m for m in sys.modules if m.startswith({live!r})))"
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
        )
        assert "[]" == done.stdout.strip()

    def test_scan_starts_without_what_it_does_not_use(self, tmp_path: Path) -> None:
        """A `scan` imports neither logging (only `watch` logs), zoneinfo (only for a named
        --timezone), importlib.resources (the packs are found without it) nor the coverage of
        `patterns test`: each costs start-up time, ~30 ms in all."""
        path = write(tmp_path, gunicorn(0, 1, "CRITICAL", "WORKER TIMEOUT (pid:7)") + "\n")
        command = [sys.executable, "-X", "importtime", "-m", "logscan", "scan", "--format", "json"]
        done = subprocess.run(
            [*command, "--fail-on", "none", str(path)],
            capture_output=True, text=True, cwd=ROOT, check=True,
        )  # fmt: skip
        imported = {line.rpartition("|")[2].strip() for line in done.stderr.splitlines()}
        assert {"logscan.cli", "logscan.patterns"} <= imported  # the listing is what we think
        unneeded = {"logging", "zoneinfo", "importlib.resources", "logscan.coverage"}
        assert set() == imported & unneeded


class TestGroup:
    def deaths(self, start: int, pids: range) -> str:
        lines = [
            gunicorn(start + n, 1, "CRITICAL", f"WORKER TIMEOUT (pid:{p})")
            for n, p in enumerate(pids)
        ]
        return "\n".join(lines) + "\n"

    def test_files_are_separate_groups_by_default(self, tmp_path: Path) -> None:
        """Two deaths in one file and one in another: no loop, each file is its own group."""
        first = write(tmp_path, self.deaths(0, range(10, 12)), "a.log")
        second = write(tmp_path, self.deaths(5, range(20, 21)), "b.log")
        result = runner.invoke(app, ["scan", "--format", "json", str(first), str(second)])
        assert ["summary"] == [e["event"] for e in events(result.stdout)]

    def test_group_joins_the_files_of_one_service(self, tmp_path: Path) -> None:
        """--group bento: the three deaths are one service's crash loop."""
        first = write(tmp_path, self.deaths(0, range(10, 12)), "a.log")
        second = write(tmp_path, self.deaths(5, range(20, 21)), "b.log")
        result = runner.invoke(
            app, ["scan", "--format", "json", "--group", "bento", str(first), str(second)]
        )
        [incident, _] = events(result.stdout)
        assert ("crash_loop", "bento") == (incident["kind"], incident["group"])

    def test_envelope_group_wins(self, tmp_path: Path) -> None:
        """Lines whose kubectl prefix names a pod keep the pod as their group."""
        text = "".join(
            f"[pod/bento-0/app] {line}\n" for line in self.deaths(0, range(10, 13)).splitlines()
        )
        result = runner.invoke(
            app, ["scan", "--format", "json", "--group", "other", str(write(tmp_path, text))]
        )
        assert "bento-0" == events(result.stdout)[0]["group"]
