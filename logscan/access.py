"""The request lines' fast path: requests recognised in C, weighed without a Line or a regex.

More than half the lines of a busy server are access lines, and each is a request the
overload rule counts. Where the C part is built, the framer's C lane runs the regexes of the
`http.access` and `bentoml.access` signatures as C (logscan/_native_access.c) on each record
whose only literal is one of theirs, and hands such a record on as a `Request` tuple instead
of a `Line`: its source, number, time, text, group, the regex's groups, and which of the
signatures matched; the requests the C lane releases from a block come as one run of them
(Requests). The Core takes each as it would take the Line that the signature matched (see
Core.process).

The fast path is on for a signature only when it gives the same result as its regex: the
regex is exactly HTTP_REGEX or BENTO_REGEX (a pack that changes it turns the fast path off
for it), no signature before it can match a record with only its literal (one after it never
gets the record), the pattern's [A-Z] and \\d mean below U+0100 what the C code assumes, and
the C code is given the characters \\b and \\w take, worked out with the pattern itself. The
signatures share what a request does (their signal and fields), so one plan serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from logscan import accel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from logscan._native import Requests
    from logscan.model import Line
    from logscan.patterns import Signature
    from logscan.prefilter import Prefilter

# The regexes the C matchers implement (patterns/http.toml, patterns/bentoml.toml).
HTTP_REGEX = r'"(?P<method>[A-Z]+) (?P<path>[^ "?]*)[^"]* HTTP/[0-9.]+" (?P<status>\d{3})\b'
BENTO_REGEX = (
    r"\(scheme=\w+,method=(?P<method>[A-Z]+),path=(?P<path>[^,)]*)[^)]*\) "
    r"\(status=(?P<status>\d{3})"
)
_GROUPS = {"method": 1, "path": 2, "status": 3}
_LATIN_1 = [chr(code) for code in range(256)]

# A line of each shape with one character to vary: the method's, the status's last digit's,
# and the one after the status (http) or in the scheme (bento).
_SAMPLES = {
    HTTP_REGEX: ('"{} / HTTP/1.1" 200', '"GET / HTTP/1.1" 20{}', '"GET / HTTP/1.1" 200{}'),
    BENTO_REGEX: (
        "(scheme=http,method={},path=/) (status=200",
        "(scheme=http,method=GET,path=/) (status=20{}",
        "(scheme={},method=GET,path=/) (status=200",
    ),
}
_SHAPES = {HTTP_REGEX: 0, BENTO_REGEX: 1}  # _native_access.c's SHAPE_HTTP, SHAPE_BENTO

# (source, number, ts, text, group, (method, path, status), kind): a record the kind-th
# request signature (Access.signatures) matched, with the groups of its match.
Request = tuple[str, int, float, str, str, tuple[str, str, str], int]

# What a framer hands the Core: Lines, request tuples, and runs of requests that the C lane
# made from one block (logscan/_native_requests.c: run[i] is a Request).
Record = Union["Line", Request, "Requests"]


@dataclass(frozen=True, slots=True)
class Access:
    """The request signatures the C lane may match, by kind: what Block.run takes
    (`native`: each one's literal, shape and table) and what the Core needs to make a
    request's Line when a rule keeps it (`literals`)."""

    signatures: tuple[Signature, ...]
    literals: tuple[frozenset[str], ...]
    native: tuple[tuple[str, int, bytes], ...]

    @classmethod
    def of(cls, signatures: Sequence[Signature], prefilter: Prefilter[Any]) -> Access | None:
        """The fast path for these packs, or None where it would not give the regexes'
        results (or the C part is not built)."""
        if prefilter.native is None or accel.native is None:
            return None
        kinds: list[tuple[Signature, tuple[str, int, bytes]]] = []
        for signature in signatures:
            native = _native(signature, prefilter)
            first = kinds[0][0] if kinds else signature
            if native is not None and (first.signal, first.fields) == (
                signature.signal,
                signature.fields,
            ):
                kinds.append((signature, native))
        if not kinds:
            return None
        return cls(
            signatures=tuple(signature for signature, _ in kinds),
            literals=tuple(frozenset(signature.literals) for signature, _ in kinds),
            native=tuple(native for _, native in kinds),
        )


def _native(signature: Signature, prefilter: Prefilter[Any]) -> tuple[str, int, bytes] | None:
    """What the C lane takes to match `signature` (its literal, shape and table), or None
    where it would not give the regex's result."""
    pattern = signature.pattern
    samples = _SAMPLES.get(pattern.pattern)
    if samples is None or len(signature.literals) != 1:
        return None
    if dict(pattern.groupindex) != _GROUPS or pattern.groups != len(_GROUPS):
        return None
    candidates = prefilter.admitted(frozenset(signature.literals))  # the first one wins
    if candidates[:1] != (signature,):
        return None
    methods, digits, table = (
        {char for char in _LATIN_1 if pattern.search(sample.format(char))} for sample in samples
    )
    if methods != set("ABCDEFGHIJKLMNOPQRSTUVWXYZ") or digits != set("0123456789"):
        return None  # [A-Z] and \d are not what the C code takes them to be
    return (
        signature.literals[0],
        _SHAPES[pattern.pattern],
        bytes(char in table for char in _LATIN_1),
    )
