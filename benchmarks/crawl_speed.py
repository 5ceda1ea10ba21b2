"""Pages per second: a bare Scrapy spider that only follows links vs grayhound's full crawl
(extraction, storage, WARC capture) over the same generated "large" site on loopback.

Both run in a child process with the same concurrency, no autothrottle and robots.txt obeyed;
the site is served from this process (grayhound.demo.large). The rate is Scrapy's own count of
received responses over its elapsed time (process start-up excluded); wall time and the peak
resident memory of each child (os.wait4, where it is above this process's own, which a child
inherits) are reported beside it, and the child's CPU time per page, which a busy neighbour
on a shared machine disturbs less than the rate. Goal: full/bare
>= 0.7. A third crawl runs the bare spider with grayhound's process tuning (garbage collection,
logger levels) to show how much of the ratio that tuning alone accounts for.

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

from benchmarks.host import own_peak_kib  # noqa: E402

GOAL_RATIO = 0.7
CONCURRENCY = 16  # both crawls: Scrapy's default CONCURRENT_REQUESTS


def bare_crawl(start_url: str, tuned: bool = False) -> dict:
    """In the child: follow every link within the host, parse nothing, store nothing.

    `tuned`: with grayhound's process tuning (crawler.settings.tune_process: garbage
    collection and logger levels), to show how much of the ratio that tuning accounts for."""
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
    if tuned:
        from crawler.settings import tune_process

        tune_process("WARNING")
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


def _run_child(command: list[str], env: dict | None = None) -> tuple[int, dict, str]:
    """Run a child; return (exit code, its wall/CPU seconds and peak RSS, stdout)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        used = {
            "wall": time.perf_counter() - started,
            "cpu": usage.ru_utime + usage.ru_stime,
            "rss_kib": own_peak_kib(usage.ru_maxrss),  # 0: no more than this process's
        }
        out.seek(0)
        return child.returncode, used, out.read().decode()


def measure_bare(base_url: str, tuned: bool = False) -> dict:
    command = [sys.executable, "-m", "benchmarks.crawl_speed", "--bare-child", base_url]
    code, used, out = _run_child(command + (["--tuned"] if tuned else []))
    if code != 0:
        raise RuntimeError(f"bare crawl failed ({code})")
    figures = json.loads(out.strip().splitlines()[-1])
    return _rates(figures["response_received_count"], figures["elapsed_time_seconds"], used)


def measure_full(base_url: str, directory: Path, profile: str | None = None) -> dict:
    config = _config(directory, base_url)
    command = [sys.executable, "-m", "grayhound", "--config", str(config), "crawl"]
    if profile:
        command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "grayhound"]
        command += ["--config", str(config), "crawl"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code, used, out = _run_child(command, env)
    if code != 0:
        raise RuntimeError(f"grayhound crawl failed ({code}): {out[-500:]}")
    import sqlite3

    with sqlite3.connect(directory / "grayhound.db") as conn:
        stats = json.loads(conn.execute("SELECT stats FROM crawl_runs").fetchone()[0])
        listings = conn.execute("SELECT count(*) FROM listings").fetchone()[0]
    scrapy_stats = stats["scrapy"]["large"]
    result = _rates(
        scrapy_stats["response_received_count"], scrapy_stats["elapsed_time_seconds"], used
    )
    result["listings"] = listings
    result["db_bytes"] = (directory / "grayhound.db").stat().st_size
    result["warc_bytes"] = sum(p.stat().st_size for p in (directory / "evidence").rglob("*.gz"))
    return result


def _rates(pages: int, elapsed: float, used: dict) -> dict:
    return {
        "pages": pages,
        "seconds": round(elapsed, 2),
        "pages_per_second": round(pages / elapsed, 1),
        "wall_seconds": round(used["wall"], 2),
        # The child's whole CPU time (start-up included) per page: steadier than the rate on
        # a shared machine, where the rate also measures the neighbours.
        "cpu_ms_per_page": round(1000 * used["cpu"] / max(pages, 1), 2),
        # None: no more than this process's own peak, which the child inherits (unknown)
        "peak_rss_mib": round(used["rss_kib"] / 1024, 1) if used["rss_kib"] else None,
    }


def run(listings: int = 5000, profile: str | None = None) -> dict:
    from grayhound.demo.large import ground_truth, large_router
    from grayhound.demo.sites import serve_sites

    with serve_sites({"large": 0}, sites={"large": large_router(listings)}) as served:
        base_url = served.urls["large"]
        bare = measure_bare(base_url)
        with tempfile.TemporaryDirectory(prefix="grayhound-bench-") as directory:
            full = measure_full(base_url, Path(directory), profile)
        tuned = measure_bare(base_url, tuned=True)
        expected = len(ground_truth(listings, base_url))
    return {
        "listings_on_site": expected,
        "bare": bare,
        "full": full,
        "bare_tuned": tuned,
        "ratio": round(full["pages_per_second"] / bare["pages_per_second"], 2),
        "cpu_ratio": round(bare["cpu_ms_per_page"] / full["cpu_ms_per_page"], 2),
        "tuned_ratio": round(full["pages_per_second"] / tuned["pages_per_second"], 2),
        "goal": GOAL_RATIO,
    }


def _peak(mib: float | None) -> str:
    return f"{mib} MiB" if mib is not None else "not above this process's"


def summary(result: dict) -> str:
    bare, full, tuned = result["bare"], result["full"], result["bare_tuned"]

    def line(label: str, figures: dict) -> str:
        return (
            f"  {label:<13}{figures['pages_per_second']:8.1f} pages/s  ({figures['pages']} pages"
            f" in {figures['seconds']} s, wall {figures['wall_seconds']} s,"
            f" CPU {figures['cpu_ms_per_page']} ms/page, peak {_peak(figures['peak_rss_mib'])}"
        )

    return "\n".join(
        [
            f"crawl speed, {result['listings_on_site']:,} listings on loopback:",
            line("bare Scrapy", bare) + ")",
            line("grayhound", full)
            + f"; {full['listings']} listings stored, db {full['db_bytes'] / 2**20:.1f} MiB,"
            f" WARC {full['warc_bytes'] / 2**20:.1f} MiB)",
            line("bare, tuned", tuned) + "; bare Scrapy with grayhound's GC and log tuning)",
            f"  ratio {result['ratio']:.2f} (goal >= {result['goal']}); by CPU per page"
            f" {result['cpu_ratio']:.2f}; against the tuned bare spider {result['tuned_ratio']:.2f}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=5000)
    parser.add_argument("--profile", help="write a cProfile of the full crawl to this file")
    parser.add_argument("--bare-child", help=argparse.SUPPRESS)
    parser.add_argument("--tuned", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_child:
        print(json.dumps(bare_crawl(args.bare_child, args.tuned)))
        return 0
    result = run(args.listings, args.profile)
    print(summary(result))
    return 0 if result["ratio"] >= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
