"""Validate crawler items and write them to the store in batches, one transaction each."""

from __future__ import annotations

import logging

from grayhound.store import open_store

logger = logging.getLogger(__name__)

BATCH_SIZE = 100  # items per transaction: few commits, little lost on a hard kill


class StorePipeline:
    """Buffers items and writes them with Store.write_batch; flushes on close."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.run_id = crawler.settings.getint("GRAYHOUND_RUN_ID")
        self.database = crawler.settings.get("GRAYHOUND_DATABASE")
        self.buffer: list[dict] = []
        self.store = None
        from crawler.capture.middleware import capture_written

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
        self.store.write_batch(self.run_id, batch)
        self.crawler.stats.inc_value("grayhound/items_stored", len(batch))
