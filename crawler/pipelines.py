"""Validate crawler items and write them to the store in batches, one transaction each.

A batch that cannot be written (a full disk, an I/O error, a damaged page) is never dropped in
silence: the crawl of the source stops cleanly, the first cause is recorded for the run, the
items of that batch and any after it count as not stored, and the figures the run records
are those of the batches actually committed. A locked database is waited for (SQLite's
busy_timeout, 30 s) before that counts as a failure; nothing else is retried, since a batch
that failed for lack of space or a damaged file would fail again."""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter

from crawler.capture.middleware import capture_written, stop_crawl
from grayhound.store import open_store

logger = logging.getLogger(__name__)

BATCH_SIZE = 100  # items per transaction: few commits, little lost on a hard kill
COMMITTED = "grayhound/committed/"  # crawler stats prefix: figures of what reached the store
FIELDS_COUNTED = ("title", "price", "currency", "seller")


class StorePipeline:
    """Buffers items and writes them with Store.write_batch; flushes on close."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.run_id = crawler.settings.getint("GRAYHOUND_RUN_ID")
        self.database = crawler.settings.get("GRAYHOUND_DATABASE")
        self.buffer: list[dict] = []
        self.store = None
        self.failed = False
        crawler.signals.connect(self.capture_written, signal=capture_written)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        self.store = open_store(self.database)

    def close_spider(self):
        self.flush()
        if self.store is not None:
            self.store.close()

    def process_item(self, item):
        if not isinstance(item, dict) or item.get("type") not in ("listing", "seller", "failure"):
            self.crawler.stats.inc_value("grayhound/dropped_unknown_item")
            logger.warning("dropped an item of unknown shape: %r", type(item).__name__)
            return item
        self.buffer.append(item)
        # Sellers must exist before the listings that point at them: flush only at a listing.
        if len(self.buffer) >= BATCH_SIZE and item["type"] != "seller":
            self.flush()
        return item

    def capture_written(self, capture: dict):
        """A response was preserved as WARC: index it with the next batch."""
        self.buffer.append({"type": "capture", "capture": capture})
        if len(self.buffer) >= 4 * BATCH_SIZE:  # pages without items still get indexed
            self.flush()

    def flush(self):
        if not self.buffer or self.store is None:
            return
        batch, self.buffer = self.buffer, []
        if self.failed:  # the store failed earlier: nothing more is written in this crawl
            self._count(batch, "grayhound/items_not_stored")
            return
        try:
            self.store.write_batch(self.run_id, batch)
        except (sqlite3.Error, OSError) as exc:
            self.failed = True
            self._count(batch, "grayhound/items_not_stored")
            why = f"{self.database}: could not write to the store ({exc})"
            stop_crawl(self.crawler, why, "store_failed")
            return
        self.crawler.stats.inc_value("grayhound/items_stored", len(batch))
        self._count_committed(batch)

    def _count(self, batch: list[dict], stat: str) -> None:
        self.crawler.stats.inc_value(stat, sum(item["type"] != "capture" for item in batch))

    def _count_committed(self, batch: list[dict]) -> None:
        """The run's figures, counted from what is in the store now (see crawler.runner)."""
        counts: Counter[str] = Counter()
        for item in batch:
            if item["type"] == "failure":
                counts["failures"] += 1
            elif item["type"] == "listing":
                listing = item["listing"]
                counts["listings"] += 1
                for field in FIELDS_COUNTED:
                    counts[f"with_{field}"] += bool(getattr(listing, field))
        for name, count in counts.items():
            self.crawler.stats.inc_value(COMMITTED + name, count)
