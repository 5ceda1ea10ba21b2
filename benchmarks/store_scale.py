"""A store at scale, built the way the crawler builds one, and changed the way a day changes it.

`build(directory, listings)` writes one crawl run of `listings` generated listings through
`Store.write_batch` (sellers with profiles, some impersonating the brands, some sharing a phone
number, every listing with its own image); `crawl_day(directory, day)` writes the next crawl
run: every listing seen again except the ones gone that day (their pages answer 404), about 5 % of prices moved, 1 % new
listings (`DAILY`). Every page a run sees is preserved as a crawl preserves it, by the
crawler's own `CaptureMiddleware`: a WARC response record, or a revisit record when the same
page was stored before (a price that did not move), and a captures row linked to the listing
or seller it gave. Everything derives from a seed and the listing's number, so the same
arguments give the same listings, sellers and prices on every machine (each observation's
time is the moment it is written, as a crawl's is), and nothing is held per listing in memory
but its current price.

    python -m benchmarks.store_scale [--listings 100000] [--days 1] --keep DIR
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from array import array
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the same catalog models and title words as the demo's generated marketplace
from grayhound.demo.large import MODELS, WORDS  # noqa: E402

SEED = 20261203  # fixed: runs compare like with like across machines
BATCH = 2000  # items per write_batch transaction
BASE = "https://large.example"
LISTINGS_PER_SELLER = 400  # a marketplace of 1,000,000 listings has 2,500 sellers
MIN_SELLERS = 250
IMPERSONATORS = 50  # one seller in this many names itself after a brand
NETWORKED = 40  # one seller in this many shares its phone number with the next one
DAILY = {"price_moves": 0.05, "new": 0.01, "gone": 0.005}  # shares of the day's listings
STATE = "bench-state.json"  # beside the store: how many listings exist, which are gone
PRICES = "bench-prices.bin"  # beside the store: every listing's current price (float64)
COLOURS = "black white blue green titanium pink gray purple".split()
BRAND_NAMES = ("Xiaomi", "Redmi", "Samsung", "iPhone", "Apple", "Poco")


def sellers_for(listings: int) -> int:
    return max(MIN_SELLERS, listings // LISTINGS_PER_SELLER)


def listing_of(number: int, sellers: int) -> dict:
    """What listing `number` is: the same on every machine."""
    rng = random.Random(SEED * 1_000_003 + number)
    brand, model, msrp = rng.choice(MODELS)
    condition = rng.choice(("new", "new", "new", "used", "refurbished"))
    title = (
        f"{model} {rng.choice((128, 256, 512))}GB {' '.join(rng.sample(WORDS, 3))}"
        f" {rng.choice(COLOURS)}"
    )
    return {
        "number": number,
        "brand": brand,
        "title": title,
        "price": msrp * rng.uniform(0.45, 1.3),
        "condition": condition,
        "seller": rng.randrange(sellers),
        "description": " ".join(rng.choice(WORDS) for _ in range(40)),
    }


def seller_of(number: int) -> tuple[str, object]:
    """(key, Seller) of seller `number`: a profile page, a name, sometimes a brand's name,
    sometimes a phone number shared with the next seller (a network of two)."""
    from grayhound.models import Seller

    url = f"{BASE}/seller/s{number:05d}.html"
    name = f"Seller {number:05d}"
    if number % IMPERSONATORS == 1:
        name = f"{BRAND_NAMES[number % len(BRAND_NAMES)]} Official Store {number}"
    identifiers = [("profile", url, "profile page")]
    pair = number - number % NETWORKED
    if number % NETWORKED in (0, 1):
        identifiers.append(("phone", f"+1 512 555 {pair:04d}", "profile page"))
    return url, Seller(name=name, url=url, identifiers=tuple(identifiers))


def _page(url: str, title: str, text: str) -> bytes:
    """The page a listing or a seller's profile answers with. A listing's is over the
    middleware's 512 bytes, so an unchanged one is kept as a revisit, as a crawl keeps it; a
    seller's profile and a 404 are shorter and kept in full each time."""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="canonical" href="{url}"></head><body><main><h1>{title}</h1>'
        f'<div class="details">{text}</div></main></body></html>'
    ).encode()


class Pages:
    """Each page a run fetched, preserved by the crawler's `CaptureMiddleware` (a WARC response
    or revisit record under the store's evidence directory) and returned as the captures item
    the store pipeline writes before the items the page gave."""

    def __init__(self, database: Path, run_id: int):
        from scrapy.settings import Settings
        from scrapy.signalmanager import SignalManager

        from crawler.capture.middleware import CaptureMiddleware

        settings = Settings({"GRAYHOUND_RUN_ID": run_id, "GRAYHOUND_DATABASE": str(database),
                             "GRAYHOUND_EVIDENCE_DIR": str(database.parent / "evidence")})  # fmt: skip
        self.middleware = CaptureMiddleware(
            SimpleNamespace(settings=settings, signals=SignalManager())
        )

    def fetched(self, url: str, status: int, body: bytes) -> dict:
        from http.client import responses

        from crawler.capture.warc import Exchange
        from grayhound.store import utc_now

        exchange = Exchange(
            url, "GET", [("Host", "large.example")], b"", status, responses.get(status, ""),
            [("Content-Type", "text/html; charset=utf-8")], body, utc_now(),
        )  # fmt: skip
        return {"type": "capture", "capture": self.middleware.capture(exchange, "large")}

    def written(self) -> None:
        """The batch is in the store: what it kept in full is found there from now on (the
        middleware's own memory of this run's payloads would grow with the run)."""
        self.middleware.originals.clear()

    def close(self) -> None:
        self.middleware.spider_closed()


def _items(
    number: int, price: float, sellers: int, seen: set[int], now: str, pages: Pages
) -> list[dict]:
    from grayhound.models import Listing

    facts = listing_of(number, sellers)
    key, seller = seller_of(facts["seller"])
    out = []
    if facts["seller"] not in seen:
        seen.add(facts["seller"])
        page = pages.fetched(key, 200, _page(key, seller.name, f"{seller.name}: every listing."))
        out += [page, {"type": "seller", "source": "large", "key": key, "seller": seller,
                       "seen_at": now, "capture": page["capture"]["record_id"]}]  # fmt: skip
    url = f"{BASE}/item/{number}.html"
    listing = Listing(
        url=url, canonical_url=url, is_product=True, title=facts["title"], price=f"{price:.2f}",
        currency="USD", condition=facts["condition"], brand=facts["brand"],
        image=f"https://img.large.example/{number}.jpg", description=facts["description"],
        seller=seller.name, seller_url=key,
    )  # fmt: skip
    text = (
        f"{price:.2f} USD · {facts['condition']} · sold by {seller.name} · {facts['description']}"
    )
    page = pages.fetched(url, 200, _page(url, facts["title"], text))
    out += [page, {"type": "listing", "source": "large", "listing": listing, "seller_key": key,
                   "seen_at": now, "capture": page["capture"]["record_id"]}]  # fmt: skip
    return out


def _write_run(database: Path, numbers, prices: array, sellers: int, gone=()) -> dict:
    """One crawl run seeing listings `numbers`; the pages of `gone` answer 404 (delisted)."""
    from grayhound.store import open_store, utc_now

    started = time.perf_counter()
    written = 0
    with open_store(database) as store:
        run_id = store.start_run(["large"], utc_now())
        pages = Pages(database, run_id)
        batch: list[dict] = []
        seen: set[int] = set()
        for number in numbers:
            # each observation its own time, as a crawl gives it (`crawler.spiders.base`): one
            # time a run hid what a report pays per distinct time (issue 19, round 31)
            batch.extend(_items(number, prices[number], sellers, seen, utc_now(), pages))
            written += 1
            if len(batch) >= BATCH:
                store.write_batch(run_id, batch)
                pages.written()
                batch = []
        for number in gone:
            url = f"{BASE}/item/{number}.html"
            page = pages.fetched(url, 404, _page(url, "Not found", "This listing was removed."))
            batch += [page, {"type": "failure", "source": "large", "url": url, "status": 404,
                             "reason": "HTTP 404", "seen_at": utc_now(),
                             "capture": page["capture"]["record_id"]}]  # fmt: skip
        store.write_batch(run_id, batch)
        pages.close()
        store.finish_run(run_id, utc_now(), "finished", {"sources": {"large": {
            "pages_fetched": written, "listings": written, "failures": 0, "with_title": written,
            "with_price": written, "with_currency": written, "with_seller": written}}})  # fmt: skip
    return {"run_id": run_id, "listings": written, "seconds": time.perf_counter() - started}


def build(directory: Path, listings: int) -> dict:
    """A new store of `listings` listings in one crawl run, with its config."""
    directory.mkdir(parents=True, exist_ok=True)
    config = write_config(directory)
    sellers = sellers_for(listings)
    prices = array("d", [0.0]) * (listings + 1)
    for number in range(1, listings + 1):
        prices[number] = round(listing_of(number, sellers)["price"], 2)
    result = _write_run(directory / "grayhound.db", range(1, listings + 1), prices, sellers)
    _save(directory, {"listings": listings, "sellers": sellers, "gone": [], "day": 0}, prices)
    return {**result, "config": config, "sellers": sellers}


def crawl_day(directory: Path, rates: dict | None = None) -> dict:
    """The next day's crawl: every listing seen again but those gone today, a share of prices
    moved, new listings added; returns what changed."""
    rates = rates or DAILY
    state, prices = _load(directory)
    day = state["day"] + 1
    rng = random.Random(SEED + day)
    gone = set(state["gone"])
    alive = [n for n in range(1, state["listings"] + 1) if n not in gone]
    moved = rng.sample(alive, int(len(alive) * rates["price_moves"]))
    for number in moved:
        prices[number] = round(prices[number] * rng.uniform(0.8, 1.2), 2)
    left = set(rng.sample(alive, int(len(alive) * rates["gone"])))
    first_new = state["listings"] + 1
    added = int(len(alive) * rates["new"])
    prices.extend([0.0] * added)
    for number in range(first_new, first_new + added):
        prices[number] = round(listing_of(number, state["sellers"])["price"], 2)
    seen = [n for n in alive if n not in left] + list(range(first_new, first_new + added))
    result = _write_run(directory / "grayhound.db", seen, prices, state["sellers"], sorted(left))
    state.update(listings=first_new + added - 1, gone=sorted(gone | left), day=day)
    _save(directory, state, prices)
    return {**result, "moved": len(moved), "new": added, "gone": len(left), "day": day}


def _save(directory: Path, state: dict, prices: array) -> None:
    (directory / STATE).write_text(json.dumps(state))
    with (directory / PRICES).open("wb") as handle:
        prices.tofile(handle)


def _load(directory: Path) -> tuple[dict, array]:
    state = json.loads((directory / STATE).read_text())
    prices = array("d")
    with (directory / PRICES).open("rb") as handle:
        prices.fromfile(handle, state["listings"] + 1)
    return state, prices


def write_config(directory: Path) -> Path:
    path = directory / "grayhound.toml"
    text = (ROOT / "grayhound" / "example.toml").read_text()
    # the benchmark reads serve's pages without signing in
    path.write_text(text.replace('anonymous = "none"', 'anonymous = "read"', 1))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=0, help="daily crawls after the first")
    parser.add_argument("--keep", type=Path, required=True, help="build the store here")
    args = parser.parse_args(argv)
    built = build(args.keep, args.listings)
    print(f"built {built['listings']:,} listings in {built['seconds']:.0f} s")
    for _ in range(args.days):
        day = crawl_day(args.keep)
        print(f"day {day['day']}: {day['moved']} prices moved, {day['new']} new, "
              f"{day['gone']} gone, written in {day['seconds']:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
