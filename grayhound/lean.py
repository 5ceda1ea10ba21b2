"""Third-party packages imported without the work they would do for nothing at their import.

sqlite_utils imports numpy and pandas at its own import, when installed, only to add their
scalar types to the column types it infers for values it inserts (grayhound never inserts one);
Datasette's vendored pint imports numpy to support arrays of quantities (Datasette never makes
one). numpy is installed beside grayhound (matplotlib needs it), and its import cost ~0.15 s of
a command's start and ~0.25 s of CPU (its math library's threads start with it). A module
already imported is left alone, and one hidden here is importable again afterwards by whoever
needs it (serve's charts).

Datasette also builds pint's unit registry as it is imported (`datasette.views.base`: its
definitions file parsed, ~0.35 s of `grayhound serve`'s start) for the units a table's metadata
may give its columns; grayhound gives none. `units_on_first_use` has that registry built the
first time it is used instead."""

from __future__ import annotations

import sys
import threading
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


@contextmanager
def units_on_first_use() -> Iterator[None]:
    """Imports inside that make a unit registry of Datasette's vendored pint (imported here,
    without numpy) get a `UnitsOnFirstUse` in its place. Without that pint (another Datasette),
    nothing changes."""
    try:
        with without_numpy():
            from datasette.vendored import pint
    except ImportError:
        pint = None
    if pint is None:
        yield
        return
    made = pint.UnitRegistry
    pint.UnitRegistry = lambda *args, **kwargs: UnitsOnFirstUse(made, args, kwargs)
    try:
        yield
    finally:
        pint.UnitRegistry = made


class UnitsOnFirstUse:
    """A unit registry made the first time it is called or one of its attributes is read
    (`make(*args, **kwargs)`, once, whichever thread comes first), then used in its place."""

    def __init__(self, make, args: tuple, kwargs: dict):
        self._make, self._args, self._kwargs = make, args, kwargs
        self._lock = threading.Lock()
        self._registry = None

    def built(self):
        with self._lock:
            if self._registry is None:
                self._registry = self._make(*self._args, **self._kwargs)
        return self._registry

    def __call__(self, *args, **kwargs):
        return self.built()(*args, **kwargs)

    def __getattr__(self, name: str):
        # copy and pickle look for dunders, not the registry's; and the stand-in's own names
        # are missing only from one made without `__init__`: neither makes the registry
        if name.startswith("__") or name in _OWN:
            raise AttributeError(name)
        return getattr(self.built(), name)


_OWN = frozenset(("_make", "_args", "_kwargs", "_lock", "_registry"))
