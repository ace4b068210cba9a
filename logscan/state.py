"""The checkpoint store behind `--state FILE`: where each source stopped, and everything the
pipeline held at that moment, so a restart neither skips nor repeats a line.

One SQLite database (WAL, standard library) with one row: the snapshot. A snapshot is the
pickled framers (partial lines, tracebacks being joined), the core (correlator windows, open
incidents, counters) and the checkpoint of every stream, written in one transaction after the
sinks took the events it produced. The file is the user's own, written and read only by
logscan: pickle is fine here, and the schema version and a fingerprint of the packs guard
against reading a snapshot this version or these packs cannot use.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import pickle
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from logscan.core import Core
from logscan.errors import ConfigError
from logscan.framing import Framer
from logscan.patterns import PatternSet
from logscan.sources.base import Checkpoint

SCHEMA_VERSION = 6
_log = logging.getLogger("logscan.state")


@dataclass(slots=True, kw_only=True)
class Snapshot:
    """What a restart needs: per-stream framers and checkpoints, and the core."""

    core: Core
    framers: dict[str, Framer] = field(default_factory=dict)
    checkpoints: dict[str, Checkpoint] = field(default_factory=dict)  # by Checkpoint.key

    def rebind(self, patterns: PatternSet) -> None:
        """Attach the packs after unpickling (the same packs: the state store checks)."""
        self.core.rebind(patterns)
        for framer in self.framers.values():
            framer.rebind(patterns.prefilter, patterns.access)


def fingerprint(patterns: PatternSet) -> str:
    """Changes whenever a signature's regex, signal or fields, or any rule, changes; the same
    in every process (sets are sorted: their order depends on the string hash seed)."""
    digest = hashlib.sha256()
    for signature in patterns.signatures:
        text = (signature.id, signature.signal, signature.pattern.pattern, signature.fields)
        digest.update(repr(text).encode())
    for rule in patterns.rules:
        digest.update(repr(_canonical(rule)).encode())
    return digest.hexdigest()


def _canonical(value: object) -> object:
    """`value` with every set sorted and every dataclass as a tuple of its fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(_canonical(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, frozenset | set):
        return tuple(sorted(repr(_canonical(item)) for item in value))
    if isinstance(value, tuple | list):
        return tuple(_canonical(item) for item in value)
    return value


class StateStore:
    """One state file. Not thread-safe: only the runner's consumer thread uses it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY, data BLOB)")
            found = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.DatabaseError as error:
            return self._set_aside(f"not a logscan state file ({error})")
        except sqlite3.Error as error:
            raise ConfigError(f"--state: {self.path}: cannot open: {error}") from None
        if found is None:
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif found[0] != str(SCHEMA_VERSION):
            db.close()
            return self._set_aside(f"written by another logscan version (schema {found[0]})")
        return db

    def _set_aside(self, reason: str) -> sqlite3.Connection:
        """Keep an unusable file for inspection under a new name, and start afresh."""
        aside = self.path.with_name(f"{self.path.name}.unusable-{int(time.time())}")
        self.path.rename(aside)
        for suffix in ("-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        _log.warning("state file %s %s: moved to %s, starting afresh", self.path, reason, aside)
        return self._open()

    def load(self, patterns: PatternSet) -> Snapshot | None:
        """The last snapshot, or None. With other packs only the checkpoints are kept: the
        windows were counted by rules that no longer apply."""
        row = self._db.execute("SELECT data FROM snapshot WHERE id = 1").fetchone()
        if row is None:
            return None
        try:
            stored_fingerprint, snapshot = pickle.loads(row[0])
        except Exception as error:  # any unpickling failure means the snapshot is unusable
            _log.warning(
                "state file %s has an unreadable snapshot (%s): starting afresh", self.path, error
            )
            return None
        if not isinstance(snapshot, Snapshot):
            _log.warning("state file %s holds no snapshot: starting afresh", self.path)
            return None
        if stored_fingerprint != fingerprint(patterns):
            _log.warning("patterns changed since %s was written: keeping positions only", self.path)
            return Snapshot(core=Core(patterns), checkpoints=snapshot.checkpoints)
        snapshot.rebind(patterns)
        return snapshot

    def save(self, snapshot: Snapshot, patterns: PatternSet) -> None:
        """Replace the snapshot, atomically."""
        data = pickle.dumps((fingerprint(patterns), snapshot), protocol=pickle.HIGHEST_PROTOCOL)
        self._db.execute("INSERT OR REPLACE INTO snapshot (id, data) VALUES (1, ?)", (data,))

    def close(self) -> None:
        self._db.close()
