"""sqlite_utils, imported first by the store package (`grayhound/store/__init__.py`) without
numpy and pandas when nothing has imported them yet.

sqlite_utils imports both at its own import when they are installed, only to add their scalar
types to the column types it infers for values it inserts; grayhound never inserts one. numpy
is installed beside grayhound (matplotlib needs it) and its import cost every command that
opens the store ~0.1–0.15 s of start-up. A module already imported is left alone, and one
hidden here can still be imported later by whoever needs it (serve's charts)."""

from __future__ import annotations

import sys

HIDDEN = ("numpy", "pandas")


def import_lean():
    hidden = [name for name in HIDDEN if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # its import fails: skipped
    try:
        import sqlite_utils
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return sqlite_utils


sqlite_utils = import_lean()
