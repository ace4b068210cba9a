"""The framer's quick lane and its tally change nothing a run reports.

With the packs' prefilter the framer takes the usual kubectl line by a quick lane, and with a
tally it counts the records that contain no literal instead of emitting them. Against the
general path (no prefilter), the records that do contain a literal must be the same, in the
same order, and the tally must account for every other record and its time.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logscan.framing import Framer, InputFormat, Tally
from logscan.model import Line
from logscan.prefilter import Prefilter
from logscan.timestamps import TimestampParser


@dataclass(frozen=True)
class Sig:
    literals: tuple[str, ...]


# " INFO" can start at the space before a message: it is in the line, not in the message.
SIGNATURES = [
    Sig(("WORKER TIMEOUT",)),
    Sig(("HTTP/",)),
    Sig(("unexpected end of stream",)),
    Sig((" INFO",)),
]
NOW = 1_700_000_000.0

# Messages that exercise joining: traceback headers, frames, exception lines, chain markers,
# blanks, lines ending in ":" (which may open a traceback), heads that look like a frame.
MESSAGES = [
    "INFO app ready",
    '10.0.0.1 - - [25/Nov/2026:00:00:00 +0000] "POST /predict HTTP/1.1" 200 33',
    "[CRITICAL] WORKER TIMEOUT (pid:12)",
    "Traceback (most recent call last):",
    "Traceback (most recent call last): and more",
    "ERROR in app: Exception on /predict [POST]",
    "ERROR: Traceback (most recent call last):",
    '  File "/app/x.py", line 3, in f',
    "\tindented with a tab",
    "ValueError: unexpected end of stream",
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
    "",
    "Trailing words:",
    "Then more HTTP/ text",
    "INFO:     Started",
    "stdout P a CRI piece of HTTP/",  # with no envelope before it, a CRI line
    "stdout F its end",
    "café HTTP/ Latin-1",  # 1-byte text above ASCII: the C lane takes it
    "ошибка HTTP/",  # wider text: this line goes to the Python lane
]
PREFIXES = ["[pod/a-1/c] ", "[pod/a-1/d] ", "[pod/b-2/c] ", "", "[pod/x] ", "[pod/a-1/c]"]
STAMPS = [
    "2026-11-25T00:00:01.5Z ",
    "2026-11-25T00:00:02.123456789Z ",
    "2026-11-25T00:00:00Z ",
    "2026-11-25T00:00:03+00:00 ",
    "2026-13-25T00:00:00.1Z ",
    "2026-11-25T00:00:04.²Z ",  # a digit that is not ASCII: not the fast path
    "2026-11-25T00:00:05.1234567890Z ",  # ten digits: not the fast path
    "",
]

# Fractions of every length, so the C lane's arithmetic must round as Python's does (at the
# epoch, where no whole seconds hide the last bits of the fraction).
_fraction = st.text(alphabet="0123456789", min_size=1, max_size=9)
_stamp = st.sampled_from(STAMPS) | st.builds(
    lambda second, digits: f"{second}.{digits}Z ",
    st.sampled_from(["2026-11-25T00:00:07", "1970-01-01T00:00:00"]),
    _fraction,
)
_line = st.builds(
    lambda prefix, stamp, message: f"{prefix}{stamp}{message}",
    st.sampled_from(PREFIXES),
    _stamp,
    st.sampled_from(MESSAGES),
)


def frame(data: bytes, cuts: list[int], **options: object) -> list[Line]:
    framer = Framer(source="s", **options)  # type: ignore[arg-type]
    out: list[Line] = []
    at = 0
    for cut in sorted(cuts):
        out += framer.feed(data[at:cut], NOW)
        at = cut
    out += framer.feed(data[at:], NOW)
    return out + framer.close(NOW)


def has_literal(line: Line) -> bool:
    return any(literal in line.text for sig in SIGNATURES for literal in sig.literals)


@settings(max_examples=400)
@given(
    lines=st.lists(_line, max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=4),
    input_format=st.sampled_from([InputFormat.AUTO, InputFormat.KUBECTL]),
    native=st.booleans(),
)
def test_the_quick_lane_and_tally_keep_every_record(
    lines: list[str], cuts: list[int], input_format: InputFormat, native: bool
) -> None:
    """Either quick lane: in C where logscan._native is built, and in Python."""
    data = "".join(f"{line}\n" for line in lines).encode()
    general = frame(data, cuts, input_format=input_format)
    tally = Tally()
    prefilter = Prefilter(SIGNATURES, native=native)
    quick = frame(data, cuts, input_format=input_format, prefilter=prefilter, tally=tally)
    kept = [line for line in general if has_literal(line)]
    assert quick == kept
    left_out = [line for line in general if not has_literal(line)]
    assert tally.lines == len(left_out)
    assert tally.earliest == min((line.ts for line in left_out), default=float("inf"))
    assert tally.latest == max((line.ts for line in left_out), default=float("-inf"))


def test_more_containers_than_can_be_held_release_the_oldest_in_order() -> None:
    """Past the cap on held records the oldest is released, by either lane alike."""
    lines = [
        f"[pod/p{n}/c] 2026-11-25T00:00:{n % 60:02d}.5Z GET HTTP/1.1 {n}" for n in range(300)
    ] + [f"[pod/p{n}/c] 2026-11-25T00:01:00.5Z  continued {n}" for n in (*range(250, 300), 0)]
    data = "".join(f"{line}\n" for line in lines).encode()
    general = frame(data, [])
    quick = frame(data, [], prefilter=Prefilter(SIGNATURES), tally=Tally())
    # 50 continuations join their container's held record; p0's was released long before
    assert len(general) == 301
    assert quick == [line for line in general if has_literal(line)]
    assert len(quick) == 300


def vars_of(record: object) -> object:
    """A held record as comparable values (a Draft has no __eq__)."""
    if isinstance(record, tuple):
        return record
    return {name: getattr(record, name) for name in record.__slots__}  # type: ignore[attr-defined]


@settings(max_examples=300)
@given(
    lines=st.lists(_line, max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=4),
    tallied=st.booleans(),
)
def test_the_c_lane_is_the_python_lane(lines: list[str], cuts: list[int], tallied: bool) -> None:
    """Record by record, literals included; the tally, the line count and the last stamp."""
    pytest.importorskip("logscan._native", reason="logscan._native was not built")
    data = "".join(f"{line}\n" for line in lines).encode()
    results = []
    for native in (True, False):
        tally = Tally() if tallied else None
        timestamps = TimestampParser()
        framer = Framer(
            source="s", prefilter=Prefilter(SIGNATURES, native=native), tally=tally,
            timestamps=timestamps,
        )  # fmt: skip
        out: list[Line] = []
        at = 0
        for cut in [*sorted(cuts), len(data)]:
            out += framer.feed(data[at:cut], NOW)
            at = max(at, cut)
        held = [(key, vars_of(record)) for key, record in framer._pending.items()]
        out += framer.close(NOW)
        counts = (tally.lines, tally.earliest, tally.latest) if tally else None
        last = timestamps._last
        results.append(([(line, line.literals) for line in out], held, counts, last))
    assert results[1] == results[0]


def test_a_wide_character_keeps_only_its_own_line_out_of_the_c_lane(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The C lane takes 1-byte text; a line with "ж" is framed in Python, its neighbours in C,
    and the records are those of the Python lane alone."""
    pytest.importorskip("logscan._native", reason="logscan._native was not built")
    lines = [f"[pod/a-1/c] 2026-11-25T00:00:0{n}.5Z GET HTTP/1.1 {n}" for n in range(6)]
    lines[2] += " ж"
    data = "".join(f"{line}\n" for line in lines).encode()
    python_lane: list[str] = []
    scanned = Framer._scanned_lines

    def spy(
        self: Framer, prefilter: Prefilter[Sig], text: str, now: float, out: list[Line]
    ) -> None:
        python_lane.append(text)
        scanned(self, prefilter, text, now, out)

    monkeypatch.setattr(Framer, "_scanned_lines", spy)
    fast = frame(data, [], prefilter=Prefilter(SIGNATURES), tally=Tally())
    assert [lines[2] + "\n"] == python_lane
    monkeypatch.undo()
    assert frame(data, [], prefilter=Prefilter(SIGNATURES, native=False), tally=Tally()) == fast


def test_a_chained_traceback_joins_alike_in_every_lane() -> None:
    """A Flask traceback, chained after a blank line, is one record in either quick lane, as
    in the general path; a line of another container between its lines does not cut it."""
    messages = [
        "ERROR in app: Exception on /predict [POST]",
        "Traceback (most recent call last):",
        '  File "/app/x.py", line 3, in f',
        "    return int(x)",
        "ValueError: unexpected end of stream",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '\tFile "/app/y.py", line 9, in g',
        "KeyError: 'x'",
        '10.0.0.1 - - [25/Nov/2026:00:00:00 +0000] "POST /predict HTTP/1.1" 500 33',
    ]
    lines = [f"[pod/a-1/c] 2026-11-25T00:00:{n:02d}.5Z {m}" for n, m in enumerate(messages)]
    lines.insert(4, "[pod/b-2/c] 2026-11-25T00:00:03.9Z INFO:     Started")
    uvicorn = [
        "ERROR: Traceback (most recent call last):",
        '  File "/app/z.py", line 1, in h',
        "ValueError: unexpected end of stream",
    ]
    lines += [f"[pod/b-2/c] 2026-11-25T00:00:2{n}.5Z {m}" for n, m in enumerate(uvicorn)]
    data = "".join(f"{line}\n" for line in lines).encode()
    general = frame(data, [])
    assert "\n".join(messages[:11]) == general[0].text
    assert "\n".join(uvicorn) == general[-1].text
    for native in (False, True):
        quick = frame(data, [], prefilter=Prefilter(SIGNATURES, native=native), tally=Tally())
        assert [line for line in general if has_literal(line)] == quick
