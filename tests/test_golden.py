"""Whole scenarios: every real sample gives exactly its golden incidents, and every signature
is exercised by some real sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logscan.patterns import PatternSet
from logscan.pipeline import Source, records
from tests.golden import ROOT, expected_path, sample_logs, scan_sample

SAMPLES = sample_logs()


def test_there_are_samples() -> None:
    """The bundled samples exist (a broken glob would pass every test below vacuously)."""
    assert len(SAMPLES) >= 8


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: str(path.relative_to(ROOT)))
def test_sample_gives_its_golden_incidents(sample: Path, pack: PatternSet) -> None:
    """`logscan scan --format json` on the sample prints its .expected.jsonl, byte for byte."""
    expected = expected_path(sample).read_text().splitlines()
    assert expected == scan_sample(sample, pack)


def test_every_signature_matches_some_sample(pack: PatternSet) -> None:
    """A signature that no real sample exercises is unproven (see samples/README.md). The
    `logscan` pack matches logscan's own lines, which no server writes: it is proven against
    what logscan writes, in tests/sources/test_kubectl.py."""
    matched: set[str] = set()
    for sample in SAMPLES:
        source = Source(name=sample.name, chunks=[sample.read_bytes()])
        for line in records([source]):
            found = pack.match(line)
            if found is not None:
                matched.add(found.signature)
    unproven = sorted(s.id for s in pack.signatures if s.id not in matched and s.pack != "logscan")
    assert [] == unproven


def test_golden_files_are_json_lines_ending_in_a_summary() -> None:
    """Each golden file is valid JSON lines, the last one the summary."""
    for sample in SAMPLES:
        lines = [json.loads(line) for line in expected_path(sample).read_text().splitlines()]
        assert "summary" == lines[-1]["event"], sample
