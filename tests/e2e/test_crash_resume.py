"""A crawl killed with SIGKILL midway leaves an intact database and readable WARC files, and
the next `grayhound crawl` continues the same run without duplicating anything."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grayhound.demo.faults import delayed
from grayhound.demo.sites import SITES, serve_sites
from tests.e2e.conftest import count_in, write_config_for

pytestmark = pytest.mark.slow

LATENCY = 0.05  # seconds per request: slow enough to kill the crawl midway
RESTARTED_PATHS = ("/", "/robots.txt", "/meta.json", "/search/phones/page-1.html")
KILL_DEADLINE = 60  # seconds to wait for the first stored observations


def _kill_midway(config_path: Path, database: Path, log: Path, how=signal.SIGKILL) -> int:
    """Start a crawl, signal it once some observations are stored; return how many."""
    command = [sys.executable, "-m", "grayhound", "--config", str(config_path), "crawl"]
    with log.open("wb") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + KILL_DEADLINE
    stored = 0
    while time.monotonic() < deadline and child.poll() is None:
        stored = count_in(database, "SELECT count(*) FROM observations")
        if stored:
            break
        time.sleep(0.02)  # polling the database, not waiting for a server
    assert child.poll() is None, f"the crawl ended before it was killed:\n{log.read_text()}"
    os.kill(child.pid, how)
    child.wait(timeout=30)
    return stored


@pytest.fixture(scope="module")
def killed_then_resumed(tmp_path_factory, run_cli):
    slow = {name: router.wrap(delayed(LATENCY)) for name, router in SITES.items()}
    with serve_sites({name: 0 for name in slow}, sites=slow) as served:
        directory = tmp_path_factory.mktemp("crash")
        config_path = write_config_for(served, directory)
        database = directory / "grayhound.db"
        stored_before_kill = _kill_midway(config_path, database, directory / "killed.log")
        after_kill = _inspect(directory)
        resumed = run_cli(config_path, "crawl")
        yield {
            "directory": directory,
            "served": served,
            "stored_before_kill": stored_before_kill,
            "after_kill": after_kill,
            "resumed": resumed,
        }


def _inspect(directory: Path) -> dict:
    """What the killed crawl left: integrity, run states, complete WARC records."""
    from crawler.capture.warc import complete_records

    with sqlite3.connect(directory / "grayhound.db") as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        runs = conn.execute("SELECT id, status FROM crawl_runs").fetchall()
        observations = conn.execute("SELECT count(*) FROM observations").fetchone()[0]
    records = {}
    for path in sorted((directory / "evidence" / "warc").glob("*.warc.gz")):
        records[path.name] = [r.rec_type for _, r in complete_records(path)]
    return {
        "integrity": integrity,
        "runs": runs,
        "observations": observations,
        "records": records,
    }


def test_killed_crawl_leaves_an_intact_database(killed_then_resumed):
    after = killed_then_resumed["after_kill"]
    assert after["integrity"] == "ok"
    assert after["runs"] == [(1, "running")]
    assert after["observations"] >= killed_then_resumed["stored_before_kill"] > 0


def test_killed_crawl_leaves_readable_warc_files(killed_then_resumed):
    records = killed_then_resumed["after_kill"]["records"]
    assert records, "the killed crawl wrote no WARC file"
    for name, types in records.items():
        assert types[0] == "warcinfo", name
        assert len(types) > 1, name


def test_next_crawl_continues_the_same_run(killed_then_resumed):
    resumed = killed_then_resumed["resumed"]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "crawl run 1 finished" in resumed.stdout
    assert "continuing unfinished crawl run 1" in resumed.stderr
    with sqlite3.connect(killed_then_resumed["directory"] / "grayhound.db") as conn:
        assert conn.execute("SELECT id, status FROM crawl_runs").fetchall() == [(1, "finished")]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_resumed_listings_equal_the_ground_truth_without_duplicates(
    killed_then_resumed, ground_truth
):
    directory, served = killed_then_resumed["directory"], killed_then_resumed["served"]
    expected = {
        served.urls[row["source"]] + row["canonical_path"] for row in ground_truth["listings"]
    }
    with sqlite3.connect(directory / "grayhound.db") as conn:
        listed = [row[0] for row in conn.execute("SELECT canonical_url FROM listings")]
        per_run = conn.execute(
            "SELECT listing_id, crawl_run_id, count(*) FROM observations"
            " GROUP BY listing_id, crawl_run_id"
        ).fetchall()
    assert sorted(listed) == sorted(expected)
    assert len(per_run) == len(expected)
    assert {count for _, _, count in per_run} == {1}
    assert {run for _, run, _ in per_run} == {1}


def test_the_finished_run_leaves_no_frontier_behind(killed_then_resumed):
    jobs = killed_then_resumed["directory"] / ".grayhound-jobs"
    assert [p.name for p in jobs.iterdir()] == ["crawl.lock"]


@pytest.fixture(scope="module")
def stopped_then_resumed(tmp_path_factory, run_cli):
    slow = {name: router.wrap(delayed(LATENCY)) for name, router in SITES.items()}
    with serve_sites({name: 0 for name in slow}, sites=slow) as served:
        directory = tmp_path_factory.mktemp("stop")
        config_path = write_config_for(served, directory)
        database = directory / "grayhound.db"
        _kill_midway(config_path, database, directory / "stopped.log", how=signal.SIGINT)
        with sqlite3.connect(database) as conn:
            runs = conn.execute("SELECT id, status FROM crawl_runs").fetchall()
        before = set(served.requests)
        served.clear_requests()
        resumed = run_cli(config_path, "crawl")
        fetched_twice = {(site, path) for site, _, path in before & set(served.requests)}
        yield directory, served, runs, fetched_twice, resumed


def test_a_stopped_crawl_continues_its_saved_frontier(stopped_then_resumed, ground_truth):
    directory, served, runs, fetched_twice, resumed = stopped_then_resumed
    assert runs == [(1, "interrupted")]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "crawl run 1 finished" in resumed.stdout
    # The frontier was kept: only start URLs, robots.txt and the shop's meta.json come again.
    assert {path for _, path in fetched_twice} <= set(RESTARTED_PATHS)
    with sqlite3.connect(directory / "grayhound.db") as conn:
        listed = {row[0] for row in conn.execute("SELECT canonical_url FROM listings")}
        counts = {
            c for (c,) in conn.execute("SELECT count(*) FROM observations GROUP BY listing_id")
        }
    expected = {served.urls[r["source"]] + r["canonical_path"] for r in ground_truth["listings"]}
    assert listed == expected
    assert counts == {1}
