"""Golden files: each sample log and the JSON lines `logscan scan` gives for it.

Shared by the golden test and by `scripts/update_golden.py`, so both run the sample exactly
the same way: its path relative to the repository as the source name, default options.
"""

from __future__ import annotations

from pathlib import Path

from logscan.patterns import PatternSet
from logscan.pipeline import Source, scan
from logscan.render import to_json

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
EXPECTED_SUFFIX = ".expected.jsonl"


def sample_logs() -> list[Path]:
    """Every sample input: the files under samples/<family>/ but the golden files."""
    return sorted(
        path
        for path in SAMPLES.glob("*/*")
        if path.is_file() and path.suffix in {".log", ".jsonl"}
        and not path.name.endswith(EXPECTED_SUFFIX)
    )  # fmt: skip


def expected_path(sample: Path) -> Path:
    return sample.with_name(sample.name.rsplit(".", 1)[0] + EXPECTED_SUFFIX)


def scan_sample(sample: Path, pack: PatternSet) -> list[str]:
    """The JSON lines `logscan scan --format json samples/…` prints for `sample`."""
    source = Source(name=str(sample.relative_to(ROOT)), chunks=[sample.read_bytes()])
    return [to_json(event) for event in scan([source], pack)]
