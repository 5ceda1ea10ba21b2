"""The tables of what the crawler saw: crawl runs, sellers and their sightings, listings and
their observations (the price history), failures and per-source figures. Migrations 0001 and
0006 (`grayhound.store.migrations`); the methods that read and write them are in
`grayhound.store.crawldata`."""

from __future__ import annotations

import sqlite_utils


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


def add_currency_source_and_category(db: sqlite_utils.Database) -> None:
    """How a listing's currency was decided, as a sentence ('¥ read as JPY: the page language
    ja'), and the category or breadcrumb trail the page files the product under."""
    columns = db["listings"].columns_dict
    for name in ("currency_source", "category"):
        if name not in columns:
            db["listings"].add_column(name, str)
