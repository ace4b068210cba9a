# The optional C module (logscan/_native.c); prefilter.py falls back to `re` without it.

class Literals:
    def __init__(
        self, literals: tuple[str, ...], overlaps: tuple[tuple[tuple[int, int], ...], ...]
    ) -> None: ...
    def scan(self, text: str) -> list[tuple[int, str]] | None: ...
