"""The store at scale: 100,000 listings, two crawl runs of observations, findings and one
captured page; then how long `detect`, `digest`, `prices`, `evidence export` and
`export listings` take on it, each in a child process (with its peak memory), and how big the
database is. A command that does not exist yet is reported as skipped.

    python -m benchmarks.store_scale [--listings 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 2000  # items per write_batch transaction while generating
COMMAND_TIMEOUT = 900  # seconds: a command slower than this is reported as timed out
BASE = "https://large.example"
COMMANDS = {
    "detect": ("detect",),
    "digest (html)": ("digest", "--format", "html", "--no-record", "--out", "{out}/digest.html"),
    # every case, not the page's riskiest 100 per group
    "digest (json)": ("digest", "--format", "json", "--no-record", "--out", "{out}/digest.json"),
    "prices (html)": ("prices", "--format", "html", "--out", "{out}/prices.html"),
    "prices (json)": ("prices", "--format", "json", "--out", "{out}/prices.json"),
    "evidence export": ("evidence", "export", "--listing", "1", "--out", "{out}/bundle.zip"),
    "export listings (csv)": ("export", "listings", "--format", "csv", "--out", "{out}/l.csv"),
}


def _config(directory: Path) -> Path:
    example = (ROOT / "grayhound" / "example.toml").read_text()
    path = directory / "grayhound.toml"
    path.write_text(example)
    return path


def populate(database: Path, evidence_dir: Path, count: int) -> dict:
    """Two crawl runs over `count` generated listings, written the way the crawler writes."""
    from grayhound.demo.large import generate
    from grayhound.store import open_store, utc_now

    items = generate(count)
    started = time.perf_counter()
    with open_store(database) as store:
        for price_factor in (1.0, 0.97):  # the second run sees slightly lower prices
            run_id = store.start_run(["large"], utc_now())
            batch: list[dict] = []
            seen_sellers: set[int] = set()
            for item in items:
                batch.extend(_items(item, price_factor, seen_sellers))
                if len(batch) >= BATCH:
                    store.write_batch(run_id, batch)
                    batch = []
            store.write_batch(run_id, batch)
            store.finish_run(run_id, utc_now(), "finished", {"sources": {}})
        _capture_first_listing(store, evidence_dir, run_id)
    return {"seconds": time.perf_counter() - started}


def _items(item, price_factor: float, seen_sellers: set[int]) -> list[dict]:
    from grayhound.models import Listing, Seller
    from grayhound.store import utc_now

    seller_url = f"{BASE}/seller/s{item.seller:03d}.html"
    out = []
    if item.seller not in seen_sellers:
        seen_sellers.add(item.seller)
        seller = Seller(name=f"Seller {item.seller:03d}", url=seller_url)
        out.append(
            {
                "type": "seller",
                "source": "large",
                "key": seller_url,
                "seller": seller,
                "seen_at": utc_now(),
            }  # fmt: skip
        )
    url = f"{BASE}/item/{item.id}.html"
    listing = Listing(
        url=url, canonical_url=url, is_product=True, title=item.title,
        price=f"{float(item.price) * price_factor:.2f}", currency="USD",
        condition=item.condition, seller=f"Seller {item.seller:03d}", seller_url=seller_url,
    )  # fmt: skip
    out.append(
        {
            "type": "listing",
            "source": "large",
            "listing": listing,
            "seller_key": seller_url,
            "seen_at": utc_now(),
        }  # fmt: skip
    )
    return out


def _capture_first_listing(store, evidence_dir: Path, run_id: int) -> None:
    """A real WARC record for listing 1, so `evidence export --listing 1` has evidence."""
    from crawler.capture.warc import Exchange, WarcWriter, payload_sha256
    from grayhound.demo.large import generate, product_page
    from grayhound.store import utc_now

    body = product_page(BASE, generate(1)[0])
    exchange = Exchange(
        f"{BASE}/item/1.html", "GET", [("Host", "large.example")], b"", 200, "OK",
        [("Content-Type", "text/html; charset=utf-8")], body, utc_now(),
    )  # fmt: skip
    writer = WarcWriter(evidence_dir, run_id, "large")
    stored = writer.write_exchange(exchange, payload_sha256(body))
    writer.close()
    capture = {
        "record_id": stored.record_id, "url": exchange.url, "source": "large",
        "record_type": stored.record_type, "warc_file": stored.warc_file,
        "offset": stored.offset, "length": stored.length,
        "payload_sha256": payload_sha256(body), "status": 200,
        "content_type": "text/html; charset=utf-8", "fetched_at": exchange.fetched_at,
        "host": "bench", "user": "bench",
    }  # fmt: skip
    store.write_batch(run_id, [{"type": "capture", "capture": capture}])
    with store.db.conn:
        store.link_capture(stored.record_id, "listing", 1)


def time_command(config: Path, args: tuple[str, ...], out: Path) -> dict:
    command = [sys.executable, "-m", "grayhound", "--config", str(config)]
    command += [a.format(out=out) for a in args]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        timer = threading.Timer(COMMAND_TIMEOUT, child.kill)
        timer.start()
        _, status, usage = os.wait4(child.pid, 0)
        timed_out = not timer.is_alive()
        timer.cancel()
        err.seek(0)
        message = err.read().decode(errors="replace")
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code == 2 and "No such command" in message:
        return {"skipped": "command not available"}
    if timed_out:
        return {"skipped": f"timed out after {COMMAND_TIMEOUT} s"}
    return {
        "seconds": round(seconds, 2),
        "exit": code,
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        **({"error": message.strip().splitlines()[-1][:200]} if code not in (0, 1) else {}),
    }


def run(count: int = 100_000, keep: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="grayhound-scale-") as scratch:
        directory = keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        config = _config(directory)
        database = directory / "grayhound.db"
        generation = populate(database, directory / "evidence", count)
        out = directory / "out"
        out.mkdir(exist_ok=True)
        timings = {name: time_command(config, args, out) for name, args in COMMANDS.items()}
        size = database.stat().st_size + _wal_size(database)
    return {
        "listings": count,
        "generate_seconds": round(generation["seconds"], 1),
        "db_mib": round(size / 2**20, 1),
        "commands": timings,
    }


def _wal_size(database: Path) -> int:
    wal = database.with_name(database.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def summary(result: dict) -> str:
    lines = [
        f"store at scale, {result['listings']:,} listings x 2 runs: database "
        f"{result['db_mib']} MiB (written in {result['generate_seconds']} s)"
    ]
    for name, timing in result["commands"].items():
        if "skipped" in timing:
            lines.append(f"  {name:24} skipped ({timing['skipped']})")
            continue
        extra = f", exit {timing['exit']}: {timing['error']}" if "error" in timing else ""
        lines.append(
            f"  {name:24} {timing['seconds']:7.2f} s  peak {timing['peak_rss_mib']} MiB{extra}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="build the store in this directory and keep it")
    args = parser.parse_args(argv)
    result = run(args.listings, args.keep)
    print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
