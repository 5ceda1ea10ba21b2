"""A store with three crawl runs of priced listings and their model judgements."""

from __future__ import annotations

import io
import os
import sqlite3
import threading
import time

import pytest

from grayhound.models import Listing, Seller

RUN_DATES = ("2026-01-01T06:00:00.000Z", "2026-01-08T06:00:00.000Z", "2026-01-15T06:00:00.000Z")
HOSTILE_SELLER = '=HYPERLINK("http://evil.example")<script>alert(1)</script>'

# (key, source, seller, model, currency, prices per run (None = not seen), accessory, condition)
OFFERS = [
    (
        "a",
        "bazaar",
        "CheapPhones",
        "Xiaomi 14 Pro",
        "USD",
        ("699.00", "549.00", "549.00"),
        0,
        "new",
    ),
    ("b", "gadgetcorner", "Gadget Corner", "Xiaomi 14 Pro", "EUR", ("899.00",) * 3, 0, "new"),
    ("c", "bazaar", HOSTILE_SELLER, "Xiaomi 14 Pro", "USD", (None, None, "950.00"), 0, "new"),
    ("d", "bazaar", "CaseKing", "Xiaomi 14 Pro", "USD", ("19.99",) * 3, 1, "new"),
    ("e", "bazaar", "SecondHand", "Xiaomi 14 Pro", "USD", ("400.00",) * 3, 0, "used"),
    ("f", "bazaar", "Mystery", "Xiaomi 14 Pro", None, ("800.00",) * 3, 0, "unknown"),
    ("g", "bazaar", "GoneSeller", "Xiaomi 14 Pro", "USD", ("500.00", None, None), 0, "new"),
    ("h", "bazaar", "UK Imports", "Xiaomi 14", "GBP", ("450.00",) * 3, 0, "new"),
    ("i", "gadgetcorner", "Swiss Deals", "Xiaomi 14 Ultra", "CHF", ("1100.00",) * 3, 0, "new"),
]


def phone_listing(source: str, key, price: str) -> Listing:
    """A product page of `source` selling "Xiaomi 14 Pro {key}" at `price` USD."""
    return Listing(
        url=f"https://{source}.example/{key}",
        is_product=True,
        title=f"Xiaomi 14 Pro {key}",
        price=price,
        currency="USD",
    )


def populate(store) -> None:
    sources = ["bazaar", "gadgetcorner"]
    ids: dict[str, int] = {}
    for run_index, seen_at in enumerate(RUN_DATES):
        run_id = store.start_run(sources, seen_at)
        for key, source, seller, model, currency, prices, accessory, condition in OFFERS:
            price = prices[run_index]
            if price is None:
                continue
            seller_key = f"https://{source}.example/seller/{key}"
            store.record_seller(run_id, source, seller_key, Seller(seller, url=seller_key), seen_at)
            listing = Listing(
                url=f"https://{source}.example/item/{key}",
                is_product=True,
                title=f"{model} 12/512GB" + (" case" if accessory else ""),
                price=price,
                currency=currency,
                condition=condition,
                seller=seller,
                seller_url=seller_key,
            )
            ids[key], _ = store.record_listing(run_id, source, listing, seller_key, seen_at)
        store.finish_run(run_id, seen_at, "finished", {"sources": {}})
    store.record_findings([_finding(ids[o[0]], o) for o in OFFERS], run_id, RUN_DATES[-1])


def _finding(listing_id: int, offer: tuple) -> dict:
    key, _, seller, model, currency, _, accessory, condition = offer
    return {
        "subject_kind": "listing",
        "subject_id": listing_id,
        "subject": f"{model} by {seller}",
        "brand": "xiaomi",
        "score": 0.1,
        "verdict": "clean",
        "model": model,
        "is_accessory": accessory,
        "condition": condition,
    }


@pytest.fixture
def priced_store(store):
    populate(store)
    return store


@pytest.fixture
def run_dates() -> tuple[str, ...]:
    return RUN_DATES


@pytest.fixture
def hostile_seller() -> str:
    return HOSTILE_SELLER


@pytest.fixture
def populate_store():
    """The function that fills a store, for tests that open their own (e.g. the CLI's)."""
    return populate


@pytest.fixture
def own_threads_only(monkeypatch):
    """`reports.parallel.write_parts` is shown only the threads the test itself starts.

    In the whole suite, fixture-site servers that earlier tests leave running are other
    threads, and a process with other threads writes every part itself (a fork copies only
    the calling thread): without this, a test of the workers would test no worker at all."""
    real, before = threading.active_count, threading.active_count()
    monkeypatch.setattr(threading, "active_count", lambda: real() - before + 1)


def parts_counted(monkeypatch, module) -> list[int]:
    """`module.write_parts` (a report's `reports.parallel.write_parts`) wrapped to note how
    many parts each call was given; the list it appends to."""
    counted, real = [], module.write_parts

    def write_parts(stream, parts, write, **options):
        counted.append(len(parts))
        return real(stream, parts, write, **options)

    monkeypatch.setattr(module, "write_parts", write_parts)
    return counted


def crawl_commits_first(real, database, statements: list[str], marker):
    """`real` (a report's part writer) wrapped: this process's first call commits
    `statements` through a connection of its own that does not wait for the store's lock
    ("database is locked" if the report still held it), then writes; a forked worker's call
    writes only once that commit is made (a `marker` file says so). `.commits` counts them."""
    pid, commits = os.getpid(), []

    def wrapped(*args, **kwargs):
        if os.getpid() == pid:
            if not commits:
                crawl = sqlite3.connect(database, timeout=0)
                for sql in statements:
                    crawl.execute(sql)
                crawl.commit()
                crawl.close()
                commits.append(1)
                marker.touch()
        else:
            while not marker.exists():
                time.sleep(0.01)
        return real(*args, **kwargs)

    wrapped.commits = commits
    return wrapped


def listing_judgement(listing_id: int, model: str, **fields) -> dict:
    """A current clean judgement of a listing as `model`, with these other `fields`."""
    return {
        "subject_kind": "listing",
        "subject_id": listing_id,
        "subject": f"listing {listing_id}",
        "brand": "xiaomi",
        "score": 0.1,
        "verdict": "clean",
        "model": model,
        **fields,
    }


def judge_as(store, listing_ids, model: str = "Xiaomi 14 Pro") -> None:
    """A current clean listing judgement of `model` for each listing (the price report's
    listings, without running the detectors)."""
    findings = [listing_judgement(listing_id, model) for listing_id in sorted(set(listing_ids))]
    store.record_findings(findings, None, "2026-03-01T00:00:00.000Z")


def command_price_page(store, config, options: dict) -> str:
    """The HTML page `grayhound prices --format html --no-cache` writes with `options`
    (currency, condition): each model's kept listings copied for its figures and its history's
    groups (`reports.pricing.parts._write_models`)."""
    from reports.pricing.parts import price_job, write_prices

    currency, condition = options.get("currency", "USD"), options.get("condition", "new")
    page = io.StringIO()
    job = price_job(store, config, currency, condition, True, cached=False)
    write_prices(store, job, config.catalog, "html", page)
    return page.getvalue()
