"""The fast path gives exactly what the reference path gives: same matches, same incidents."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from logscan.patterns import PatternSet
from logscan.pipeline import Source, Summary, records, scan
from tests.golden import ROOT, sample_logs
from tests.reference import reference_match, reference_scan


@pytest.fixture(scope="module")
def corpus() -> bytes:
    """A generated corpus (synthetic, seeded): 200 000 lines with overload, cold-start and
    crash-loop episodes (crash loops need ~3 minutes of event time to build up)."""
    generator = str(ROOT / "scripts" / "gen_corpus.py")
    options = ["--lines", "200000", "--seed", "7", "--episode-every", "8000", "--quiet"]
    command = [sys.executable, generator, *options]
    return subprocess.run(command, capture_output=True, check=True).stdout


def compare(pack: PatternSet, sources: list[Source]) -> set[str]:
    """Assert both paths agree; the kinds of incident they opened."""
    events, matches, lines = reference_scan(pack, sources)
    *fast, summary = scan(sources, pack)
    assert isinstance(summary, Summary)
    assert (lines, sorted(matches.items())) == (summary.lines, list(summary.matches))
    assert events == fast
    return {event.incident.kind for event in events}


class TestDifferential:
    @pytest.mark.parametrize("sample", sample_logs(), ids=lambda path: path.name)
    def test_each_sample(self, pack: PatternSet, sample: Path) -> None:
        """Every real sample: identical incident events, match counts and record count."""
        compare(pack, [Source(name=sample.name, chunks=[sample.read_bytes()])])

    def test_generated_corpus(self, pack: PatternSet, corpus: bytes) -> None:
        """Generated lines with every episode kind: identical events and counts."""
        kinds = compare(pack, [Source(name="corpus.log", chunks=[corpus])])
        assert {"crash_loop", "overload", "cold_start_unavailable"} <= kinds

    def test_every_record_matches_the_same_way(self, pack: PatternSet, corpus: bytes) -> None:
        """Record by record, the prefiltered matcher and the plain one agree, fields included."""
        for line in itertools.islice(records([Source(name="c", chunks=[corpus])]), 60_000):
            assert reference_match(pack, line) == pack.match(line), line.text
