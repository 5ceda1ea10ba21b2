"""Opening the store does not import numpy (sqlite_utils would, for nothing grayhound uses: ~0.1 s
of every command's start and more CPU on two cores); numpy stays importable afterwards, and a
process that already has it is left as it was."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from tests.conftest import EXAMPLE_CONFIG


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


def test_serve_makes_datasettes_unit_registry_only_once_units_are_used(tmp_path):
    """Datasette builds pint's unit registry as it is imported (~0.35 s of serve's start); under
    serve it is made the first time it is used: nothing made by the import, and a table whose
    metadata gives a column units still filters by them, with a custom unit the metadata
    defines known afterwards (one registry, made once)."""
    database = tmp_path / "d.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, dist REAL)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, 500.0), (2, 1500.0), (3, 2500.0)])
    conn.close()
    metadata = {
        "custom_units": ["hand = 4 inch"],
        "databases": {"d": {"tables": {"t": {"units": {"dist": "m"}}}}},
    }
    found = _run(f"""
import asyncio, json
import reports.serve.app
from datasette.app import Datasette
from datasette.views.base import ureg
made_on_import = getattr(ureg, "_registry", ureg) is not None  # pint's own: made
from datasette.vendored import pint
assert isinstance(pint.UnitRegistry, type), "pint's registry class not put back"
datasette = Datasette([{str(database)!r}], metadata={metadata!r})
async def ids(path):
    return [row["id"] for row in (await datasette.client.get(path)).json()]
far = asyncio.run(ids("/d/t.json?dist__gt=1km&_shape=array"))
near = asyncio.run(ids("/d/t.json?dist__lt=60000cm&_shape=array"))
print(json.dumps([made_on_import, far, near, ureg("2 hand").to("inch").magnitude]))
""")
    assert found == [False, [2, 3], [1], 8]


def test_the_default_schedule_is_read_without_apscheduler():
    """Every command reads the config; the default crontab is known to be valid, so APScheduler
    (~0.06 s to import) is left to the commands that schedule (another crontab is still read
    by it: `tests/grayhound/test_config.py`)."""
    found = _run(f"""
import json, sys
from grayhound.config.loader import load_config
config = load_config({str(EXAMPLE_CONFIG)!r})
print(json.dumps([config.schedule.cron, sorted(m for m in sys.modules if "apscheduler" in m)]))
""")
    assert found == ["0 6 * * *", []]


def test_another_crontab_is_read_by_apscheduler(tmp_path):
    """A crontab other than the default is still APScheduler's to read (and a valid one loads)."""
    edited = tmp_path / "grayhound.toml"
    text = EXAMPLE_CONFIG.read_text()
    assert 'cron = "0 6 * * *"' in text
    edited.write_text(text.replace('cron = "0 6 * * *"', 'cron = "30 7 * * mon-fri"'))
    found = _run(f"""
import json, sys
from grayhound.config.loader import load_config
config = load_config({str(edited)!r})
print(json.dumps([config.schedule.cron, "apscheduler.triggers.cron" in sys.modules]))
""")
    assert found == ["30 7 * * mon-fri", True]
