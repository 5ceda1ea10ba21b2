"""Opening the store does not import numpy (sqlite_utils would, for nothing grayhound uses: ~0.1 s
of every command's start and more CPU on two cores); numpy stays importable afterwards, and a
process that already has it is left as it was."""

from __future__ import annotations

import json
import subprocess
import sys


def _run(script: str) -> list:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_the_store_opens_without_numpy_which_stays_importable(tmp_path):
    found = _run(f"""
import json, sys
from grayhound.store import open_store
from grayhound.store.timestamps import utc_now
store = open_store({str(tmp_path / "g.db")!r})
loaded = "numpy" in sys.modules or "pandas" in sys.modules
tables = len(store.db.table_names())
import numpy
print(json.dumps([loaded, tables > 10, numpy.add(1, 2).item(), "numpy" in sys.modules]))
""")
    assert found == [False, True, 3, True]


def test_numpy_imported_first_is_left_to_sqlite_utils():
    found = _run("""
import json
import numpy
import grayhound.store
import sqlite_utils.db
print(json.dumps(sqlite_utils.db.np is numpy))
""")
    assert found is True


def test_serve_loads_datasette_without_numpy_and_its_chart_still_draws():
    """Datasette's vendored pint loads without numpy; Datasette itself is imported only once
    the queue's refresh has begun (`reports.serve.app`), not by the modules that begin it."""
    found = _run("""
import json, sys
import reports.serve.context, reports.serve.startup  # before the refresh: no Datasette yet
early = sorted(m for m in sys.modules if m.split(".")[0] == "datasette")
import reports.serve.app
from datasette.views.base import ureg
loaded = "numpy" in sys.modules
metres = ureg("2 km").to("m").magnitude
from matplotlib.figure import Figure
figure = Figure()
figure.add_subplot().plot([1, 2, 3], [3, 1, 2])
print(json.dumps([early, loaded, metres, "numpy" in sys.modules, len(figure.axes)]))
""")
    assert found == [[], False, 2000, True, 1]
