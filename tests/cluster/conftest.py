"""Cluster fixtures: a real redis-server on a free loopback port, the bazaar fixture site, and
configs with and without [cluster]. Crawls run as child processes (the real CLI)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_START_SECONDS = 10
CLI_TIMEOUT = 120


def find_redis_server() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if Path(p).exists()), None
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A throwaway redis-server on 127.0.0.1: no persistence, stopped with the fixture."""

    def __init__(self, binary: str):
        import redis

        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}"
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + REDIS_START_SECONDS
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"redis-server did not answer on port {self.port}") from None
                time.sleep(0.05)

    def client(self, db: int = 0):
        import redis

        return redis.Redis(port=self.port, db=db)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_redis() -> RedisServer:
    pytest.importorskip("redis", reason="the cluster extra is not installed")
    pytest.importorskip("scrapy_redis", reason="the cluster extra is not installed")
    binary = find_redis_server()
    if binary is None:
        pytest.skip("redis-server not found (apt-get install redis-server); CI installs it")
    return RedisServer(binary)


@pytest.fixture(scope="package")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, for tests that stop it."""
    server = start_redis()
    yield server
    server.stop()


def bazaar_sites(delay: float = 0.0):
    """Serve only the bazaar fixture site, every response `delay` seconds late."""
    from grayhound.demo.sites import SITES, serve_sites

    router = SITES["bazaar"]
    if delay:

        def slow(handler):
            def delayed(request, match):
                time.sleep(delay)
                return handler(request, match)

            return delayed

        router = router.wrap(slow)
    return serve_sites({"bazaar": 0}, sites={"bazaar": router})


def write_config(directory: Path, sites, redis_url: str | None = None, **crawl) -> Path:
    """The example config pointed at the served bazaar, with [cluster] when redis_url is set."""
    text = (ROOT / "grayhound" / "example.toml").read_text()
    text = text.replace("127.0.0.1:8301", sites.urls["bazaar"].removeprefix("http://"))
    for key, value in crawl.items():
        text = text.replace(f"\n{key} = ", f"\n{key} = {value}  # was ", 1)
    if redis_url:
        text += f'\n[cluster]\nredis = "{redis_url}"\nworker_timeout = 2\n'
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "grayhound.toml"
    path.write_text(text)
    return path


def command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "grayhound", "--config", str(config), *args]


def run_cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        command(config, *args),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        env=env,
        cwd=ROOT,
        check=False,
    )


def crawled_state(database: Path, site_url: str) -> dict:
    """What a user would compare between two crawls: listings, sellers, observations (the
    site's random port replaced by SITE)."""
    from grayhound.store import open_store

    def site(text):
        return text.replace(site_url, "SITE") if isinstance(text, str) else text

    with open_store(database, create=False) as store:
        listings = {
            site(row["canonical_url"]): (
                row["title"],
                row["price"],
                row["currency"],
                row["seller_name"],
                row["seller_domain"],
            )
            for row in store.listings()
        }
        urls = {row["id"]: site(row["canonical_url"]) for row in store.listings()}
        observations = sorted(
            (urls[row["listing_id"]], row["price"]) for row in store.observations()
        )
        sellers = sorted((site(row["key"]), row["name"]) for row in store.sellers())
        runs = [(row["status"], row["sources"]) for row in store.runs()]
        captures = list(store.captures())
        ok = store.integrity_ok()
    return {
        "listings": listings,
        "observations": observations,
        "sellers": sellers,
        "runs": runs,
        "captures": captures,
        "integrity_ok": ok,
    }


@pytest.fixture(scope="package")
def single_process(tmp_path_factory) -> dict:
    """The reference: bazaar crawled the ordinary way, one process, no Redis."""
    directory = tmp_path_factory.mktemp("single")
    with bazaar_sites() as sites:
        config = write_config(directory, sites)
        result = run_cli(config, "crawl", "--source", "bazaar")
        requests = sites.requests
        state = crawled_state(directory / "grayhound.db", sites.urls["bazaar"])
    assert result.returncode == 0, result.stderr[-3000:]
    return {"state": state, "requests": requests}
