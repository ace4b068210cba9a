"""The access line's fast path: requests recognised in C, weighed without a Line or a regex.

More than half the lines of a busy server are access lines, and each is a request the
overload rule counts. Where the C part is built, the framer's C lane runs the `http.access`
signature's regex as C (logscan/_native_access.c) on each record whose only literal is that
signature's, and hands such a record on as a `Request` tuple instead of a `Line`: its source,
number, time, text, group and the regex's groups. The Core takes it as it would take the
Line that the signature matched (see Core.process).

The fast path is on only when it gives the same result as the regex: the signature's regex
is exactly ACCESS_REGEX (a pack that changes it turns the fast path off), no signature before
it can match a record with only its literal (one after it never gets the record), and the
pattern's [A-Z], \\d and \\b mean below U+0100 what the C code assumes (checked here with
the pattern itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from logscan import accel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from logscan.patterns import Signature
    from logscan.prefilter import Prefilter

# The regex the C matcher implements (patterns/http.toml), and its groups in order.
ACCESS_REGEX = r'"(?P<method>[A-Z]+) (?P<path>[^ "?]*)[^"]* HTTP/[0-9.]+" (?P<status>\d{3})\b'
_GROUPS = {"method": 1, "path": 2, "status": 3}
_LATIN_1 = [chr(code) for code in range(256)]

# (source, number, ts, text, group, (method, path, status)): a record the access signature
# matched, with the groups of its match.
Request = tuple[str, int, float, str, str, tuple[str, str, str]]


@dataclass(frozen=True, slots=True)
class Access:
    """The access signature, when the C lane may match it: what Block.run takes (`native`)
    and what the Core needs to make a request's Line when a rule keeps it (`literals`)."""

    signature: Signature
    literals: frozenset[str]
    native: tuple[str, bytes]  # (the literal, which characters end a status: \b after it)

    @classmethod
    def of(cls, signatures: Sequence[Signature], prefilter: Prefilter[Any]) -> Access | None:
        """The fast path for these packs, or None where it would not give the regex's result
        (or the C part is not built)."""
        if prefilter.native is None or accel.native is None:
            return None
        for signature in signatures:
            pattern = signature.pattern
            if pattern.pattern != ACCESS_REGEX or len(signature.literals) != 1:
                continue
            if dict(pattern.groupindex) != _GROUPS or pattern.groups != len(_GROUPS):
                return None
            literals = frozenset(signature.literals)
            candidates = prefilter.admitted(literals)  # in priority order: the first wins
            if candidates[:1] != (signature,) or not _means_ascii(signature):
                return None
            ends = bytes(
                pattern.search(f'"GET / HTTP/1.1" 200{char}') is not None for char in _LATIN_1
            )
            return cls(signature, literals, (signature.literals[0], ends))
        return None


def _means_ascii(signature: Signature) -> bool:
    """[A-Z] and \\d match only their ASCII characters below U+0100 (no flag changes them)."""
    search = signature.pattern.search
    methods = {char for char in _LATIN_1 if search(f'"{char} / HTTP/1.1" 200')}
    digits = {char for char in _LATIN_1 if search(f'"GET / HTTP/1.1" 20{char}')}
    return methods == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ") and digits == set("0123456789")
