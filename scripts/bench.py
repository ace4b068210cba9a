"""`make bench`: logscan's batch throughput and memory, next to `grep -E -c` and `wc -l`.

    .venv/bin/python scripts/bench.py                      # = make bench (5 runs of 1 M, 1 of 5 M)
    .venv/bin/python scripts/bench.py --runs 5             # the issue's numbers: 5 runs of each
    .venv/bin/python scripts/bench.py --lines 200000 --runs 3 --no-keep   # a quick look
    .venv/bin/python scripts/bench.py --only follow        # `logscan watch` latency and idle CPU

For each corpus size it generates (once, cached in bench-out/) a synthetic, seeded corpus with
scripts/gen_corpus.py, then runs, interleaved run by run on the same file:

    .venv/bin/logscan scan --format json --fail-on none FILE     (stdout to a scratch file)
    grep -E -c ALTERNATION FILE                                  (LC_ALL=C, and LC_ALL=C.UTF-8)
    wc -l FILE

ALTERNATION is every signature regex of patterns/*.toml translated to POSIX ERE (see `to_ere`);
a signature that cannot be translated, or whose translation misses one of its samples, is
represented by its `literals` instead (listed in the output). Wall time is time.perf_counter()
around each child; peak RSS is GNU time's %M for it (os.wait4's ru_maxrss without
/usr/bin/time; see `measure`). The table shows the median of the runs; docs/benchmarks.md
describes the corpus and today's numbers. The package is byte-compiled first, as an install
leaves it.

Then the follow section (scripts/bench_follow.py): the latency of `logscan watch` from a line
appended to a followed file (and to a pipe) to the incident it completes on stdout, p50/p90/p99
over --trials trials, and the follower's idle CPU.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bench_follow  # scripts/bench_follow.py, beside this file (sys.path[0])

ROOT = Path(__file__).resolve().parent.parent
LOGSCAN = ROOT / ".venv" / "bin" / "logscan"
GENERATOR = ROOT / "scripts" / "gen_corpus.py"
PACKS = ROOT / "patterns"
CACHE = ROOT / "bench-out"  # gitignored
TIME = Path("/usr/bin/time")  # GNU time, for the children's own peak RSS (see measure)
MB = 1e6  # sizes and RSS are reported in MB = 10^6 bytes
RSS_LIMIT_MB, RSS_GROWTH_LIMIT = 100.0, 0.10  # the memory targets

ERE_SPECIAL = set(".[]()*+?{}|^$\\")
ERE_SHORTHANDS = {  # outside a bracket expression / inside one
    "d": ("[0-9]", "0-9"),
    "D": ("[^0-9]", None),
    "w": ("[[:alnum:]_]", "[:alnum:]_"),
    "W": ("[^[:alnum:]_]", None),
    "s": ("[[:space:]]", "[:space:]"),
    "S": ("[^[:space:]]", None),
}


# --- the corpora ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Corpus:
    """A generated log file and what it holds."""

    path: Path
    lines: int
    size: int  # bytes


def corpus_for(directory: Path, lines: int, seed: int) -> Corpus:
    """The cached corpus of `lines` lines for `seed`, generated (atomically) when missing.

    The file name carries a digest of gen_corpus.py, so a changed generator makes a new file;
    older files for the same size and seed are removed.
    """
    digest = hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:10]
    path = directory / f"corpus-{lines}-seed{seed}-{digest}.log"
    if not path.exists():
        for stale in directory.glob(f"corpus-{lines}-seed{seed}-*.log"):
            stale.unlink()
        partial = path.with_suffix(".partial")
        command = [sys.executable, str(GENERATOR), "--lines", str(lines), "--seed", str(seed)]
        started = time.perf_counter()
        subprocess.run([*command, "--out", str(partial)], check=True)
        partial.replace(path)
        print(f"generated {path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return Corpus(path=path, lines=lines, size=path.stat().st_size)


# --- the grep alternation -------------------------------------------------------------------


def to_ere(pattern: str) -> str | None:
    """`pattern` (Python regex syntax) as POSIX ERE, or None when it needs what ERE lacks.

    Groups lose their names and flags, lazy quantifiers become greedy (neither changes whether
    a line matches), shorthands become bracket expressions, `\\b` is dropped (a slightly wider
    match). Lookarounds, backreferences, inline flags other than `s` and escapes inside
    brackets other than shorthands give None.
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        piece, i = _ere_piece(pattern, i)
        if piece is None:
            return None
        out.append(piece)
    return "".join(out)


def _ere_piece(pattern: str, i: int) -> tuple[str | None, int]:
    """The ERE for the token at `pattern[i]`, and where the next token starts."""
    char = pattern[i]
    if char == "\\":
        return _ere_escape(pattern[i + 1]), i + 2
    if char == "[":
        return _ere_bracket(pattern, i)
    if char == "(" and pattern.startswith("(?", i):
        return _ere_group(pattern, i)
    if char in "*+?}" and pattern.startswith("?", i + 1):
        return char, i + 2  # lazy: greedy matches the same lines
    return char, i + 1


def _ere_escape(char: str) -> str | None:
    if char in ERE_SHORTHANDS:
        return ERE_SHORTHANDS[char][0]
    if char == "b":
        return ""
    if char.isalnum():
        return None  # \A, \Z, \n, backreferences...
    return "\\" + char if char in ERE_SPECIAL else char


def _ere_group(pattern: str, i: int) -> tuple[str | None, int]:
    """`(?P<name>`, `(?:` and `(?s:` open a plain group; any other `(?` is untranslatable."""
    if pattern.startswith("(?P<", i):
        return "(", pattern.index(">", i) + 1
    for opener in ("(?:", "(?s:"):
        if pattern.startswith(opener, i):
            return "(", i + len(opener)
    return None, i + 1


def _ere_bracket(pattern: str, i: int) -> tuple[str | None, int]:
    """A bracket expression, copied; shorthands inside it are expanded."""
    out, j = ["["], i + 1
    if pattern.startswith("^", j):
        out.append("^")
        j += 1
    if pattern.startswith("]", j):
        out.append("]")
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        if pattern[j] == "\\":
            inner = ERE_SHORTHANDS.get(pattern[j + 1], (None, None))[1]
            if inner is None:
                return None, j
            out.append(inner)
            j += 2
        else:
            out.append(pattern[j])
            j += 1
    return "".join(out) + "]", j + 1


def literal_ere(literals: Sequence[str]) -> str:
    """An ERE matching any of `literals`."""
    return "|".join("".join("\\" + c if c in ERE_SPECIAL else c for c in s) for s in literals)


def grep_matches_all(ere: str, samples: Sequence[str]) -> bool:
    """Whether `grep -E` finds `ere` in every sample line."""
    text = "".join(sample.split("\n")[-1] + "\n" for sample in samples)
    found = subprocess.run(
        ["grep", "-E", "-c", ere],
        check=False,
        input=text,
        capture_output=True,
        text=True,
        env=grep_env(),
    )
    return found.stdout.strip() == str(len(samples))


def alternation(packs: Path) -> tuple[str, list[str]]:
    """The ERE alternation of every signature of `packs`, and the ids given by literals."""
    parts, by_literals = [], []
    for pack in sorted(packs.glob("*.toml")):
        for signature in tomllib.loads(pack.read_text(encoding="utf-8")).get("signature", []):
            ere = to_ere(signature["regex"])
            if ere is None or not grep_matches_all(ere, signature.get("samples", [])):
                ere = literal_ere(signature["literals"])
                by_literals.append(signature["id"])
            parts.append(ere)
    return "|".join(parts), by_literals


def grep_env(locale: str = "C") -> dict[str, str]:
    """grep and wc run byte-wise (LC_ALL=C) unless told: the fastest baseline (the corpus is
    ASCII); GNU grep is many times slower on this alternation in a UTF-8 locale."""
    return {**os.environ, "LC_ALL": locale}


# --- running one command --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    """One child process: wall time, its own peak RSS, its stdout."""

    seconds: float
    rss: int  # bytes
    stdout: bytes


def measure(
    argv: Sequence[str], env: dict[str, str] | None = None, ok: Sequence[int] = (0,)
) -> Run:
    """Run `argv` with stdout to a scratch file: its wall time, peak RSS and stdout.

    Linux keeps a process's peak RSS across exec, and subprocess starts children with vfork,
    so a child's ru_maxrss (os.wait4) never reads below this Python's own ~25 MB. GNU time
    forks the command from its own small image, so its %M is the command's alone: it is used
    when /usr/bin/time exists, os.wait4 otherwise (then the table notes the floor).
    """
    with tempfile.TemporaryDirectory(prefix="logscan-bench-") as scratch:
        out_path, err_path, rss_path = (Path(scratch) / name for name in ("out", "err", "rss"))
        wrapper = [str(TIME), "-f", "%M", "-o", str(rss_path)] if TIME.exists() else []
        with out_path.open("wb") as out, err_path.open("wb") as err:
            started = time.perf_counter()
            child = subprocess.Popen([*wrapper, *argv], stdout=out, stderr=err, env=env)
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode not in ok:
            tail = err_path.read_text(errors="replace")[-2000:]
            raise SystemExit(f"{' '.join(argv[:3])}... exited {child.returncode}:\n{tail}")
        if wrapper:  # GNU time may write "Command exited with non-zero status 1" first
            rss = int(rss_path.read_text().split()[-1]) * 1024
        else:
            rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        return Run(seconds=seconds, rss=rss, stdout=out_path.read_bytes())


# --- section: throughput and memory ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tool:
    """A command to time on a corpus, and the exit statuses that mean success."""

    name: str
    argv: Callable[[Path], list[str]]
    env: dict[str, str] | None = None
    ok: tuple[int, ...] = (0,)


def tools(ere: str) -> list[Tool]:
    """logscan, and the baselines: grep byte-wise (the ratio's), grep in UTF-8, wc."""
    scan = [str(LOGSCAN), "scan", "--format", "json", "--fail-on", "none"]
    grep = ["grep", "-E", "-c", ere]
    return [
        Tool("logscan scan", lambda path: [*scan, str(path)]),
        Tool("grep -E -c", lambda path: [*grep, str(path)], grep_env(), (0, 1)),
        Tool("grep, UTF-8", lambda path: [*grep, str(path)], grep_env("C.UTF-8"), (0, 1)),
        Tool("wc -l", lambda path: ["wc", "-l", str(path)], grep_env()),
    ]


def time_tools(corpus: Corpus, commands: list[Tool], runs: int) -> dict[str, list[Run]]:
    """`runs` rounds of every tool on `corpus`, interleaved (one of each per round)."""
    results: dict[str, list[Run]] = {tool.name: [] for tool in commands}
    for round_ in range(1, runs + 1):
        for tool in commands:
            run = measure(tool.argv(corpus.path), tool.env, tool.ok)
            results[tool.name].append(run)
            print(
                f"  {corpus.lines:,} lines, run {round_}/{runs}: {tool.name:<13} "
                f"{run.seconds:7.2f} s  {run.rss / MB:6.1f} MB",
                file=sys.stderr,
            )
    return results


def table(corpus: Corpus, results: dict[str, list[Run]]) -> list[str]:
    """The rows for one corpus: median time, throughput and peak RSS of each tool."""
    rows = []
    for name, runs in results.items():
        seconds = statistics.median(run.seconds for run in runs)
        rss = statistics.median(run.rss for run in runs) / MB
        spread = f"{min(r.seconds for r in runs):.2f}-{max(r.seconds for r in runs):.2f}"
        rows.append(
            f"| {name} | {corpus.lines:,} | {corpus.size / MB:.1f} | {seconds:.2f} | {spread} "
            f"| {corpus.lines / seconds:,.0f} | {corpus.size / MB / seconds:.1f} | {rss:.1f} |"
        )
    return rows


def findings(results: dict[str, list[Run]]) -> list[str]:
    """What the runs found: logscan's summary (so a broken run shows) and grep's count."""
    lines = []
    outputs = {hashlib.sha256(run.stdout).hexdigest() for run in results["logscan scan"]}
    last = results["logscan scan"][-1].stdout.decode(errors="replace").strip().rsplit("\n", 1)[-1]
    try:
        summary = json.loads(last)
        opened = ", ".join(f"{kind} {n}" for kind, n in summary["incidents"].items()) or "none"
        lines.append(
            f"logscan: {summary['lines']:,} records, {sum(summary['matches'].values()):,} "
            f"matches, incidents opened: {opened}; {summary['open']} still open at the end"
        )
    except (ValueError, KeyError, TypeError):
        lines.append(f"logscan: NO SUMMARY LINE (broken run?): {last[:200]!r}")
    if len(outputs) > 1:
        lines.append(f"logscan: output DIFFERS between runs ({len(outputs)} distinct outputs)")
    grep_count = results["grep -E -c"][-1].stdout.decode().strip()
    lines.append(f"grep: {int(grep_count):,} lines match the alternation")
    return lines


def ratio(results: dict[str, list[Run]], grep: str) -> str:
    """logscan's throughput as a fraction of a grep's (median times)."""
    ours = statistics.median(run.seconds for run in results["logscan scan"])
    theirs = statistics.median(run.seconds for run in results[grep])
    return f"logscan / {grep}: {theirs / ours:.4f} ({grep} is {ours / theirs:,.1f}x faster)"


def memory_verdict(peaks: dict[int, float]) -> list[str]:
    """logscan's peak RSS (max over runs) by corpus size, against the issue's targets."""
    sizes = sorted(peaks)
    lines = [f"logscan peak RSS (max of runs): {peaks[n]:.1f} MB at {n:,} lines" for n in sizes]
    worst = max(peaks.values())
    lines.append(f"  under {RSS_LIMIT_MB:.0f} MB: {'yes' if worst < RSS_LIMIT_MB else 'NO'}")
    if len(sizes) > 1:
        growth = peaks[sizes[-1]] / peaks[sizes[0]] - 1
        verdict = "yes" if abs(growth) <= RSS_GROWTH_LIMIT else "NO"
        lines.append(
            f"  {sizes[-1]:,} vs {sizes[0]:,} lines: {growth:+.1%} "
            f"(within {RSS_GROWTH_LIMIT:.0%}: {verdict})"
        )
    return lines


def throughput_section(args: argparse.Namespace, corpora: list[Corpus]) -> None:
    """Batch throughput and peak RSS of logscan, grep and wc on each corpus."""
    ere, by_literals = alternation(PACKS)
    print("\n## Throughput (`logscan scan`, `grep -E -c`, `wc -l`)\n")
    print(f"grep alternation: {len(ere)} characters; by literals: {', '.join(by_literals) or '-'}")
    if TIME.exists():
        print(f"peak RSS: {TIME} %M of each command")
    else:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS: os.wait4 (no {TIME}); it includes this script's own {own:.0f} MB")
    print("\n| tool | lines | MB | median s | min-max s | lines/s | MB/s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    notes, peaks = [], {}
    for corpus, runs in zip(corpora, args.runs_per_size, strict=True):
        results = time_tools(corpus, tools(ere), runs)
        print("\n".join(table(corpus, results)), flush=True)
        notes += [
            f"{corpus.lines:,} lines, {runs} run{'s' if runs > 1 else ''}:",
            f"  throughput {ratio(results, 'grep -E -c')}; {ratio(results, 'grep, UTF-8')}",
            *(f"  {line}" for line in findings(results)),
        ]
        peaks[corpus.lines] = max(run.rss for run in results["logscan scan"]) / MB
    print("\n" + "\n".join(notes))
    print("\n" + "\n".join(memory_verdict(peaks)))


# Each section is a function (args, corpora) that prints its own heading and table; main() runs
# them in this order (`--only NAME...` picks some). Only throughput reads the corpora; the follow
# section (`logscan watch` latency and idle CPU, scripts/bench_follow.py) writes its own lines.
SECTIONS: dict[str, Callable[[argparse.Namespace, list[Corpus]], None]] = {
    "throughput": throughput_section,
    "follow": bench_follow.follow_section,
}
NEEDS_CORPORA = frozenset({"throughput"})


# --- command line ---------------------------------------------------------------------------


def machine() -> list[str]:
    """What the numbers were measured on."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")),
        platform.processor() or "?",
    )
    grep = subprocess.run(["grep", "--version"], check=False, capture_output=True, text=True).stdout
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        check=False,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return [
        f"machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}",
        f"python {platform.python_version()}, {grep.splitlines()[0] if grep else 'grep ?'}",
        f"logscan {importlib.metadata.version('logscan')} (git {commit or '?'}), C part "
        + ("built" if importlib.util.find_spec("logscan._native") else "not built: pure Python"),
    ]


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The options; --runs gives one count per --lines size, or one for all."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument(
        "--runs", type=int, nargs="+", default=[5, 1], help="runs per size (median reported)"
    )
    parser.add_argument("--seed", type=int, default=1, help="corpus seed")
    parser.add_argument("--keep", type=Path, default=CACHE, help="cache corpora here")
    parser.add_argument("--no-keep", action="store_true", help="use a temporary directory")
    parser.add_argument(
        "--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS), help="sections to run"
    )
    bench_follow.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error("--trials must be >= 1")
    if len(args.runs) not in (1, len(args.lines)) or min(args.runs) < 1:
        parser.error("--runs takes one count (>= 1), or one per --lines size")
    args.runs_per_size = args.runs * len(args.lines) if len(args.runs) == 1 else args.runs
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Generate or reuse the corpora, then run every section on them."""
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    if not LOGSCAN.exists():
        raise SystemExit(f"{LOGSCAN} is missing: run `make install` first")
    # Time logscan as it runs installed: from byte-compiled modules (pip writes them; the
    # editable install writes them on first import, unless PYTHONDONTWRITEBYTECODE is set,
    # and compiling them again on every run costs ~0.04 s here).
    compileall.compile_dir(ROOT / "logscan", quiet=1)
    directory = Path(tempfile.mkdtemp(prefix="logscan-bench-")) if args.no_keep else args.keep
    directory.mkdir(parents=True, exist_ok=True)
    try:
        needed = NEEDS_CORPORA.intersection(args.only)
        corpora = [corpus_for(directory, n, args.seed) for n in args.lines] if needed else []
        print("# logscan benchmark\n")
        print("\n".join(machine()))
        for corpus in corpora:
            print(f"corpus: {corpus.path} ({corpus.size / MB:.1f} MB, synthetic, seed {args.seed})")
        for name, section in SECTIONS.items():
            if name in args.only:
                section(args, corpora)
    finally:
        if args.no_keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
