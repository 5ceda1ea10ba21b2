"""sqlite_utils, imported first by the store package (`grayhound/store/__init__.py`), without
numpy (`grayhound.lean`): every command that opens the store starts ~0.15 s sooner."""

from __future__ import annotations

from grayhound.lean import without_numpy

with without_numpy():
    import sqlite_utils  # noqa: F401
