"""The crawl against hostile servers (grayhound.demo.hostile): a catastrophic user regex cannot
hang it and SIGTERM stops it; Retry-After is honoured up to `[crawl] max_retry_after`, beyond
which the host is stopped for the run and the failures say why."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grayhound.demo.faults import delayed
from grayhound.demo.hostile import STRAY_TITLE, RetryAfterSite, hostile_router
from grayhound.demo.sites import serve_sites
from tests.e2e.conftest import grayhound as run_cli

pytestmark = pytest.mark.slow


def write_config(directory: Path, base: str, crawl: str = "", source: str = "") -> Path:
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
name = "hostile"
kind = "marketplace"
start_urls = ["{base}/"]
currency = "USD"
{source}

[crawl]
autothrottle = false
concurrency = 1
{crawl}
"""
    )
    return path


def failures(directory: Path) -> list[tuple[str, int | None, str]]:
    with sqlite3.connect(directory / "grayhound.db") as conn:
        return conn.execute("SELECT url, status, reason FROM crawl_failures ORDER BY id").fetchall()


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_catastrophic_follow_regex_cannot_hang_the_crawl_and_sigterm_stops_it(tmp_path):
    router = hostile_router().wrap(delayed(0.5))  # a crawl still running when SIGTERM comes
    with serve_sites({"hostile": 0}, sites={"hostile": router}) as served:
        source = 'follow = ["long-link", "(a+)+$", "/item/"]'
        config = write_config(tmp_path, served.urls["hostile"], "retries = 0", source)
        child = subprocess.Popen(
            [sys.executable, "-m", "grayhound", "--config", str(config), "crawl"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            seen = lambda: any(path == "/long-link.html" for _, _, path in served.requests)  # noqa: E731
            assert wait_for(seen, 60), "the crawl never reached the page with the long link"
            time.sleep(1.5)  # the long link has been matched against (a+)+$ by now
            child.send_signal(signal.SIGTERM)
            stdout, stderr = child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            pytest.fail("SIGTERM was not honoured within 30 s (a regex stuck in backtracking?)")
        finally:
            if child.poll() is None:
                child.kill()
    assert child.returncode in (0, 1), stderr[-2000:]
    assert "interrupted" in stdout or "finished" in stdout, stdout


def test_a_retry_after_beyond_the_maximum_stops_the_host_for_the_run(tmp_path):
    site = RetryAfterSite("999999", pages=4)
    with serve_sites({"hostile": 0}, sites={"hostile": site.router()}) as served:
        config = write_config(tmp_path, served.urls["hostile"], "retries = 2\nmax_retry_after = 5")
        started = time.monotonic()
        result = run_cli(config, "crawl", timeout=120)
        elapsed = time.monotonic() - started
        requests = [path for _, _, path in served.requests]
    assert result.returncode == 0, result.stderr[-2000:]
    assert elapsed < 60
    assert site.hits["/busy.html"] == 1, "retried at once instead of leaving the host alone"
    after_busy = requests[requests.index("/busy.html") + 1 :]
    assert after_busy == [], f"the host kept being crawled: {after_busy}"
    recorded = {
        url.rsplit("/", 1)[1]: (status, reason) for url, status, reason in failures(tmp_path)
    }
    status, reason = recorded["busy.html"]
    assert status == 503 and "999999" in reason and "max_retry_after" in reason
    fetched = {path.lstrip("/") for path in requests}
    for n in range(4):  # every page is either fetched or recorded as not fetched, with why
        page = f"ok-{n}.html"
        assert page in fetched or "host stopped" in recorded[page][1], (page, recorded)


def test_a_retry_after_date_pauses_the_host(tmp_path):
    site = RetryAfterSite("date:+3", busy_times=1, pages=0)
    with serve_sites({"hostile": 0}, sites={"hostile": site.router()}) as served:
        config = write_config(tmp_path, served.urls["hostile"], "retries = 2\nmax_retry_after = 30")
        result = run_cli(config, "crawl", timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert site.hits["/busy.html"] == 2
    first, second = site.times["/busy.html"]
    assert second - first >= 1.5, f"retried after {second - first:.2f}s, not after the date"
    assert failures(tmp_path) == []


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory):
    """One crawl of the hostile site, then detect: what the store and the reports hold."""
    directory = tmp_path_factory.mktemp("hostile-crawl")
    with serve_sites({"hostile": 0}, sites={"hostile": hostile_router()}) as served:
        config = write_config(directory, served.urls["hostile"], "retries = 0")
        crawled = run_cli(config, "crawl", timeout=180)
    assert crawled.returncode == 0, crawled.stderr[-3000:]
    assert run_cli(config, "detect").returncode == 0
    return directory, config, crawled


def test_the_hostile_pages_are_stored_as_their_text_says(hostile_crawl):
    directory, _, _ = hostile_crawl
    with sqlite3.connect(directory / "grayhound.db") as conn:
        titles = [row[0] for row in conn.execute("SELECT title FROM listings")]
        profiles = [row[0] for row in conn.execute("SELECT profile_url FROM sellers")]
    assert "Xiaomi 14 Pro nested edition" in titles  # the JSON-LD bomb cost only itself
    assert STRAY_TITLE in titles  # one stray byte, no mojibake
    assert "Xiaomi 14 Pro liar edition" in titles  # the UTF-16 header lied
    assert max(len(title) for title in titles) <= 500  # the 1 MB title was cut
    # the page's Organization url "JavaScript:alert(document.cookie)" is no profile link
    assert all(p is None or p.startswith(("http://", "https://")) for p in profiles), profiles


def test_the_hostile_crawl_reaches_no_reader_raw(hostile_crawl):
    directory, config, crawled = hostile_crawl
    html = run_cli(config, "digest", "--no-record", "--format", "html").stdout
    assert not re.search(r"""href\s*=\s*["']?\s*javascript""", html, re.IGNORECASE)
    assert "\u202e" not in html and "<bdi>" in html
    listing = run_cli(config, "review", "list")
    assert listing.returncode == 0
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", listing.stdout + crawled.stdout)
