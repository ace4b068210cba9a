"""Captured logs for `scan`: plain files, gzip files and stdin, read in large chunks."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from logscan.errors import SourceError
from logscan.pipeline import Source

CHUNK_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


def open_source(spec: str) -> Source:
    """`-` for stdin, else a path; gzip is recognised by its magic bytes, not its name.

    The file is checked here, so a missing or unreadable one fails before anything is
    scanned; it is opened for reading only when its chunks are first asked for, so a run that
    stops early (a bad pack) leaves no file open.
    """
    if spec == "-":
        return Source(name="<stdin>", chunks=_read_all(sys.stdin.buffer, spec))
    path = Path(spec)
    try:
        path.open("rb").close()
    except OSError as error:
        raise SourceError(f"{spec}: cannot open: {error.strerror or error}") from None
    return Source(name=spec, chunks=_file_chunks(path))


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        compressed = handle.read(2) == _GZIP_MAGIC
        handle.seek(0)
        if not compressed:
            yield from _read_all(handle, str(path))
            return
        with gzip.GzipFile(fileobj=handle) as unzipped:
            yield from _read_all(unzipped, str(path))


def _read_all(stream: IO[bytes] | gzip.GzipFile, name: str) -> Iterator[bytes]:
    while True:
        try:
            chunk = stream.read(CHUNK_BYTES)
        except (OSError, EOFError) as error:  # e.g. a truncated .gz: say so, keep what was read
            raise SourceError(f"{name}: read failed: {error}") from None
        if not chunk:
            return
        yield chunk
