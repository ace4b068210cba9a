"""The kubectl source against a stand-in kubectl replaying the real capture, and as a process.

tests/sources/fake_kubectl.py plays `kubectl logs -f` on samples/kubectl/crash_loop.log: it
honours --since-time (to the second, as the API server does), exits when the "container dies"
at each cut (optionally mid-line), and fails while the "pod is gone".
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from logscan.errors import ConfigError
from logscan.framing import Framer
from logscan.patterns import PatternSet
from logscan.sources.base import Checkpoint
from logscan.sources.kubectl import KubectlQuery, KubectlSource, instant, kubectl_query
from logscan.sources.process import Backoff
from tests.conftest import SAMPLES
from tests.live.test_watch import Watch, opened
from tests.sources import fake_kubectl
from tests.sources.running import Running

SAMPLE = SAMPLES / "kubectl" / "crash_loop.log"
SAMPLE_LINES = SAMPLE.read_bytes().split(b"\n")[:-1]
ENDED = b"[logscan] kubectl logs stream ended"
POD_A = "kubectl:bento-7d9f8b6c4-x2k9p/bento"
POD_B = "kubectl:bento-7d9f8b6c4-q8w4n/bento"


def fake(tmp_path: Path, **plan: Any) -> Path:
    return fake_kubectl.install(tmp_path, {"sample": str(SAMPLE), **plan})


def follow(binary: Path, **options: Any) -> KubectlSource:
    query = kubectl_query("deploy/bento", all_containers=True, binary=str(binary))
    return KubectlSource(query, backoff=Backoff(0.01, 0.04), **options)


def replayed(running: Running) -> list[bytes]:
    return [line for line in running.lines() if ENDED not in line]


def markers(running: Running) -> list[bytes]:
    return [line for line in running.lines() if ENDED in line]


class TestRestarts:
    def test_every_line_exactly_once_across_restarts(self, tmp_path: Path) -> None:
        """kubectl dies four times (twice in a row, mid-line): each sample line comes exactly
        once, in order; each restart asks for --since-time of the last line seen."""
        binary = fake(tmp_path, cuts=[100, 101, 400, 700], partial=True)
        running = Running(follow(binary))
        running.wait_for(lambda r: len(replayed(r)) >= len(SAMPLE_LINES))
        running.stop()
        assert SAMPLE_LINES == replayed(running)
        calls = fake_kubectl.calls(tmp_path)
        assert 5 == len(calls)
        assert not any(arg.startswith("--since-time") for arg in calls[0])
        for call in calls[1:]:
            assert "--tail=-1" in call
            stamp = next(a for a in call if a.startswith("--since-time=")).split("=", 1)[1]
            assert stamp.encode() in b"\n".join(SAMPLE_LINES)  # the stamp of a line seen

    def test_stream_ended_line_per_followed_container(
        self, tmp_path: Path, pack: PatternSet
    ) -> None:
        """Each exit writes one logscan line into each container stream the child followed,
        stamped like that container's last line, exactly the pack's sample; framing and the
        pack make it a `stream_ended` signal of the pod."""
        binary = fake(tmp_path, cuts=[100])
        running = Running(follow(binary))
        running.wait_for(lambda r: len(replayed(r)) >= len(SAMPLE_LINES))
        running.stop()
        assert 2 == len(markers(running))
        first = markers(running)[0]
        assert [first] == [line for line in running.lines(POD_A) if ENDED in line]
        before = [line for line in SAMPLE_LINES[:100] if line.startswith(first[:34])][-1]
        assert before.split(b" ")[1] == first.split(b" ")[1]
        signature = next(s for s in pack.signatures if s.signal == "stream_ended")
        assert [first.decode()] == list(signature.samples)
        framer = Framer(source=POD_A)
        (line,) = framer.feed(first + b"\n", 0.0) + framer.close(0.0)
        found = pack.match(line)
        assert found is not None
        assert ("stream_ended", "bento-7d9f8b6c4-x2k9p") == (found.signal, line.group)
        assert ("exit_code", "0") in found.fields

    def test_backs_off_while_the_pod_is_gone(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """While kubectl fails at once the delay doubles up to the cap; a run that delivers
        lines resets it. kubectl's error is logged once, not per retry."""
        binary = fake(tmp_path, cuts=[300], gone=4)
        source = follow(binary)
        with caplog.at_level(logging.WARNING, logger="logscan.sources.kubectl"):
            running = Running(source)
            running.wait_for(lambda r: len(replayed(r)) >= len(SAMPLE_LINES))
            running.stop()
        assert SAMPLE_LINES == replayed(running)
        assert 6 == len(fake_kubectl.calls(tmp_path))  # 1 + 4 gone + 1 to the end
        assert [0.01, 0.02, 0.04, 0.04, 0.04] == source._backoff.history
        warnings = [r.getMessage() for r in caplog.records]
        assert 1 == len(warnings)
        assert "NotFound" in warnings[0]

    def test_resume_from_checkpoints(self, tmp_path: Path) -> None:
        """Stopped while the pod is gone, started again from the last checkpoints (as --state
        does): the second run delivers exactly the lines the first did not."""
        binary = fake(tmp_path, cuts=[300], gone=10**6)
        first = Running(follow(binary))
        first.wait_for(lambda _: len(fake_kubectl.calls(tmp_path)) >= 2)
        first.stop()
        positions: dict[str, Checkpoint] = {}
        for chunk in first.chunks:
            if chunk.checkpoint is not None:
                positions[chunk.checkpoint.key] = chunk.checkpoint
        assert {POD_A, POD_B} == set(positions)
        fake_kubectl.set_gone(tmp_path, 0)
        second = Running(follow(binary, positions=positions))
        second.wait_for(lambda r: len(replayed(r)) >= len(SAMPLE_LINES) - 300)
        second.stop()
        assert SAMPLE_LINES == replayed(first) + replayed(second)
        since = min(c.cursor.split(" ")[0] for c in positions.values())
        assert f"--since-time={since}" in fake_kubectl.calls(tmp_path)[-1]

    def test_missing_binary_is_an_error_that_stops(self, tmp_path: Path) -> None:
        """A kubectl that cannot be run ends the watch with one clear line."""
        source = follow(tmp_path / "no-kubectl")
        running = Running(source)
        running.join()
        assert running.stopped
        assert source.error is not None
        assert "no-kubectl" in str(source.error)


class TestQuery:
    def test_argv_passes_the_users_options_through(self) -> None:
        """Target, namespace, container and selector go to kubectl as given."""
        query = kubectl_query("deploy/bento", namespace="prod", container="app", selector="a=b")
        assert [
            "kubectl", "logs", "--follow", "--timestamps", "--prefix", "deploy/bento",
            "--namespace=prod", "--container=app", "--selector=a=b",
        ] == query.argv()  # fmt: skip
        assert ["--since-time=T", "--tail=-1"] == query.argv("T")[-2:]

    @pytest.mark.parametrize(
        ("options", "reason"),
        [
            ({}, "TARGET"),
            ({"target": "pod", "container": "c", "all_containers": True}, "one or the other"),
        ],
    )
    def test_options_that_cannot_work(self, options: dict[str, Any], reason: str) -> None:
        """No target nor selector, or a container with --all-containers: ConfigError."""
        with pytest.raises(ConfigError, match=reason):
            kubectl_query(options.pop("target", ""), **options)

    def test_name(self) -> None:
        """The source is named after the target, or the selector."""
        assert "kubectl:deploy/bento" == KubectlQuery(target="deploy/bento").name
        assert "kubectl:-l app=x" == KubectlQuery(selector="app=x").name


class TestInstant:
    def test_exact_nanoseconds(self) -> None:
        """Stamps compare as exact integers, whatever their precision or zone."""
        assert 1_000_000_001 == instant("1970-01-01T00:00:01.000000001Z")
        assert instant("2026-11-25T09:51:03.5Z") == instant("2026-11-25T11:51:03.500000000+02:00")

    @pytest.mark.parametrize("text", ["", "2026-11-25", "2026-13-45T09:51:03Z", "nonsense"])
    def test_not_a_stamp(self, text: str) -> None:
        assert instant(text) is None


class TestWatchProcess:
    def test_crash_loop_through_restarts_opens_the_samples_incidents(self, tmp_path: Path) -> None:
        """`logscan watch --kubectl … --kubectl-bin FAKE`: kubectl dies twice and is gone once;
        the crash loops of the sample open, with the ids `logscan scan` gives the capture."""
        binary = fake(tmp_path, cuts=[200, 500], partial=True, gone=1)
        golden = (SAMPLES / "kubectl" / "crash_loop.expected.jsonl").read_text().splitlines()
        expected = opened([json.loads(line) for line in golden])
        assert expected
        watch = Watch("--kubectl", "deploy/bento", "--all-containers", "--kubectl-bin", str(binary))
        watch.wait_for(lambda events: set(expected) <= set(opened(events)))
        # the fourth kubectl starts after the second cut: both cuts' lines were emitted by then
        watch.wait_for(lambda _: len(fake_kubectl.calls(tmp_path)) >= 4)
        assert 0 == watch.stop()
        assert "summary" == watch.events[-1]["event"]
        matches = watch.events[-1]["matches"]
        assert isinstance(matches, dict)
        assert 4 == matches["logscan.kubectl_stream_ended"]  # 2 deaths x 2 containers
        assert "Traceback" not in watch.stderr
        reported = watch.stderr.splitlines()
        assert reported  # the pod was gone once: kubectl's error is said, on one line
        assert all(line.startswith("logscan: WARNING: kubectl logs ended") for line in reported)
