"""Nothing lost in silence: a crawl whose store or evidence cannot be written stops cleanly,
exits non-zero naming the cause in one line, records its true counts as an interrupted run,
and the next crawl completes that run; an empty or damaged database is named by every command.

The full disk is made twice: by fault injection at the write (SQLite's max_page_count, always
runs) and by a real full filesystem (a small tmpfs, when the test may mount one)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from grayhound.demo.large import large_router
from grayhound.demo.sites import serve_sites
from tests.e2e.conftest import grayhound as run_cli

pytestmark = pytest.mark.slow

LISTINGS = 240  # 5 search pages; a crawl writes a few hundred items in a few batches
STORE_FULL = Path(__file__).with_name("store_full.py")
COMMANDS = [  # every command that reads the store
    ("crawl",),
    ("detect",),
    ("digest", "--no-record"),
    ("review", "list"),
    ("export", "listings"),
    ("prices",),
    ("evidence", "export", "--listing", "1", "--out", "bundle.zip"),
    ("run",),
]


@pytest.fixture(scope="module")
def site():
    with serve_sites({"large": 0}, sites={"large": large_router(LISTINGS)}) as served:
        yield served.urls["large"]


def write_config(directory: Path, base: str, database="grayhound.db", evidence="evidence") -> Path:
    path = directory / "grayhound.toml"
    path.write_text(
        f"""
[storage]
database = "{database}"
evidence_dir = "{evidence}"

[brands.xiaomi]
name = "Xiaomi"
terms = ["xiaomi", "redmi", "poco"]
keep_strong = ["poco"]

[[sources]]
name = "large"
kind = "marketplace"
start_urls = ["{base}/search/page-1.html"]
currency = "USD"

[crawl]
autothrottle = false
retries = 0
concurrency = 4
"""
    )
    return path


def run_row(database: Path) -> dict:
    with sqlite3.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        run = dict(conn.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone())
        run["observed"] = conn.execute(
            "SELECT count(*) FROM observations WHERE crawl_run_id = ?", [run["id"]]
        ).fetchone()[0]
        run["listing_rows"] = conn.execute("SELECT count(*) FROM listings").fetchone()[0]
    return run


def assert_stopped_in_one_line(result, cause: str) -> str:
    assert result.returncode != 0, "a crawl that could not write exited 0"
    lines = [line for line in result.stderr.splitlines() if line.startswith("grayhound: ")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "interrupted" in lines[0] and cause in lines[0], lines[0]
    return lines[0]


def test_a_store_that_fills_up_stops_the_crawl_with_true_counts(tmp_path, site):
    config = write_config(tmp_path, site)
    injected = subprocess.run(
        [sys.executable, str(STORE_FULL), "40", "--config", str(config), "crawl"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert_stopped_in_one_line(injected, "database or disk is full")
    run = run_row(tmp_path / "grayhound.db")
    assert run["status"] == "interrupted" and "database or disk is full" in run["error"]
    assert 0 < run["observed"] < LISTINGS, "the fault must strike mid-crawl"
    assert run["listings_extracted"] == run["observed"], "the run counts what was stored"
    assert f"{run['observed']} listings" in injected.stdout
    digest = run_cli(config, "digest", "--no-record", "--format", "md")
    assert "ended interrupted because" in digest.stdout and "disk is full" in digest.stdout

    again = run_cli(config, "crawl")
    assert again.returncode == 0, again.stderr[-3000:]
    finished = run_row(tmp_path / "grayhound.db")
    assert (finished["id"], finished["status"]) == (run["id"], "finished")
    assert finished["listing_rows"] == finished["observed"] == LISTINGS
    assert finished["listings_extracted"] == LISTINGS and finished["error"] is None


def test_evidence_that_cannot_be_written_stops_the_crawl(tmp_path, site):
    config = write_config(tmp_path, site)
    blocker = tmp_path / "evidence" / "warc"
    blocker.parent.mkdir()
    blocker.write_text("a file where the WARC folder should be\n")
    result = run_cli(config, "crawl")
    assert_stopped_in_one_line(result, "could not write WARC evidence")
    run = run_row(tmp_path / "grayhound.db")
    assert run["status"] == "interrupted" and "WARC" in run["error"]

    blocker.unlink()
    again = run_cli(config, "crawl")
    assert again.returncode == 0, again.stderr[-3000:]
    finished = run_row(tmp_path / "grayhound.db")
    assert (finished["id"], finished["status"], finished["observed"]) == (
        run["id"],
        "finished",
        LISTINGS,
    )
    with sqlite3.connect(tmp_path / "grayhound.db") as conn:
        captured = conn.execute(
            "SELECT count(DISTINCT subject_id) FROM capture_links WHERE subject_kind = 'listing'"
        ).fetchone()
    assert captured[0] == LISTINGS, "every listing has its evidence after the second crawl"


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A 16 MiB tmpfs (needs root and mount); skipped with the reason otherwise."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip(
            "mounting a tmpfs needs root and mount(8): the fault-injection test covers this"
        )
    mountpoint = tmp_path / f"tiny-{uuid.uuid4().hex[:6]}"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_a_real_full_filesystem_never_exits_0_and_the_next_crawl_continues(
    tmp_path, site, tiny_filesystem
):
    config = write_config(tmp_path, site, database=str(tiny_filesystem / "grayhound.db"))
    from grayhound.store import open_store

    open_store(tiny_filesystem / "grayhound.db").close()
    ballast = tiny_filesystem / "ballast"
    free = shutil.disk_usage(tiny_filesystem).free
    ballast.write_bytes(b"\0" * (free - 256 * 1024))  # 256 KiB left: a batch or two
    result = run_cli(config, "crawl")
    assert_stopped_in_one_line(result, "database or disk is full")

    ballast.unlink()  # the operator frees space
    again = run_cli(config, "crawl")
    assert again.returncode == 0, again.stderr[-3000:]
    finished = run_row(tiny_filesystem / "grayhound.db")
    assert finished["status"] == "finished" and finished["id"] == 1
    assert finished["listing_rows"] == finished["observed"] == finished["listings_extracted"]
    assert finished["observed"] == LISTINGS


def test_an_empty_database_file_is_not_a_new_store(tmp_path, site):
    config = write_config(tmp_path, site)
    (tmp_path / "grayhound.db").touch()
    for command in COMMANDS:
        result = run_cli(config, *command, timeout=120)
        assert result.returncode == 1, (command, result.stderr[-2000:])
        assert result.stderr.count("\n") == 1 and "empty (0 bytes)" in result.stderr, command
    assert (tmp_path / "grayhound.db").stat().st_size == 0


def test_a_damaged_store_is_named_by_every_command(tmp_path, site):
    config = write_config(tmp_path, site)
    assert run_cli(config, "crawl").returncode == 0
    database = tmp_path / "grayhound.db"
    with sqlite3.connect(database) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    assert pages > 20
    with database.open("r+b") as handle:  # one page in the middle overwritten with junk
        handle.seek(page_size * (pages // 2))
        handle.write(bytes(range(256)) * (page_size // 256))
    for command in COMMANDS:
        result = run_cli(config, *command, timeout=120)
        assert result.returncode == 1, (command, result.stderr[-2000:])
        assert result.stderr.count("\n") == 1 and "the store is damaged" in result.stderr, (
            command,
            result.stderr[-2000:],
        )
