"""`make bench`: every benchmark in turn, each printing its own summary.

The crawl benchmark (bare Scrapy vs grayhound on a generated 5,000-listing site), the store
at 100,000 listings and its daily run (`benchmarks.scale`, two days of changes) always run; the detector and extraction benchmarks run when present.

    python -m benchmarks [--quick]     # --quick: 1,000 listings crawled, 10,000 stored
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.host import compile_packages, machine  # noqa: E402

OPTIONAL = ("detector_throughput", "detector_quality", "extraction_quality", "catalog_quality")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sites and stores")
    args = parser.parse_args(argv)
    from benchmarks import crawl_speed, scale

    print(f"machine: {machine()}", flush=True)
    compile_packages()
    failed = 0
    started = time.perf_counter()
    crawl = crawl_speed.run(1000 if args.quick else 5000)
    print(crawl_speed.summary(crawl), flush=True)
    failed += crawl["ratio"] < crawl_speed.GOAL_RATIO
    # the store at 100,000 listings: its daily run and every command (1,000,000 listings:
    # python -m benchmarks.scale, which takes the better part of an hour)
    print("--- scale", flush=True)
    scale.main(["--quick"] if args.quick else ["--sizes", "100000", "--days", "2"])
    for name in OPTIONAL:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError:
            continue
        print(f"--- {name}", flush=True)
        failed += bool(module.main([]))
    print(f"benchmarks done in {time.perf_counter() - started:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
