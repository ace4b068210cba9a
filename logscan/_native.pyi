# The optional C module (logscan/_native*.c); prefilter.py falls back to `re` without it.

from collections.abc import Callable, Iterator
from typing import Any

from logscan.model import Match

_Request = tuple[str, int, float, str, str, tuple[str, str, str], int]

class Literals:
    vector: bool
    def __init__(
        self,
        literals: tuple[str, ...],
        overlaps: tuple[tuple[tuple[int, int], ...], ...],
        vector: bool = True,
    ) -> None: ...
    def scan(self, text: str) -> list[tuple[int, str]] | None: ...
    def block(self, text: str) -> Block | None: ...

class Block:
    def run(
        self,
        pending: dict[str, Any],
        partials: dict[str, Any],
        number: int,
        last_ts: float | None,
        tally: bool,
        seconds: dict[str, tuple[float, float]],
        parse: Callable[[str], float | None],
        line: type[Any],
        source: str,
        out: list[Any],
        group: str,
        empty: frozenset[str],
        access: tuple[tuple[str, int, bytes], ...] | None,
        /,
    ) -> tuple[
        int, float | None, float | None, int, float, float, tuple[str, list[tuple[int, str]]] | None
    ]: ...

def longest_line(data: bytes | bytearray | memoryview) -> int: ...
def match_access(text: str, shape: tuple[str, int, bytes]) -> tuple[str, str, str] | None: ...
def weigh(
    records: list[Any] | Requests,
    start: int,
    lanes: dict[str, dict[tuple[str, ...], Any]],
    watermark: float,
    calm_until: float,
    /,
) -> tuple[int, float, int, float, float, tuple[int, int, int, int]]: ...
def reject(
    lane: tuple[tuple[Any, ...], ...], match: Match, ts: float, now: float, cap: int, /
) -> bool: ...

class Requests:
    """A run of requests the C lane released from one block: run[i] is access.py's Request."""

    def __len__(self) -> int: ...
    def __getitem__(
        self, index: int
    ) -> tuple[str, int, float, str, str, tuple[str, str, str], int]: ...
    def __iter__(self) -> Iterator[tuple[str, int, float, str, str, tuple[str, str, str], int]]: ...
