"""End-to-end fixtures: the bundled fixture sites on loopback and a config pointing at them.

Crawls run in a child process (`python -m grayhound ... crawl`): Twisted's reactor cannot be
restarted inside one test session."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GROUND_TRUTH = ROOT / "fixtures" / "sites" / "ground_truth.json"
CRAWL_TIMEOUT = 300  # seconds; a crawl of the fixture sites takes a few


def count_in(database: Path, sql: str) -> int:
    """The count `sql` reads from a store a crawl is writing (0 before it has one)."""
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


def write_config_for(sites, directory: Path) -> Path:
    """The example config with each source's loopback port replaced by the served one."""
    from grayhound.config import parse_config

    text = (ROOT / "grayhound" / "example.toml").read_text()
    config = parse_config(text, directory / "grayhound.toml")
    for source in config.sources:
        old = re.match(r"https?://([^/]+)", source.start_urls[0]).group(1)
        new = re.match(r"https?://([^/]+)", sites.urls[source.name]).group(1)
        text = text.replace(old, new)
    path = directory / "grayhound.toml"
    path.write_text(text)
    return path


def grayhound(config_path: Path, *args: str, timeout: float = CRAWL_TIMEOUT):
    """Run the CLI in a child process; return the CompletedProcess."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "grayhound", "--config", str(config_path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.fixture(scope="session")
def run_cli():
    """The CLI in a child process: run_cli(config_path, *args) -> CompletedProcess."""
    return grayhound


@pytest.fixture(scope="session")
def config_for():
    """config_for(sites, directory) -> path of a config pointing at the served sites."""
    return write_config_for


@pytest.fixture(scope="module")
def ground_truth() -> dict:
    return json.loads(GROUND_TRUTH.read_text())


@pytest.fixture(scope="module")
def served_sites():
    from grayhound.demo.sites import serve_sites

    with serve_sites({"bazaar": 0, "mi-official-store": 0, "gadgetcorner": 0}) as sites:
        yield sites


@pytest.fixture(scope="module")
def crawled(served_sites, tmp_path_factory):
    """One crawl of every fixture site; yields (config path, served sites, first crawl output)."""
    directory = tmp_path_factory.mktemp("crawl")
    config_path = write_config_for(served_sites, directory)
    result = grayhound(config_path, "crawl")
    assert result.returncode == 0, result.stderr[-3000:]
    return config_path, served_sites, result
