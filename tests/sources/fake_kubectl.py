"""A stand-in `kubectl logs --follow --timestamps --prefix` that replays a real capture.

`install(directory, plan)` writes an executable `kubectl` into `directory` that runs this file.
Each invocation appends its argv to `calls.jsonl` and then, like the real thing:

- while the pod is "gone" (`gone` invocations after each cut) it prints kubectl's NotFound
  error on stderr and exits 1 at once;
- otherwise it prints the captured lines from `--since-time` on, truncated to whole seconds as
  the API server does (metav1.Time has second precision), up to the next `cut`: there the
  container "dies" and kubectl exits 0 (with `partial`, after half of the next line);
- after the last line it blocks like a healthy `-f` (or exits 0 with `end = "exit"`).

Lines are written in 1000-byte pieces, flushed, so a read can end mid-line.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

PIECE = 1000


def install(directory: Path, plan: dict[str, Any]) -> Path:
    """Write `plan` and an executable `kubectl` into `directory`; the executable's path."""
    (directory / "plan.json").write_text(json.dumps(plan))
    (directory / "state.json").write_text(json.dumps({"position": 0, "gone_left": 0}))
    binary = directory / "kubectl"
    binary.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{__file__}" "{directory}" "$@"\n')
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return binary


def calls(directory: Path) -> list[list[str]]:
    """The argv of every invocation so far."""
    path = directory / "calls.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def set_gone(directory: Path, gone_left: int) -> None:
    """Make the next `gone_left` invocations fail as if the pod were gone."""
    state = json.loads((directory / "state.json").read_text())
    state["gone_left"] = gone_left
    (directory / "state.json").write_text(json.dumps(state))


def _since(argv: list[str]) -> str:
    for arg in argv:
        if arg.startswith("--since-time="):
            return arg.split("=", 1)[1][:19]  # whole seconds, as the API server sees it
    return ""


def _write(data: bytes) -> None:
    for start in range(0, len(data), PIECE):
        os.write(1, data[start : start + PIECE])


def main(directory: Path, argv: list[str]) -> int:
    with (directory / "calls.jsonl").open("a") as log:
        log.write(json.dumps(argv) + "\n")
    plan = json.loads((directory / "plan.json").read_text())
    state = json.loads((directory / "state.json").read_text())
    if state["gone_left"] > 0:
        state["gone_left"] -= 1
        (directory / "state.json").write_text(json.dumps(state))
        sys.stderr.write('Error from server (NotFound): pods "bento-7d9f8b6c4-x2k9p" not found\n')
        return 1
    lines = Path(plan["sample"]).read_bytes().splitlines(keepends=True)
    position = state["position"]
    cut = next((c for c in plan.get("cuts", []) if c > position), len(lines))
    since = _since(argv)
    # "[pod/NAME/CONTAINER] 2026-11-25T09:51:03.298565453Z …": the stamp after the prefix
    shown = [ln for ln in lines[:cut] if ln.split(b" ", 2)[1][:19].decode() >= since]
    _write(b"".join(shown))
    if cut < len(lines):
        if plan.get("partial"):
            _write(lines[cut][: len(lines[cut]) // 2])
        state.update(position=cut, gone_left=plan.get("gone", 0))
        (directory / "state.json").write_text(json.dumps(state))
        return 0
    state["position"] = cut
    (directory / "state.json").write_text(json.dumps(state))
    if plan.get("end") == "exit":
        return 0
    while True:  # a healthy `kubectl logs -f`: follows until killed
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
