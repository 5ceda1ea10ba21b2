"""Third-party packages imported without the numerical stack they would load for nothing.

sqlite_utils imports numpy and pandas at its own import, when installed, only to add their
scalar types to the column types it infers for values it inserts (grayhound never inserts one);
Datasette's vendored pint imports numpy to support arrays of quantities (Datasette never makes
one). numpy is installed beside grayhound (matplotlib needs it), and its import cost ~0.15 s of
a command's start and ~0.25 s of CPU (its math library's threads start with it). A module
already imported is left alone, and one hidden here is importable again afterwards by whoever
needs it (serve's charts)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

NUMERICAL = ("numpy", "pandas")


@contextmanager
def without_numpy() -> Iterator[None]:
    """Imports inside see numpy and pandas as not installed, unless already imported."""
    hidden = [name for name in NUMERICAL if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import numpy` raises ImportError
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
