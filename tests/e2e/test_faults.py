"""A crawl through every fault the fixture server can inject (grayhound.demo.faults) finishes:
transient failures are retried and stored, the rest are recorded with their reason, shown by
`grayhound crawl` and in the digest, and nothing outside allowed_hosts is ever requested."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grayhound.demo.faults import RECOVERABLE, UNRECOVERABLE, FaultSite, trap_router
from grayhound.demo.sites import serve_sites

pytestmark = pytest.mark.slow

EXPECTED_REASONS = {
    "/hang.html": "took longer than 2",
    "/reset.html": "Connection",
    "/huge.html": "larger than download max size",
    "/away.html": "outside allowed_hosts",
    "/loop-a.html": "redirect loop",
}


def write_fault_config(directory: Path, served) -> Path:
    host = served.urls["faults"].split("//", 1)[1]
    path = directory / "grayhound.toml"
    path.write_text(
        f"""
[storage]
database = "grayhound.db"
evidence_dir = "evidence"

[brands.xiaomi]
name = "Xiaomi"
terms = ["xiaomi"]

[[sources]]
name = "faults"
kind = "marketplace"
start_urls = ["{served.urls["faults"]}/"]
allowed_hosts = ["{host}"]
currency = "USD"

[crawl]
download_timeout = 2
max_download_size = 65536
retries = 1
autothrottle = false
"""
    )
    return path


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory, run_cli):
    faults = FaultSite(hang_seconds=6, huge_bytes=200_000)
    sites = {"faults": faults.router(), "offsite": trap_router()}
    with serve_sites({"faults": 0, "offsite": 0}, sites=sites) as served:
        faults.offsite_url = served.urls["offsite"]
        config_path = write_fault_config(tmp_path_factory.mktemp("faults"), served)
        try:
            result = run_cli(config_path, "crawl", timeout=120)
        finally:
            faults.release()
        yield config_path, served, faults, result


def _store(config_path):
    from grayhound.config import load_config
    from grayhound.store import open_store

    return open_store(load_config(config_path).storage.database)


def test_crawl_through_faults_finishes(fault_crawl):
    _, _, _, result = fault_crawl
    assert result.returncode == 0, result.stderr[-3000:]
    assert "crawl run 1 finished" in result.stdout


def test_transient_failures_are_retried_and_stored(fault_crawl):
    config_path, served, faults, _ = fault_crawl
    base = served.urls["faults"]
    with _store(config_path) as store:
        stored = {row["canonical_url"]: row for row in store.listings()}
    assert set(stored) == {base + path for path in RECOVERABLE}
    assert faults.hits["/flaky-500.html"] == 2
    assert faults.hits["/busy-503.html"] == 2
    first, second = faults.times["/busy-503.html"]
    assert second - first >= 0.9, "Retry-After: 1 was not honoured"
    mislabelled = stored[base + "/mislabelled.html"]
    assert mislabelled["price"] == "799.00" and "Xiaomi 14 Pro" in mislabelled["title"]


def test_every_final_failure_is_recorded_with_its_reason_and_shown(fault_crawl):
    config_path, served, _, result = fault_crawl
    base = served.urls["faults"]
    with _store(config_path) as store:
        failures = {row["url"]: row["reason"] for row in store.failures(1)}
    assert set(failures) == {base + path for path in UNRECOVERABLE}
    for path, reason in EXPECTED_REASONS.items():
        assert reason in failures[base + path], (path, failures[base + path])
        assert f"failed {base}{path}: " in result.stdout


def test_nothing_outside_allowed_hosts_is_requested(fault_crawl):
    _, served, _, _ = fault_crawl
    assert [r for r in served.requests if r[0] == "offsite"] == []
    assert {r[0] for r in served.requests} == {"faults"}


def test_failures_appear_in_the_digest_footer(fault_crawl, run_cli):
    config_path, served, _, _ = fault_crawl
    result = run_cli(config_path, "digest", "--format", "json", "--no-record", timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    shown = {f["url"] for f in json.loads(result.stdout)["failures"]}
    assert shown == {served.urls["faults"] + path for path in UNRECOVERABLE}
