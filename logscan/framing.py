"""Bytes to records: split lines, take envelopes off, date them, join tracebacks.

`Framer` is a sans-I/O engine in the manner of h11's receive buffer: it is fed bytes and the
read time, and hands back `Line` values. It never reads a clock or a file, and its memory is
bounded by `max_line` and the number of groups, never by the length of the stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from logscan.accel import native
from logscan.access import Access, Record
from logscan.assembly import Draft, Held, Tally
from logscan.envelopes import ANSI_CSI, InputFormat, Unwrappers
from logscan.model import Line
from logscan.prefilter import Hit, Prefilter
from logscan.timestamps import TimestampParser
from logscan.tracebacks import OPEN, RAISED, advance, opening_state

if TYPE_CHECKING:
    from logscan._native import Block

__all__ = ["Framer", "InputFormat", "Tally"]

_MAX_GROUPS = 256  # records held for joining at once; the oldest is released beyond this

_NOTHING: frozenset[str] = frozenset()
_CONTINUATION_HEADS = frozenset(" \tT")  # what a line that may continue a record starts with
_QUICK_FORMATS = frozenset({InputFormat.AUTO, InputFormat.KUBECTL})
_WIDE = re.compile("[^\x00-\xff]")  # what the C lane does not take

_H = TypeVar("_H", Draft, Draft | Held)


class Framer:
    """Turns the bytes of one source into `Line` records.

    `feed` returns the records completed so far; the last record of each group is held until
    the next line of that group shows whether it continues it (a traceback). `flush` releases
    held records when the source is idle; `close` also takes the unterminated last line.
    Feeding the same bytes in any chunks gives the same records.
    """

    __slots__ = (
        "_access", "_buffer", "_discarding", "_group", "_last_ts", "_max_line", "_number",
        "_partials", "_pending", "_prefilter", "_quick_lane", "_source", "_tally", "_timestamps",
        "_unwrap",
    )  # fmt: skip

    def __init__(
        self,
        *,
        source: str,
        input_format: InputFormat = InputFormat.AUTO,
        timestamps: TimestampParser | None = None,
        max_line: int = 65536,
        group: str = "",
        prefilter: Prefilter[Any] | None = None,
        tally: Tally | None = None,
        access: Access | None = None,
    ) -> None:
        """`group` is given to records whose envelope names none (plain lines). With a
        `prefilter`, each block of lines is scanned for the packs' literals at once and
        records carry the literals they contain (Line.literals). With a `tally` too, a record
        that contains none is counted there instead of emitted: no signature can match it.
        With the packs' `access` too, the C lane hands a record a request signature matches
        on as a request, not a Line: a Request tuple, or an item of a run of them (see
        access.py); for Core.process only."""
        self._source = source
        self.rebind(prefilter, access)
        self._group = group
        self._timestamps = timestamps if timestamps is not None else TimestampParser()
        self._unwrap = Unwrappers(self._timestamps).select(InputFormat(input_format))
        self._quick_lane = InputFormat(input_format) in _QUICK_FORMATS
        self._tally = tally if self._prefilter is not None else None
        self._max_line = max_line
        self._buffer = bytearray()  # the partial last line; it never holds a b"\n"
        self._discarding = False  # skipping the rest of a line cut at max_line
        self._number = 0
        self._last_ts: float | None = None
        self._pending: dict[str, Draft | Held] = {}  # by join key: records that may grow
        self._partials: dict[str, Draft] = {}  # by join key: docker/CRI partial pieces

    def feed(self, data: bytes, now: float) -> list[Record]:
        """Take the next bytes read at `now`; return the records they complete."""
        out: list[Record] = []
        if self._discarding:
            newline = data.find(b"\n")
            if newline < 0:
                return out  # still inside the over-long line: nothing is buffered
            data = data[newline + 1 :]
            self._discarding = False
        buffer = self._buffer  # the partial line after the last "\n" (it holds none)
        end = data.rfind(b"\n")
        if end < 0:
            buffer += data
        else:  # the whole lines, not copied: a partial line that waits is completed apart
            view = memoryview(data)
            start = 0
            if buffer:
                start = data.find(b"\n") + 1
                buffer += view[:start]
                self._lines(buffer, now, out)
                buffer.clear()
            if start <= end:
                self._lines(view[start : end + 1], now, out)
            buffer += view[end + 1 :]
        if len(buffer) > self._max_line + 1:  # + 1: a "\r" before the "\n" is not content
            self._physical(_decode(bytes(buffer[: self._max_line])), True, now, out, None)
            buffer.clear()
            self._discarding = True
        return out

    def __getstate__(self) -> dict[str, object]:
        """Everything but the prefilter and access, which belong to the packs (see rebind)."""
        state = {name: getattr(self, name) for name in self.__slots__}
        state["_prefilter"] = state["_access"] = None
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    def rebind(self, prefilter: Prefilter[Any] | None, access: Access | None = None) -> None:
        """Set the prefilter and access: when the framer is made, and after a restore (a
        framer's state leaves them out); none for packs with a multi-line literal."""
        self._prefilter = None if prefilter is None or prefilter.multiline else prefilter
        self._access = None
        if access is not None and self._prefilter is not None:
            self._access = access.native

    @property
    def has_pending(self) -> bool:
        """Records are held waiting to see whether the next line continues them."""
        return bool(self._pending)

    def flush(self, now: float) -> list[Record]:
        """The source is idle: release records held for joining (the partial line stays)."""
        out: list[Record] = []
        for record in self._pending.values():
            self._emit(record, now, out)
        self._pending.clear()
        return out

    def close(self, now: float) -> list[Record]:
        """End of input: the unterminated last line, partial pieces, then everything held."""
        out: list[Record] = []
        rest = bytes(self._buffer)
        self._buffer.clear()
        if rest and not self._discarding:
            content = rest[:-1] if rest.endswith(b"\r") else rest
            truncated = len(content) > self._max_line
            self._physical(_decode(content[: self._max_line]), truncated, now, out, None)
        self._discarding = False
        partials = list(self._partials.items())
        self._partials.clear()
        for key, piece in partials:
            piece.glue()
            self._record(key, piece, now, out)
        out += self.flush(now)
        return out

    def _lines(
        self, complete: bytes | bytearray | memoryview, now: float, out: list[Record]
    ) -> None:
        """Frame whole lines ("\n"-terminated); decode them at once unless one is too long."""
        limit = self._max_line
        if len(complete) > limit + 1 and _longest_line(complete) > limit:
            for raw in bytes(complete[:-1]).split(b"\n"):
                content = raw[:-1] if raw.endswith(b"\r") else raw
                self._physical(_decode(content[:limit]), len(content) > limit, now, out, None)
            return
        # "\n" cannot occur inside a UTF-8 sequence, so decoding the block equals per line.
        text = str(complete, "utf-8", "replace")
        if "\x1b" in text:
            text = ANSI_CSI.sub("", text)  # a CSI sequence cannot contain "\n"
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        if self._prefilter is None:
            for line in text[:-1].split("\n"):
                self._physical(line, False, now, out, None)
            return
        prefilter = self._prefilter
        native = prefilter.native if self._quick_lane else None
        if native is None:
            self._scanned_lines(prefilter, text, now, out)
            return
        block = native.block(text)  # None when a character is above U+00FF: the C lane's limit
        if block is not None:
            self._native_lines(block, now, out)
            return
        for piece, wide in _by_width(text):  # those lines to Python, the rest to C
            block = None if wide else native.block(piece)
            if block is None:
                self._scanned_lines(prefilter, piece, now, out)
            else:
                self._native_lines(block, now, out)

    def _scanned_lines(
        self, prefilter: Prefilter[Any], text: str, now: float, out: list[Record]
    ) -> None:
        """The Python lane for whole lines: one scan of the block for every literal; each
        line gets the hits inside it (no literal holds a "\n"), by position from its start."""
        lines = text[:-1].split("\n")
        hits = prefilter.scan(text)
        hits.sort()
        hits.append((len(text), ""))  # a sentinel past the last line
        at = 0  # the next hit
        start = 0  # where the line starts in `text`
        quick = self._quick_lane
        mine: list[Hit] = []
        for line in lines:
            end = start + len(line)
            if hits[at][0] < end:
                mine = []
                while hits[at][0] < end:
                    mine.append((hits[at][0] - start, hits[at][1]))
                    at += 1
            elif mine:
                mine = []
            if not (quick and self._quick(line, mine, now, out)):
                self._physical(line, False, now, out, mine)
            start = end + 1

    def _native_lines(self, block: Block, now: float, out: list[Record]) -> None:
        """`_lines` in C (logscan/_native_lane.c): the block runs the quick lane on its lines and
        stops at each line it does not take, which is framed here; the same records."""
        tally, timestamps = self._tally, self._timestamps
        while True:
            self._number, self._last_ts, stamp, counted, earliest, latest, declined = block.run(
                self._pending, self._partials, self._number, self._last_ts, tally is not None,
                timestamps.known_seconds, timestamps.parse_rfc3339, Line, self._source, out,
                self._group, _NOTHING, self._access,
            )  # fmt: skip
            if stamp is not None:
                timestamps.saw(stamp)
            if counted:
                assert tally is not None
                tally.merge(counted, earliest, latest)
            if declined is None:
                return
            line, mine = declined
            if not self._quick(line, mine, now, out):
                self._physical(line, False, now, out, mine)

    def _quick(self, text: str, hits: list[Hit], now: float, out: list[Record]) -> bool:
        """Frame the usual kubectl line ("[pod/P/C] 2021-...Z message") without the general
        machinery: it does not open a traceback, and it is held as a plain tuple; a line
        that may continue its container's held record (a traceback's next line) is
        `_continued`. False: the general path must take it.
        The result is the same as `_physical`'s (the framing tests compare the two)."""
        close = text.find("]")
        space = text.find(" ", close + 2)
        if space < 0 or text[close + 1 : close + 2] != " " or not text.startswith("[pod/"):
            return False
        message = text[space + 1 :]
        stamp = text[close + 2 : space]
        if not message or stamp[-1:] != "Z" or self._partials:
            return False
        key = text[: close + 1]
        pending = self._pending
        held = pending.get(key)
        if held is None:
            if len(pending) >= _MAX_GROUPS:
                return False
        elif message[0] in _CONTINUATION_HEADS or (type(held) is Draft and held.state != OPEN):
            return self._continued(key, held, message, stamp, _literals(hits, space + 1))
        # (a line that ends in ":" may open a traceback: the general path holds it so)
        ts = None if message[-1] == ":" else self._timestamps.parse_rfc3339(stamp)
        if ts is None:
            return False
        self._number += 1
        if held is not None:
            del pending[key]
            self._emit(held, now, out)
        self._last_ts = ts
        group = text[5:close].partition("/")[0] or self._group
        literals = _literals(hits, space + 1)
        pending[key] = (self._number, ts, message, group, literals)
        return True

    def _continued(
        self, key: str, held: Draft | Held, message: str, stamp: str, found: frozenset[str]
    ) -> bool:
        """`_quick` for a line that may continue its container's held record (a traceback's
        frames): what _record and _continues do with it. False: the general path takes it."""
        state = advance(held.state if isinstance(held, Draft) else OPEN, message)
        if state is None or (isinstance(held, Draft) and held.blank is not None):
            return False
        if self._timestamps.parse_rfc3339(stamp) is None:
            return False  # the general path keeps the stamp in the message
        if not isinstance(held, Draft):  # held by the quick lane: it grows now
            number, ts, text, group, literals = held
            held = self._pending[key] = Draft(
                group=group, number=number, ts=ts, text=text, truncated=False, found=literals
            )
        self._number += 1
        held.add(message, self._max_line, found)
        held.state = state
        return True

    def _physical(
        self,
        text: str,
        truncated: bool,
        now: float,
        out: list[Record],
        hits: Sequence[Hit] | None,
    ) -> None:
        """One physical line: unwrap its envelope, assemble partials, then join. `hits` are
        the literals in the line (None: not scanned)."""
        self._number += 1
        found = self._unwrap(text) if self._unwrap is not None else None
        if found is None:
            literals = None if hits is None else _literals(hits, 0)
            piece = Draft(
                group=self._group, number=self._number, ts=None, text=text,
                truncated=truncated, found=literals,
            )  # fmt: skip
            self._record("", piece, now, out)
            return
        key, group, ts, message, partial = found
        # The message is usually the end of the line (kubectl, CRI, syslog); a JSON one is
        # decoded from it, and the matcher looks at its text instead.
        if hits is None or not text.endswith(message):
            literals = None
        else:
            literals = _literals(hits, len(text) - len(message))
        piece = Draft(
            group=group or self._group,
            number=self._number,
            ts=ts,
            text=message,
            truncated=truncated,
            found=literals,
        )
        if partial or key in self._partials:
            held = self._partials.get(key)
            if held is None:
                self._hold(self._partials, key, piece, now, out)
                return
            held.add(message, self._max_line, None)
            held.truncated |= truncated
            if partial:
                return
            del self._partials[key]
            held.glue()
            piece = held  # dated and numbered by its first piece
        self._record(key, piece, now, out)

    def _record(self, key: str, piece: Draft, now: float, out: list[Record]) -> None:
        """Continue the group's pending record with `piece`, or start a new one."""
        text = piece.text()
        ts = piece.ts
        held = self._pending.get(key)
        if isinstance(held, tuple):  # held by the quick lane: it may grow now
            number, held_ts, held_text, group, found = held
            held = self._pending[key] = Draft(
                group=group, number=number, ts=held_ts, text=held_text, truncated=False,
                found=found,
            )  # fmt: skip
        pending = held
        if pending is not None:
            if self._continues(pending, text, piece.found, now):
                pending.truncated |= piece.truncated
                return
            del self._pending[key]
            self._emit(pending, now, out)
        if ts is None:
            ts = self._timestamps.parse_text(text)
        if ts is None:
            piece.inferred = True
            ts = now if self._last_ts is None else self._last_ts
        else:
            self._last_ts = ts
        piece.ts = ts
        if not text:  # a blank line cannot be continued: nothing to wait for
            self._emit(piece, now, out)
            return
        piece.state = opening_state(text) if text[-1] == ":" or "\n" in text else OPEN
        self._hold(self._pending, key, piece, now, out)

    def _continues(
        self, pending: Draft, text: str, found: frozenset[str] | None, now: float
    ) -> bool:
        """Add `text` to `pending` if it continues it; a blank is held until the next line."""
        if not text:
            if pending.state < RAISED or pending.blank is not None:
                return False
            ts = now if self._last_ts is None else self._last_ts
            pending.blank = self._line(
                number=self._number, text="", ts=ts, inferred=True, group=pending.group,
                literals=_NOTHING,
            )  # fmt: skip
            return True
        state = advance(pending.state, text)
        if state is None:
            return False
        if pending.blank is not None:
            pending.add("", self._max_line, _NOTHING)
            pending.blank = None
        pending.add(text, self._max_line, found)
        pending.state = state
        return True

    def _hold(
        self, held: dict[str, _H], key: str, record: _H, now: float, out: list[Record]
    ) -> None:
        if len(held) >= _MAX_GROUPS:  # bound memory: release the oldest group's record
            oldest = next(iter(held))
            evicted = held.pop(oldest)
            if held is self._pending or isinstance(evicted, tuple):
                self._emit(evicted, now, out)
            else:
                evicted.glue()
                self._record(oldest, evicted, now, out)
        held[key] = record

    def _emit(self, record: Draft | Held, now: float, out: list[Record]) -> None:
        tally = self._tally
        if isinstance(record, tuple):
            number, ts, text, group, literals = record
            if tally is not None and not literals:
                tally.add(ts)
                return
            out.append(
                self._line(
                    number=number, text=text, ts=ts, inferred=False, group=group, literals=literals
                )
            )
            return
        ts = record.ts if record.ts is not None else now
        if tally is not None and record.found is not None and not record.found:
            tally.add(ts)
        else:
            line = self._line(
                number=record.number, text=record.text(), ts=ts, inferred=record.inferred,
                group=record.group, truncated=record.truncated, literals=record.found,
            )  # fmt: skip
            out.append(line)
        if record.blank is not None:
            if tally is not None:
                tally.add(record.blank.ts)
            else:
                out.append(record.blank)

    def _line(
        self, *, number: int, text: str, ts: float, inferred: bool, group: str,
        truncated: bool = False, literals: frozenset[str] | None = None,
    ) -> Line:  # fmt: skip
        return Line(
            source=self._source, number=number, text=text, ts=ts, ts_inferred=inferred,
            group=group, truncated=truncated, literals=literals,
        )  # fmt: skip


def _literals(hits: Sequence[Hit], start: int) -> frozenset[str]:
    """The literals of the hits at or after `start` in their line (the message)."""
    if not hits:
        return _NOTHING
    return frozenset(literal for at, literal in hits if at >= start)


def _by_width(text: str) -> Iterator[tuple[str, bool]]:
    """`text` (whole lines) in pieces of whole lines, in order, each with whether it holds a
    character above U+00FF: the lines that do, and the runs of lines between them."""
    at = 0
    for found in _WIDE.finditer(text):
        if found.start() < at:
            continue  # in a line already given
        start = text.rfind("\n", 0, found.start()) + 1
        end = text.index("\n", found.start()) + 1
        if start > at:
            yield text[at:start], False
        yield text[start:end], True
        at = end
    if at < len(text):
        yield text[at:], False


def _split_longest(data: bytes | bytearray | memoryview) -> int:
    return max(map(len, bytes(data).split(b"\n")))


_longest_line = native.longest_line if native is not None else _split_longest


def _decode(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return ANSI_CSI.sub("", text) if "\x1b" in text else text
