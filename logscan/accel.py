"""logscan's optional C part, `logscan._native` (logscan/_native*.c), or None where the
install had no C compiler. Each user keeps a pure-Python way to the same result."""

from __future__ import annotations

try:
    from logscan import _native as native
except ImportError:  # built without a C compiler
    native = None  # type: ignore[assignment]

__all__ = ["native"]
