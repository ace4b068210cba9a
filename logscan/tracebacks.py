"""Where a record stands in a Python traceback, and whether the next line continues it.

The framer joins a traceback's lines into one record per group; these pure functions follow
the shape traceback.py (format_exception) prints: a header, indented frames, the exception
line, and chain markers between chained exceptions.
"""

from __future__ import annotations

import re

# Where a record stands in a Python traceback (traceback.py: format_exception), which decides
# what the next line of its group may add to it.
OPEN, FRAMES, RAISED, CHAINED = range(4)
_TRACEBACK = "Traceback (most recent call last):"
_CHAIN_MARKERS = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
# The last line of a traceback: "ValueError: msg", "werkzeug.exceptions.ClientDisconnected: 400
# Bad Request: ...", or a bare "StopIteration". All-caps names are log headers ("INFO:     ").
_EXCEPTION = re.compile(r"([A-Za-z_][\w.]*)(?::(?: |$)|$)")


def advance(state: int, text: str) -> int | None:
    """The traceback state after `text`, or None when `text` does not continue the record."""
    if "\n" in text:
        return _advance_lines(state, text)
    if state == RAISED:  # only a chain marker continues a finished traceback
        return CHAINED if text.startswith(_CHAIN_MARKERS) else None
    head = text[:1]
    if head == "T" and text.startswith(_TRACEBACK):
        return FRAMES
    if state == CHAINED:
        return None
    if head in {" ", "\t"}:  # frames, source lines, 3.11 carets, indented details
        return state
    return RAISED if state == FRAMES and _is_exception(text) else None


def _advance_lines(state: int, text: str) -> int | None:
    """A journald MESSAGE with newlines: its first line decides, all lines advance."""
    lines = text.split("\n")
    result = advance(state, lines[0])
    for line in lines[1:]:
        if result is not None and line:
            result = advance(result, line) or result
    return result


def _is_exception(text: str) -> bool:
    found = _EXCEPTION.match(text)
    return found is not None and not found.group(1).isupper()


def opening_state(text: str) -> int:
    """The traceback state of a new record: a bare traceback, uvicorn's "ERROR:    Traceback
    (most recent call last):" header, a multi-line journald entry."""
    lines = text.split("\n")
    state = FRAMES if lines[0].endswith(_TRACEBACK) else OPEN
    for line in lines[1:]:
        state = (line and advance(state, line)) or state
    return state
