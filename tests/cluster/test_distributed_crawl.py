"""Distributed crawling through a real Redis: N workers make the same store as one process,
no page is fetched twice, a killed worker loses nothing, and Redis going away leaves a
consistent, resumable run. (Each worker fetches robots.txt itself: that one path may repeat.)"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.cluster.conftest import (
    ROOT,
    bazaar_sites,
    command,
    crawled_state,
    run_cli,
    start_redis,
    write_config,
)

pytestmark = pytest.mark.slow

KILL_WAIT_SECONDS = 60


def test_three_workers_store_what_one_process_stores(tmp_path, redis_server, single_process):
    with bazaar_sites(delay=0.01) as sites:
        config = write_config(tmp_path, sites, f"{redis_server.url}/1")
        result = run_cli(config, "crawl", "--source", "bazaar", "--workers", "3")
        requests = sites.requests
        state = crawled_state(tmp_path / "grayhound.db", sites.urls["bazaar"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "finished" in result.stdout
    reference = single_process["state"]
    assert len(reference["listings"]) >= 50
    assert state["listings"] == reference["listings"]
    assert state["observations"] == reference["observations"]
    assert state["sellers"] == reference["sellers"]
    assert state["runs"] == reference["runs"]  # one run, however many workers took part
    assert state["integrity_ok"]

    fetched = Counter(path for _site, _method, path in requests if path != "/robots.txt")
    assert {path: n for path, n in fetched.items() if n > 1} == {}
    reference_paths = {path for _s, _m, path in single_process["requests"]} - {"/robots.txt"}
    assert set(fetched) == reference_paths
    # The workers shared the work (one may start too late to get any), each into its own WARC
    # files: run-<run>-<source>-<host>-<pid>-<random>-<n>.warc.gz
    warc_files = {c["warc_file"] for c in state["captures"]}
    assert all(
        re.fullmatch(r"warc/run-0+1-bazaar-.+-\d+-[0-9a-f]{4}-\d{5}\.warc\.gz", name)
        for name in warc_files
    ), warc_files
    assert len({name.rsplit("-", 1)[0] for name in warc_files}) >= 2
    assert len(state["captures"]) == len(requests)
    assert redis_server.client(1).keys("grayhound:1:*") == []  # a finished run is retired


def test_a_page_is_acked_only_after_its_items_left(tmp_path, redis_server, single_process):
    """The coordinator calls a run complete once nothing is queued or in flight and the item
    list is empty; a worker that acked a page before its links and items were out would let
    it retire the run with those items unstored. Items here are delayed on their way out."""
    with bazaar_sites() as sites:
        config = write_config(tmp_path, sites, f"{redis_server.url}/3")
        coordinator = subprocess.Popen(
            command(config, "crawl", "--source", "bazaar", "--workers", "0"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            worker = subprocess.run(
                [sys.executable, "-m", "tests.cluster.delayed_worker", "--config", str(config)]
                + ["worker", "--once"],
                capture_output=True,
                text=True,
                timeout=KILL_WAIT_SECONDS * 2,
                cwd=ROOT,
                check=False,
            )
            _stdout, stderr = coordinator.communicate(timeout=KILL_WAIT_SECONDS)
        finally:
            if coordinator.poll() is None:  # it waits for workers forever with --workers 0
                coordinator.kill()
                coordinator.communicate()
        state = crawled_state(tmp_path / "grayhound.db", sites.urls["bazaar"])
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert coordinator.returncode == 0, stderr[-3000:]
    reference = single_process["state"]
    assert state["listings"] == reference["listings"]
    assert state["observations"] == reference["observations"]
    assert state["sellers"] == reference["sellers"]


def test_a_killed_worker_loses_nothing(tmp_path, redis_server, single_process):
    with bazaar_sites(delay=0.1) as sites:
        config = write_config(tmp_path, sites, f"{redis_server.url}/2", concurrency=2)
        coordinator = subprocess.Popen(
            command(config, "crawl", "--source", "bazaar", "--workers", "2"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        doomed = subprocess.Popen(
            command(config, "worker", "--once"), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        held = _wait_until_holding(redis_server.client(2), doomed.pid)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.communicate()
        stdout, stderr = coordinator.communicate(timeout=KILL_WAIT_SECONDS)
        state = crawled_state(tmp_path / "grayhound.db", sites.urls["bazaar"])
    assert held, "the killed worker held no request in flight"
    assert coordinator.returncode == 0, stderr[-3000:]
    reference = single_process["state"]
    assert state["listings"] == reference["listings"]
    assert state["observations"] == reference["observations"]
    assert state["sellers"] == reference["sellers"]
    assert state["runs"] == [("finished", '["bazaar"]')]


def _wait_until_holding(client, pid: int) -> int:
    """Wait until worker `pid` has pages in flight (and has crawled a few); return how many."""
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    while time.monotonic() < deadline:
        for key in client.keys("grayhound:*:bazaar:inflight"):
            mine = [t for t in client.hkeys(key) if f"-{pid}-".encode() in t]
            if mine and client.zcard(key.replace(b"inflight", b"requests")) > 0:
                seen = client.scard(key.replace(b"inflight", b"dupefilter"))
                if seen > 30:
                    return len(mine)
        time.sleep(0.02)
    return 0


def test_redis_going_away_stops_cleanly_and_the_run_continues(tmp_path, own_redis, single_process):
    with bazaar_sites(delay=0.1) as sites:
        config = write_config(tmp_path, sites, own_redis.url, concurrency=2)
        coordinator = subprocess.Popen(
            command(config, "crawl", "--source", "bazaar", "--workers", "1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + KILL_WAIT_SECONDS
        while len(sites.requests) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        own_redis.stop()
        _stdout, stderr = coordinator.communicate(timeout=KILL_WAIT_SECONDS)
        stopped = crawled_state(tmp_path / "grayhound.db", sites.urls["bazaar"])

        revived = start_redis()  # an empty Redis: the run continues from its start URLs
        try:
            write_config(tmp_path, sites, revived.url)
            again = run_cli(config, "crawl", "--source", "bazaar")
        finally:
            revived.stop()
        continued = crawled_state(tmp_path / "grayhound.db", sites.urls["bazaar"])
    assert coordinator.returncode == 1
    last_line = stderr.strip().splitlines()[-1]
    assert last_line.startswith("grayhound: redis://127.0.0.1:"), stderr[-3000:]
    assert "Redis went away" in last_line and "resume" in last_line
    assert "Traceback" not in stderr
    assert stopped["integrity_ok"]
    assert stopped["runs"] == [("interrupted", '["bazaar"]')]
    assert 0 < len(stopped["listings"]) < len(single_process["state"]["listings"])

    assert again.returncode == 0, again.stderr[-3000:]
    assert "continuing crawl run 1" in again.stderr
    assert continued["runs"] == [("finished", '["bazaar"]')]
    assert continued["listings"] == single_process["state"]["listings"]
    assert continued["observations"] == single_process["state"]["observations"]


def test_workers_without_cluster_is_a_usage_error(tmp_path):
    with bazaar_sites() as sites:
        config = write_config(tmp_path, sites)
        result = run_cli(config, "crawl", "--workers", "3")
    assert result.returncode == 2
    assert "[cluster]" in result.stderr and len(result.stderr.strip().splitlines()) == 1
