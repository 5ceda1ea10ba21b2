"""Pages per second of a distributed crawl with 1, 2 and 4 workers (and one plain process).

The generated "large" marketplace (grayhound.demo.large, 5,000 listings by default, ~5,350
pages) is served on 127.0.0.1 with an artificial 50 ms per response, like a remote site; a
throwaway redis-server runs on a free loopback port. Each row is a fresh database and Redis db:
`grayhound crawl --workers N` end to end, checked against the site's ground truth.

`pages/s` counts the pages the site served between the first and the last request (the crawl
itself); `wall` also includes starting Python and Scrapy in every worker, seeding and the
final store writes.

    python -m benchmarks.cluster_scaling [--listings 5000] [--latency 0.05] [--workers 1 2 4]
                                         [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grayhound.demo.large import ground_truth, large_router  # noqa: E402
from grayhound.demo.sites import serve_sites  # noqa: E402

CONFIG = """
[brands.xiaomi]
terms = ["xiaomi", "redmi", "poco"]
[brands.samsung]
terms = ["samsung"]
[brands.apple]
terms = ["apple", "iphone"]

[[sources]]
name = "large"
kind = "marketplace"
start_urls = ["{base}/search/page-1.html"]
currency = "USD"

[crawl]
concurrency = {concurrency}
depth_limit = 0      # the search pages chain 100 deep
autothrottle = false  # measure the frontier, not the throttle
"""


class Timed:
    """Wraps every handler: sleep `latency`, and remember when each request arrived."""

    def __init__(self, latency: float):
        self.latency = latency
        self.times: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, handler):
        def delayed(request, match):
            with self.lock:
                self.times.append(time.monotonic())
            time.sleep(self.latency)
            return handler(request, match)

        return delayed


def start_redis() -> tuple[subprocess.Popen, int]:
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server not found (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client, deadline = redis.Redis(port=port), time.monotonic() + 10
    while True:
        try:
            client.ping()
            return process, port
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                sys.exit("redis-server did not start")
            time.sleep(0.05)


def crawl_once(args, workers: int | None, redis_port: int, db: int) -> dict:
    """One crawl of a freshly served site; workers=None is the plain one-process crawl."""
    timed = Timed(args.latency)
    directory = Path(tempfile.mkdtemp(prefix="grayhound-bench-"))
    try:
        with serve_sites(
            {"large": 0}, sites={"large": large_router(args.listings).wrap(timed)}
        ) as s:
            base = s.urls["large"]
            text = CONFIG.format(base=base, concurrency=args.concurrency)
            command = [sys.executable, "-m", "grayhound", "--config", str(directory / "g.toml")]
            command += ["crawl"]
            if workers is not None:
                text += f'\n[cluster]\nredis = "redis://127.0.0.1:{redis_port}/{db}"\n'
                command += ["--workers", str(workers)]
            (directory / "g.toml").write_text(text)
            started = time.monotonic()
            result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
            wall = time.monotonic() - started
            if result.returncode != 0:
                sys.exit(f"crawl failed:\n{result.stderr[-3000:]}")
            found = _listings(directory / "grayhound.db")
            complete = found == ground_truth(args.listings, base)
        pages = len(timed.times)
        span = max(timed.times) - min(timed.times)
        return {
            "workers": workers or "1 (no Redis)",
            "pages": pages,
            "pages_per_s": round(pages / span, 1),
            "crawl_s": round(span, 1),
            "wall_s": round(wall, 1),
            "listings_complete": complete,
        }
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _listings(database: Path) -> set[str]:
    from grayhound.store import open_store

    with open_store(database, create=False) as store:
        return {row["canonical_url"] for row in store.listings()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per response")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=8, help="[crawl] concurrency")
    parser.add_argument("--no-baseline", action="store_true", help="skip the one-process crawl")
    args = parser.parse_args(argv)
    redis_process, port = start_redis()
    rows = []
    try:
        plan = ([] if args.no_baseline else [None]) + args.workers
        for db, workers in enumerate(plan):
            row = crawl_once(args, workers, port, db)
            rows.append(row)
            print(
                f"workers {row['workers']!s:>13}: {row['pages']} pages in {row['crawl_s']} s "
                f"= {row['pages_per_s']} pages/s (wall {row['wall_s']} s, "
                f"listings complete: {row['listings_complete']})",
                file=sys.stderr,
            )
    finally:
        redis_process.terminate()
        redis_process.wait()
    setup = {"listings": args.listings, "latency_s": args.latency, "concurrency": args.concurrency}
    print(json.dumps({**setup, "rows": rows}))
    return 0 if all(row["listings_complete"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
