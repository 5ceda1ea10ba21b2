"""The tables of what the crawler saw: crawl runs, sellers and their sightings, listings and
their observations (the price history), failures and per-source figures, and the longest text
each column keeps. Migrations 0001, 0006, 0007 and 0009 (`grayhound.store.migrations`); the methods
that read and write them are in `grayhound.store.crawldata`."""

from __future__ import annotations

import sqlite_utils

from grayhound.text import cut

# The longest text kept per field, in characters. Longer is junk or an attack (a 1 MB title
# once filled a 6 MB digest): `CrawlData` cuts text to these at the store boundary and records
# the cut in the row's `problems`.
LISTING_LIMITS = {
    "title": 500,
    "description": 10_000,
    "summary": 4_000,
    "brand": 200,
    "sku": 200,
    "gtin": 100,
    "availability": 200,
    "image": 4_096,
    "seller_name": 300,
    "seller_domain": 253,  # the longest DNS name
}
SELLER_LIMITS = {"name": 300, "profile_url": 4_096, "domain": 253, "claimed_domain": 253}


def create_schema(db: sqlite_utils.Database) -> None:
    db["crawl_runs"].create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "status": str,  # running | finished | failed | interrupted | abandoned
            "sources": str,  # JSON list of source names
            "pages_fetched": int,
            "listings_extracted": int,
            "failures": int,
            "stats": str,  # JSON: Scrapy stats and per-source figures
            "config_hash": str,
        },
        pk="id",
        not_null={"started_at", "status"},
    )
    db["sellers"].create(
        {
            "id": int,
            "source": str,
            "key": str,  # profile URL, or "name:<name>", or "site:<domain>"
            "name": str,
            "profile_url": str,
            "domain": str,  # the domain the seller operates (fetched host or configured site)
            "claimed_domain": str,  # a website the seller's page points to (not trusted)
            "first_seen": str,
            "last_seen": str,
            "first_run_id": int,
            "last_run_id": int,
        },
        pk="id",
        not_null={"source", "key", "first_seen", "last_seen"},
        foreign_keys=[("first_run_id", "crawl_runs", "id"), ("last_run_id", "crawl_runs", "id")],
    )
    db["sellers"].create_index(["source", "key"], unique=True)
    db["seller_observations"].create(
        {
            "id": int,
            "seller_id": int,
            "crawl_run_id": int,
            "observed_at": str,
            "name": str,
            "domain": str,
            "claimed_domain": str,
        },
        pk="id",
        foreign_keys=[("seller_id", "sellers", "id"), ("crawl_run_id", "crawl_runs", "id")],
    )
    db["seller_observations"].create_index(["seller_id", "crawl_run_id"], unique=True)
    db["listings"].create(
        {
            "id": int,
            "source": str,
            "canonical_url": str,
            "url": str,
            "title": str,
            "price": str,  # decimal string
            "currency": str,  # ISO 4217 or NULL when the page does not say
            "condition": str,
            "availability": str,
            "brand": str,
            "sku": str,
            "gtin": str,
            "image": str,
            "description": str,
            "seller_id": int,
            "seller_name": str,
            "seller_domain": str,
            "field_sources": str,  # JSON: field -> extraction layer
            "missing": str,  # JSON list
            "problems": str,  # JSON list
            "first_seen": str,
            "last_seen": str,
            "first_run_id": int,
            "last_run_id": int,
        },
        pk="id",
        not_null={"source", "canonical_url", "url", "first_seen", "last_seen"},
        foreign_keys=[
            ("seller_id", "sellers", "id"),
            ("first_run_id", "crawl_runs", "id"),
            ("last_run_id", "crawl_runs", "id"),
        ],
    )
    db["listings"].create_index(["canonical_url"], unique=True)
    db["listings"].create_index(["seller_id"])
    db["listings"].create_index(["source"])
    db["observations"].create(
        {
            "id": int,
            "listing_id": int,
            "crawl_run_id": int,
            "observed_at": str,
            "url": str,
            "title": str,
            "price": str,
            "currency": str,
            "condition": str,
            "availability": str,
            "seller_name": str,
            "seller_domain": str,
        },
        pk="id",
        not_null={"listing_id", "crawl_run_id", "observed_at"},
        foreign_keys=[("listing_id", "listings", "id"), ("crawl_run_id", "crawl_runs", "id")],
    )
    db["observations"].create_index(["listing_id", "crawl_run_id"], unique=True)
    db["observations"].create_index(["crawl_run_id"])
    db["crawl_failures"].create(
        {
            "id": int,
            "crawl_run_id": int,
            "source": str,
            "url": str,
            "status": int,
            "reason": str,
            "failed_at": str,
        },
        pk="id",
        foreign_keys=[("crawl_run_id", "crawl_runs", "id")],
    )
    db["crawl_failures"].create_index(["crawl_run_id"])
    db["source_stats"].create(
        {
            "crawl_run_id": int,
            "source": str,
            "pages_fetched": int,
            "listings": int,
            "failures": int,
            "with_title": int,
            "with_price": int,
            "with_currency": int,
            "with_seller": int,
        },
        pk=("crawl_run_id", "source"),
        foreign_keys=[("crawl_run_id", "crawl_runs", "id")],
    )


def add_listing_summary(db: sqlite_utils.Database) -> None:
    """The visible text of a listing's product block, which the detectors read too."""
    if "summary" not in db["listings"].columns_dict:
        db["listings"].add_column("summary", str)


def add_offer_key(db: sqlite_utils.Database) -> None:
    """Issue 17: a page may show several sellers' offers, each its own listing. A listing's
    identity becomes (canonical URL, offer key): "" for the page's own offer (every listing
    stored before this step), "seller:<name>" for another seller's offer on the same page."""
    if "offer_key" not in db["listings"].columns_dict:
        db["listings"].add_column("offer_key", str, not_null_default="")
    db.execute("DROP INDEX IF EXISTS idx_listings_canonical_url")
    db["listings"].create_index(["canonical_url", "offer_key"], unique=True, if_not_exists=True)


def add_cut_text_and_run_errors(db: sqlite_utils.Database) -> None:
    """Issue 15: a seller's `problems` (like a listing's: which fields were cut to length at the
    store boundary), and a crawl run's `error` (why it stopped early: the store or the WARC
    evidence could not be written)."""
    if "problems" not in db["sellers"].columns_dict:
        db["sellers"].add_column("problems", str)
    if "error" not in db["crawl_runs"].columns_dict:
        db["crawl_runs"].add_column("error", str)


def cut_to_limits(row: dict, limits: dict[str, int]) -> list[str]:
    """Cut the text fields of `row` (in place) to their limits; say what was cut."""
    cuts = []
    for name, limit in limits.items():
        value = row.get(name)
        if isinstance(value, str):
            row[name], was_cut = cut(value, limit)
            if was_cut:
                cuts.append(f"{name} cut from {len(value)} to {limit} characters")
    return cuts


def add_currency_source_and_category(db: sqlite_utils.Database) -> None:
    """How a listing's currency was decided, as a sentence ('¥ read as JPY: the page language
    ja'), and the category or breadcrumb trail the page files the product under."""
    columns = db["listings"].columns_dict
    for name in ("currency_source", "category"):
        if name not in columns:
            db["listings"].add_column(name, str)


def key_listings_by_source(db: sqlite_utils.Database) -> None:
    """A listing's identity becomes (source, canonical URL, offer key): the same page fetched by
    two sources (a `pages` source and the marketplace's own) is one listing per source, each
    with its own seller, history and findings, instead of one that changes hands every crawl.
    Existing rows are already unique by the narrower key, so each keeps its id and history."""
    db.execute("DROP INDEX IF EXISTS idx_listings_canonical_url_offer_key")
    db["listings"].create_index(
        ["source", "canonical_url", "offer_key"], unique=True, if_not_exists=True
    )
