"""The literal prefilter: which signatures could match a record, from one scan of its text.

Each signature lists literals that every line it matches contains. Instead of testing each
literal of each signature in turn (tens of substring searches per record), one compiled
pattern finds every literal present in a single pass: a zero-width lookahead over an
alternation of all literals, longest first, so the scan tries every position. At one position
it reports only the longest literal found there; any other literal starting there is a prefix
of it, so each literal also stands for the literals it contains. The result is exact: the
differential tests compare it with testing every literal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar


class _HasLiterals(Protocol):
    @property
    def literals(self) -> tuple[str, ...]: ...


_S = TypeVar("_S", bound=_HasLiterals)
_CACHE_LIMIT = 4096  # distinct sets of literals seen; real logs have a few dozen


class Prefilter(Generic[_S]):
    """Maps a record's text to the signatures whose literals it contains, in priority order."""

    __slots__ = ("_admits", "_cache", "_scan", "_signatures")

    def __init__(self, signatures: Sequence[_S]) -> None:
        self._signatures = tuple(signatures)
        literals = sorted(
            {lit for s in signatures for lit in s.literals}, key=lambda x: (-len(x), x)
        )
        alternation = "|".join(re.escape(literal) for literal in literals)
        self._scan = re.compile(f"(?=({alternation}))") if literals else None
        self._admits = {
            literal: frozenset(
                index
                for index, signature in enumerate(signatures)
                if any(own in literal for own in signature.literals)
            )
            for literal in literals
        }
        self._cache: dict[frozenset[str], tuple[_S, ...]] = {}

    def candidates(self, text: str) -> tuple[_S, ...]:
        """The signatures that could match `text`, in priority order (often none)."""
        if self._scan is None:
            return ()
        found = frozenset(self._scan.findall(text))
        if not found:
            return ()
        known = self._cache.get(found)
        if known is None:
            indices = sorted(set().union(*(self._admits[literal] for literal in found)))
            known = tuple(self._signatures[index] for index in indices)
            if len(self._cache) < _CACHE_LIMIT:
                self._cache[found] = known
        return known
