"""Pages per second: a bare Scrapy spider that only follows links vs grayhound's full crawl
(extraction, storage, WARC capture) over the same generated "large" site on loopback.

Both run in a child process with the same concurrency, no autothrottle and robots.txt obeyed;
the site is served from this process (grayhound.demo_large). The rate is Scrapy's own count of
received responses over its elapsed time (process start-up excluded); wall time and the peak
resident memory of each child (os.wait4) are reported beside it. Goal: full/bare >= 0.7.

    python -m benchmarks.crawl_speed [--listings 5000] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_RATIO = 0.7
CONCURRENCY = 16  # both crawls: Scrapy's default CONCURRENT_REQUESTS


def bare_crawl(start_url: str) -> dict:
    """In the child: follow every link within the host, parse nothing, store nothing."""
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.linkextractors import LinkExtractor

    host = start_url.split("/")[2].split(":")[0]

    class FollowSpider(scrapy.Spider):
        name = "follow"
        allowed_domains = [host]
        links = LinkExtractor()

        async def start(self):
            yield scrapy.Request(start_url)

        def parse(self, response):
            for link in self.links.extract_links(response):
                yield response.follow(link.url)

    settings = {
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": CONCURRENCY,
        "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
        "AUTOTHROTTLE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "COOKIES_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(FollowSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    return {k: stats.get(k) for k in ("response_received_count", "elapsed_time_seconds")}


def _config(directory: Path, base_url: str) -> Path:
    path = directory / "grayhound.toml"
    host = base_url.split("//", 1)[1]
    path.write_text(
        f"""[storage]
database = "grayhound.db"
evidence_dir = "evidence"

[brands.xiaomi]
name = "Xiaomi"
terms = ["xiaomi", "redmi", "poco"]
official_domains = ["mi.com"]

[[sources]]
name = "large"
kind = "marketplace"
start_urls = ["{base_url}/search/page-1.html"]
allowed_hosts = ["{host}"]
currency = "USD"

[crawl]
concurrency = {CONCURRENCY}
autothrottle = false
depth_limit = 0
"""
    )
    return path


def _run_child(command: list[str], env: dict | None = None) -> tuple[int, float, int, str]:
    """Run a child; return (exit code, wall seconds, peak RSS in KiB, stdout)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        return child.returncode, wall, usage.ru_maxrss, out.read().decode()


def measure_bare(base_url: str) -> dict:
    code, wall, rss, out = _run_child(
        [sys.executable, "-m", "benchmarks.crawl_speed", "--bare-child", base_url]
    )
    if code != 0:
        raise RuntimeError(f"bare crawl failed ({code})")
    figures = json.loads(out.strip().splitlines()[-1])
    return _rates(figures["response_received_count"], figures["elapsed_time_seconds"], wall, rss)


def measure_full(base_url: str, directory: Path, profile: str | None = None) -> dict:
    config = _config(directory, base_url)
    command = [sys.executable, "-m", "grayhound", "--config", str(config), "crawl"]
    if profile:
        command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "grayhound"]
        command += ["--config", str(config), "crawl"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code, wall, rss, out = _run_child(command, env)
    if code != 0:
        raise RuntimeError(f"grayhound crawl failed ({code}): {out[-500:]}")
    import sqlite3

    with sqlite3.connect(directory / "grayhound.db") as conn:
        stats = json.loads(conn.execute("SELECT stats FROM crawl_runs").fetchone()[0])
        listings = conn.execute("SELECT count(*) FROM listings").fetchone()[0]
    scrapy_stats = stats["scrapy"]["large"]
    result = _rates(
        scrapy_stats["response_received_count"], scrapy_stats["elapsed_time_seconds"], wall, rss
    )
    result["listings"] = listings
    result["db_bytes"] = (directory / "grayhound.db").stat().st_size
    result["warc_bytes"] = sum(p.stat().st_size for p in (directory / "evidence").rglob("*.gz"))
    return result


def _rates(pages: int, elapsed: float, wall: float, rss_kib: int) -> dict:
    return {
        "pages": pages,
        "seconds": round(elapsed, 2),
        "pages_per_second": round(pages / elapsed, 1),
        "wall_seconds": round(wall, 2),
        "peak_rss_mib": round(rss_kib / 1024, 1),
    }


def run(listings: int = 5000, profile: str | None = None) -> dict:
    from grayhound.demo_large import ground_truth, large_router
    from grayhound.demo_sites import serve_sites

    with serve_sites({"large": 0}, sites={"large": large_router(listings)}) as served:
        base_url = served.urls["large"]
        bare = measure_bare(base_url)
        with tempfile.TemporaryDirectory(prefix="grayhound-bench-") as directory:
            full = measure_full(base_url, Path(directory), profile)
        expected = len(ground_truth(listings, base_url))
    ratio = full["pages_per_second"] / bare["pages_per_second"]
    return {
        "listings_on_site": expected,
        "bare": bare,
        "full": full,
        "ratio": round(ratio, 2),
        "goal": GOAL_RATIO,
    }


def summary(result: dict) -> str:
    bare, full = result["bare"], result["full"]
    return "\n".join(
        [
            f"crawl speed, {result['listings_on_site']:,} listings on loopback:",
            f"  bare Scrapy  {bare['pages_per_second']:8.1f} pages/s  ({bare['pages']} pages in"
            f" {bare['seconds']} s, wall {bare['wall_seconds']} s, peak {bare['peak_rss_mib']} MiB)",
            f"  grayhound    {full['pages_per_second']:8.1f} pages/s  ({full['pages']} pages in"
            f" {full['seconds']} s, wall {full['wall_seconds']} s, peak {full['peak_rss_mib']} MiB;"
            f" {full['listings']} listings stored, db {full['db_bytes'] / 2**20:.1f} MiB,"
            f" WARC {full['warc_bytes'] / 2**20:.1f} MiB)",
            f"  ratio {result['ratio']:.2f} (goal >= {result['goal']})",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=5000)
    parser.add_argument("--profile", help="write a cProfile of the full crawl to this file")
    parser.add_argument("--bare-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_child:
        print(json.dumps(bare_crawl(args.bare_child)))
        return 0
    result = run(args.listings, args.profile)
    print(summary(result))
    return 0 if result["ratio"] >= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
