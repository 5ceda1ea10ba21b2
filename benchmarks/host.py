"""The machine a benchmark ran on, printed with its figures, and how fast it is at fixed work."""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

# The reference work (`reference`): a table of ~100 MB, more than SQLite's page cache and far
# less than the machine's, so its pages are read from the kernel's cache, as the commands'.
REFERENCE_ROWS = 400_000
REFERENCE_UPDATES = (10, 2_000)  # commits, rows updated in each
REFERENCE_ITEMS = 200_000  # JSON items encoded


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def compile_packages() -> None:
    """Write the bytecode of grayhound's own packages, as an install leaves it (pip compiles
    what it installs; `pip install -e` leaves that to the first import). Where
    PYTHONDONTWRITEBYTECODE is set (this machine and its CI) nothing writes it, and every command
    timed would compile the modules it imports again first (0.04–0.13 s a command on a quiet
    box: `detect` with nothing changed at 100,000 listings 0.84 against 0.72 s), a cost no
    user of an installed grayhound pays."""
    import compileall
    import tomllib

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())
    for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]:
        compileall.compile_dir(root / pattern.rstrip("*"), quiet=1)  # "grayhound*": grayhound


def own_peak_kib(child_maxrss_kib: int) -> int:
    """A waited-for child's `ru_maxrss` where it is its own peak, else 0 (unknown). Linux
    carries a parent's high-water mark through fork and exec: `/bin/true` run from a process
    that once held 200 MiB reports 200 MiB. Read after the wait, this process's own peak
    (which never falls) is at least what the child inherited."""
    inherited = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return child_maxrss_kib if child_maxrss_kib > inherited else 0


def reference(directory: Path, repeats: int = 3) -> dict[str, float]:
    """How fast this machine is now at fixed work of the kinds issue 19's commands spend their
    time on, so that two benchmark runs (on a virtual machine whose speed moves from day to
    day) can be compared: the median seconds of `repeats` runs of each.

    - `reads`: every row of an SQLite table read by its key in a random order, each a page
      SQLite asks the kernel for (the reports' random reads of listings and findings);
    - `writes`: 20,000 scattered rows given new values in 10 commits to the write-ahead log
      (with SQLite's automatic checkpoints, as the store's), then a last checkpoint and its
      sync (a daily detect's and digest's writes);
    - `python`: 200,000 small dicts encoded as JSON (the reports' rendering).

    The work never changes, so a figure here is only ever compared with itself: the same
    numbers on two days say the machine was as fast on both. The table is built in a folder
    of its own under `directory` (a few seconds), removed at the end."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="reference-", dir=directory) as work:
        path = Path(work) / "reference.db"
        _reference_table(path)
        runs = [
            {"reads": _reads(path), "writes": _writes(path, repeat), "python": _python()}
            for repeat in range(repeats)
        ]
    return {name: statistics.median(r[name] for r in runs) for name in runs[0]}


def _reference_table(path: Path) -> None:
    rng = random.Random(19)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, body TEXT)")
    conn.execute("CREATE INDEX t_k ON t (k)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        ((i, rng.randrange(1 << 30), "x" * rng.randrange(100, 300)) for i in range(REFERENCE_ROWS)),
    )
    order = list(range(REFERENCE_ROWS))
    rng.shuffle(order)
    conn.execute("CREATE TABLE keys (n INTEGER PRIMARY KEY, id INTEGER)")
    conn.executemany("INSERT INTO keys (id) VALUES (?)", ((i,) for i in order))
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _reads(path: Path) -> float:
    conn = sqlite3.connect(path)
    start = time.perf_counter()
    conn.execute("SELECT SUM(LENGTH(t.body)) FROM keys k JOIN t ON t.id = k.id").fetchone()
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def _writes(path: Path, repeat: int) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = NORMAL")  # as the store's
    # new values each repeat: SQLite does not write a row whose update leaves it as it was
    rng = random.Random(7 + repeat)
    commits, rows = REFERENCE_UPDATES
    start = time.perf_counter()
    for _ in range(commits):
        updates = [(rng.randrange(1 << 30), rng.randrange(REFERENCE_ROWS)) for _ in range(rows)]
        conn.executemany("UPDATE t SET k = ? WHERE id = ?", updates)
        conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def _python() -> float:
    rng = random.Random(3)
    start = time.perf_counter()
    for i in range(REFERENCE_ITEMS):
        item = {"id": i, "title": f"Xiaomi 14 Pro {rng.random()}", "flags": ["a", "b"]}
        json.dumps({**item, "score": rng.random()}, sort_keys=True)
    return time.perf_counter() - start


def reference_text(figures: dict) -> str:
    """`reference`'s figures as one line (or why there are none, as `"error"`)."""
    if "error" in figures:
        return figures["error"]
    return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in figures.items())
