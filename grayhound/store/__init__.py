"""The store: the only package that speaks SQL. `Store` is the one object the rest calls.

Owns: the SQLite schema and its migrations, and every query; each concern keeps its schema and
queries in its own module (crawl data, findings, reviews, captures, digests, pricing, subjects), and
`migrations.py` applies their steps in order, once. May import: `grayhound.errors` and
`grayhound.models`; never a stage (crawler, detectors, reports)."""

import grayhound.store._sqlite_utils  # noqa: F401  (first: sqlite_utils without numpy)
from grayhound.store.core import Store, open_reader, open_store, settle_store
from grayhound.store.timestamps import utc_now

__all__ = ["Store", "open_reader", "open_store", "settle_store", "utc_now"]
