"""The literal prefilter: which signatures could match a record, from one scan of its text.

Each signature lists literals that every line it matches contains. Instead of testing each
literal of each signature in turn (tens of substring searches per record), one compiled
alternation of all literals, longest first, finds them in a single pass. It can be run over a
whole block of lines at once (the framer does, and hands each record the literals of its
lines), so the hundreds of thousands of lines that contain none cost no regex call of their
own.

A left-to-right scan reports, at each position, the longest literal starting there and then
resumes after it. A literal it steps over is still accounted for: one that lies inside a
reported literal is admitted with it (each literal stands for the literals it contains), and
one that starts inside and runs past its end (a suffix of it is a prefix of the other, as in
"Started server process" and "process is overloaded") is checked for explicitly. So the
signatures admitted are exactly those with a literal in the text; the differential tests
compare them with testing every literal.

The scan runs in C when logscan._native was built (setup.py builds it where a compiler is
there); otherwise `re` runs the alternation. Both give the same hits (tests/test_native.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from logscan import accel

if TYPE_CHECKING:
    from logscan._native import Literals


class _HasLiterals(Protocol):
    @property
    def literals(self) -> tuple[str, ...]: ...


_S = TypeVar("_S", bound=_HasLiterals)
_CACHE_LIMIT = 4096  # distinct sets of literals seen; real logs have a few dozen

Hit = tuple[int, str]  # where a literal starts in the scanned text, and the literal


class Prefilter(Generic[_S]):
    """Maps a record's text to the signatures whose literals it contains, in priority order."""

    __slots__ = (
        "_admits", "_cache", "_native", "_overlaps", "_scan", "_signatures", "multiline",
    )  # fmt: skip

    def __init__(
        self, signatures: Sequence[_S], *, native: bool = True, vector: bool = True
    ) -> None:
        """`native=False` scans with `re` even where the C scan is built, `vector=False` with
        the C scan's skip table alone even where the CPU has AVX2 (both for comparison)."""
        self._signatures = tuple(signatures)
        literals = sorted(
            {lit for s in signatures for lit in s.literals}, key=lambda x: (-len(x), x)
        )
        alternation = "|".join(re.escape(literal) for literal in literals)
        self._scan = re.compile(alternation) if literals else None
        self._admits = {
            literal: frozenset(
                index
                for index, signature in enumerate(signatures)
                if any(own in literal for own in signature.literals)
            )
            for literal in literals
        }
        # For each literal, the literals that can start inside it and end after it, with the
        # length of the overlap.
        self._overlaps = {
            literal: tuple(
                (other, size)
                for other in literals
                if other not in literal
                for size in range(1, min(len(literal), len(other)))
                if literal[-size] == other[0] and literal.endswith(other[:size])  # (start-up)
            )
            for literal in literals
        }
        self._native = _compile_native(literals, self._overlaps, vector) if native else None
        self._cache: dict[frozenset[str], tuple[_S, ...]] = {}
        # A literal with a line break could span two lines of a block: blocks cannot be
        # scanned line by line then (the framer falls back to scanning each record).
        self.multiline = any("\n" in literal for literal in literals)

    @property
    def native(self) -> Literals | None:
        """The C scan, when built and used (the framer's quick lane runs blocks with it)."""
        return self._native

    def scan(self, text: str) -> list[Hit]:
        """The literals in `text`, by position (see the module docstring for which)."""
        if self._native is not None:
            native = self._native.scan(text)
            if native is not None:
                return native
        if self._scan is None:
            return []
        hits = []
        overlaps = self._overlaps
        for found in self._scan.finditer(text):
            literal = found.group()
            hits.append((found.start(), literal))
            end = found.end()
            for other, size in overlaps[literal]:
                if text.startswith(other, end - size):
                    hits.append((end - size, other))
        return hits

    def candidates(self, text: str) -> tuple[_S, ...]:
        """The signatures that could match `text`, in priority order (often none)."""
        return self.admitted(literal for _, literal in self.scan(text))

    def admitted(self, literals: Iterable[str]) -> tuple[_S, ...]:
        """The signatures whose literals are among, or inside, `literals` (found in a text)."""
        found = frozenset(literals)
        if not found:
            return ()
        known = self._cache.get(found)
        if known is None:
            indices = sorted(set().union(*(self._admits[literal] for literal in found)))
            known = tuple(self._signatures[index] for index in indices)
            if len(self._cache) < _CACHE_LIMIT:
                self._cache[found] = known
        return known


def _compile_native(
    literals: list[str], overlaps: dict[str, tuple[tuple[str, int], ...]], vector: bool
) -> Literals | None:
    """The C scan of `literals` (in alternation order), or None: not built, or a literal has
    a character it does not handle (above U+00FF)."""
    if (
        accel.native is None
        or not literals
        or any(ord(max(literal)) > 0xFF for literal in literals)
    ):
        return None
    index = {literal: number for number, literal in enumerate(literals)}
    table = tuple(
        tuple((index[other], size) for other, size in overlaps[literal]) for literal in literals
    )
    return accel.native.Literals(tuple(literals), table, vector)
