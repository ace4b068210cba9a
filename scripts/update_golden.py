"""Rewrite samples/**/<name>.expected.jsonl from what `logscan scan` gives now.

Run it after changing a pack, a rule or a sample, then read the diff: every changed incident
must be one an SRE would name (or stop naming) for that log.

    .venv/bin/python scripts/update_golden.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from logscan.patterns import load_patterns
from tests.golden import expected_path, sample_logs, scan_sample


def main() -> None:
    pack = load_patterns()
    for sample in sample_logs():
        lines = scan_sample(sample, pack)
        expected_path(sample).write_text("".join(line + "\n" for line in lines))
        kinds = [line.split('"kind": "')[1].split('"')[0] for line in lines if '"kind"' in line]
        print(f"{sample}: {len(lines) - 1} events {sorted(set(kinds))}")


if __name__ == "__main__":
    main()
