"""The store: the only package that speaks SQL. `Store` is the one object the rest calls.

Each concern keeps its schema and its queries in its own module (crawl data, findings,
reviews, captures...); `migrations.py` applies their schema steps in order, once."""

from grayhound.store.core import Store, open_store, utc_now

__all__ = ["Store", "open_store", "utc_now"]
