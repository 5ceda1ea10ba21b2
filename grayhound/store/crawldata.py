"""Crawl runs, sellers, listings and observations: what the crawler saw, never overwritten.

A listing is one source's sighting of one canonical URL and one offer key ("" for the page's own
offer, "seller:<name>" for another seller's offer on the same page): two sources that fetch the
same page keep a listing each, with their own sellers. Its row holds the latest state; every sighting in a crawl run
appends one `observations` row (one per listing per run), which is the price history. Sellers
likewise keep their latest state in `sellers` and every sighting in `seller_observations`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

import sqlite_utils

from grayhound.errors import GrayhoundError
from grayhound.models import Listing
from grayhound.store.crawlschema import LISTING_LIMITS, cut_to_limits
from grayhound.store.queuelog import compact_when_due

LATEST_COLUMNS = (
    "url",
    "title",
    "price",
    "currency",
    "condition",
    "availability",
    "brand",
    "sku",
    "gtin",
    "image",
    "description",
    "summary",
    "currency_source",
    "category",
)
OBSERVED_COLUMNS = ("url", "title", "price", "currency", "condition", "availability")


class LogCompactionError(GrayhoundError):
    """A crawl run's end was recorded; the housekeeping after it (compacting serve's change
    log) failed. The message says both."""


class CrawlData:
    """Mixin of Store: crawl runs, sellers, listings, observations, failures."""

    db: sqlite_utils.Database

    # -- crawl runs -----------------------------------------------------------------------
    def start_run(self, sources: Iterable[str], started_at: str, config_hash: str = "") -> int:
        with self.db.atomic():
            table = self.db["crawl_runs"].insert(
                {
                    "started_at": started_at,
                    "status": "running",
                    "sources": json.dumps(list(sources)),
                    "pages_fetched": 0,
                    "listings_extracted": 0,
                    "failures": 0,
                    "config_hash": config_hash,
                }
            )
        return table.last_pk

    def finish_run(
        self, run_id: int, finished_at: str, status: str, stats: dict, error: str | None = None
    ) -> None:
        """The run's end: its status, figures and, when it stopped early because something
        could not be written, why (`error`). Then, in a transaction of its own that may fail
        without undoing the end, serve's change log is compacted when it is due (a store
        crawled but never served keeps a bounded log): its failure, other than a full disk or
        a lock held too long (skipped), is a `LogCompactionError` saying the end is recorded."""
        per_source = stats.get("sources", {})
        with self.db.atomic():
            for source, figures in per_source.items():
                self.db["source_stats"].upsert(
                    {"crawl_run_id": run_id, "source": source, **figures},
                    pk=("crawl_run_id", "source"),
                )
            self.db["crawl_runs"].update(
                run_id,
                {
                    "finished_at": finished_at,
                    "status": status,
                    "pages_fetched": sum(f.get("pages_fetched", 0) for f in per_source.values()),
                    "listings_extracted": sum(f.get("listings", 0) for f in per_source.values()),
                    "failures": sum(f.get("failures", 0) for f in per_source.values()),
                    "stats": json.dumps(stats, default=str, sort_keys=True),
                    "error": error,
                },
            )
        if not self.db.conn.in_transaction:  # (a caller's own transaction: not in it)
            try:
                compact_when_due(self.db)
            except sqlite3.Error as exc:
                raise LogCompactionError(
                    f"crawl run {run_id}'s end is recorded ({status}), but serve's change log"
                    f" could not be compacted: {exc}"
                ) from exc

    def resumable_run(self, sources: Iterable[str]) -> dict | None:
        """The latest run of exactly these sources, if it never finished (killed or stopped)."""
        wanted = sorted(sources)
        for run in self.db["crawl_runs"].rows_where(order_by="id desc"):
            if sorted(json.loads(run["sources"] or "[]")) == wanted:
                return run if run["status"] in ("running", "interrupted") else None
        return None

    def reopen_run(self, run_id: int) -> None:
        """Continue an unfinished run: it is running again, under the same id."""
        with self.db.atomic():
            self.db["crawl_runs"].update(run_id, {"status": "running", "finished_at": None})

    def abandon_run(self, run_id: int, at: str) -> None:
        """An unfinished run the user chose not to continue (`grayhound crawl --fresh`)."""
        with self.db.atomic():
            self.db["crawl_runs"].update(run_id, {"status": "abandoned", "finished_at": at})

    def get_run(self, run_id: int) -> dict | None:
        rows = list(self.db["crawl_runs"].rows_where("id = ?", [run_id]))
        return rows[0] if rows else None

    def latest_run(self, *, finished: bool = True) -> dict | None:
        where = "status != 'running'" if finished else None
        rows = list(self.db["crawl_runs"].rows_where(where, order_by="id desc", limit=1))
        return rows[0] if rows else None

    def runs(self) -> list[dict]:
        return list(self.db["crawl_runs"].rows_where(order_by="id"))

    def source_stats(self, run_id: int) -> list[dict]:
        return list(self.db["source_stats"].rows_where("crawl_run_id = ?", [run_id]))

    def failures(self, run_id: int) -> list[dict]:
        return list(
            self.db["crawl_failures"].rows_where("crawl_run_id = ?", [run_id], order_by="id")
        )

    # -- writes from the crawler ------------------------------------------------------------
    def write_batch(self, run_id: int, items: list[dict]) -> None:
        """Write a batch of crawler items in one transaction.

        Items are dicts with "type": "listing" (source, listing, seller_key, seen_at, and
        optionally the seller it names under that key: stored first, as a seller item would
        be), "seller" (source, key, seller, seen_at), "failure" (source, url, status, reason,
        seen_at) or "capture" (capture: a captures row); a listing or seller may name the
        WARC record it came from in "capture", which links the two. Re-delivering an item in
        the same run (a resumed crawl) changes nothing."""
        captured: dict[str, int] = {}  # WARC record id -> captures.id, within this transaction
        try:
            with self.db.atomic():
                for item in items:
                    self._write_item(run_id, item, captured)
        except BaseException:
            self.forget_seller_references()  # what the rolled-back batch wrote is gone
            raise

    def _write_item(self, run_id: int, item: dict, captured: dict[str, int]) -> None:
        kind = item["type"]
        seller_id = None
        if kind == "seller" or (kind == "listing" and item.get("seller") is not None):
            key = item["key"] if kind == "seller" else item["seller_key"]
            page = item["listing"].url if kind == "listing" else None
            seller_id = self.record_seller(
                run_id, item["source"], key, item["seller"], item["seen_at"], page
            )
            if item.get("capture"):
                self.link_capture(item["capture"], "seller", seller_id, captured)
        if kind == "listing":
            listing_id, _ = self.record_listing(
                run_id,
                item["source"],
                item["listing"],
                item.get("seller_key"),
                item["seen_at"],
                seller_id=seller_id,
            )
            if item.get("capture"):
                self.link_capture(item["capture"], "listing", listing_id, captured)
        elif kind == "capture":
            captured[item["capture"]["record_id"]] = self.record_capture(run_id, item["capture"])
        elif kind == "failure":
            self.record_failure(
                run_id,
                item["source"],
                item["url"],
                item.get("status"),
                item["reason"],
                item["seen_at"],
            )
        elif kind != "seller":
            raise ValueError(f"unknown item type {kind!r}")

    def record_listing(
        self,
        run_id: int,
        source: str,
        listing: Listing,
        seller_key: str | None,
        seen_at: str,
        *,
        seller_id: int | None = None,
    ) -> tuple[int, bool]:
        """Insert or update a listing by source, canonical URL and offer key and append this
        run's observation.
        The seller is the one stored under seller_key (its id, when the caller has it).

        Returns (listing id, whether the listing is new)."""
        canonical = listing.canonical_url or listing.url
        if seller_id is None and seller_key:
            seller_id = self.seller_id(source, seller_key)
        state = {c: getattr(listing, c) for c in LATEST_COLUMNS}
        state.update(seller_name=listing.seller, seller_domain=listing.seller_domain)
        cuts = cut_to_limits(state, LISTING_LIMITS)
        state.update(
            seller_id=seller_id,
            field_sources=json.dumps(listing.field_sources, sort_keys=True),
            missing=json.dumps(list(listing.missing)),
            problems=json.dumps([*listing.problems, *cuts]),
        )
        found = self.db.execute(
            "SELECT id FROM listings WHERE source = ? AND canonical_url = ? AND offer_key = ?",
            [source, canonical, listing.offer_key],
        ).fetchone()
        if found is None:
            listing_id = self._insert(
                "listings",
                {
                    "source": source,
                    "canonical_url": canonical,
                    "offer_key": listing.offer_key,
                    **state,
                    "first_seen": seen_at,
                    "last_seen": seen_at,
                    "first_run_id": run_id,
                    "last_run_id": run_id,
                },
            )
            is_new = True
        else:
            listing_id, is_new = found[0], False
            self._update(
                "listings", listing_id, {**state, "last_seen": seen_at, "last_run_id": run_id}
            )
        observation = {c: state[c] for c in OBSERVED_COLUMNS}
        self.db.execute(
            "INSERT OR IGNORE INTO observations (listing_id, crawl_run_id, observed_at, url, title,"
            " price, currency, condition, availability, seller_name, seller_domain)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                listing_id,
                run_id,
                seen_at,
                *observation.values(),
                state["seller_name"],
                state["seller_domain"],
            ],
        )
        return listing_id, is_new

    # The crawler's hot path: plain statements. sqlite-utils' insert() and update() look the
    # table up (pragmas, column lists) on every call, which cost ~30 queries per stored item.
    def _insert(self, table: str, row: dict) -> int:
        columns = ", ".join(f"[{column}]" for column in row)
        marks = ", ".join("?" for _ in row)
        sql = f"INSERT INTO [{table}] ({columns}) VALUES ({marks})"
        return self.db.execute(sql, list(row.values())).lastrowid

    def _update(self, table: str, row_id: int, values: dict) -> None:
        if values:
            assignments = ", ".join(f"[{column}] = ?" for column in values)
            sql = f"UPDATE [{table}] SET {assignments} WHERE id = ?"
            self.db.execute(sql, [*values.values(), row_id])

    def record_failure(
        self, run_id: int, source: str, url: str, status: int | None, reason: str, seen_at: str
    ) -> None:
        self.db["crawl_failures"].insert(
            {
                "crawl_run_id": run_id,
                "source": source,
                "url": url,
                "status": status,
                "reason": reason,
                "failed_at": seen_at,
            }
        )

    # -- reads ------------------------------------------------------------------------------
    def listings(self, where: str | None = None, params: Any = None) -> Iterator[dict]:
        yield from self.db["listings"].rows_where(where, params or [], order_by="id")

    def observations(self, listing_id: int | None = None) -> Iterator[dict]:
        if listing_id is None:
            yield from self.db["observations"].rows_where(order_by="id")
        else:
            yield from self.db["observations"].rows_where(
                "listing_id = ?", [listing_id], order_by="crawl_run_id"
            )

    def count(self, table: str) -> int:
        return self.db[table].count
