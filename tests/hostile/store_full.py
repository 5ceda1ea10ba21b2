"""Fault injection at the write: `python store_full.py PAGES grayhound-args...` runs the CLI with
the crawl's store connection limited to its size plus PAGES pages (SQLite's max_page_count), so
every write past that fails with SQLite's own "database or disk is full" (SQLITE_FULL), exactly
as on a full disk. Other connections (the one that records the run's end) are not limited,
as when a batch fills the disk and a small update still fits."""

from __future__ import annotations

import sys

from grayhound.store.crawldata import CrawlData

PAGES = int(sys.argv[1])
write_batch = CrawlData.write_batch


def limited_write_batch(self, run_id: int, items: list[dict]) -> None:
    if not getattr(self, "limited", False):
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages + PAGES}")
        self.limited = True
    write_batch(self, run_id, items)


CrawlData.write_batch = limited_write_batch

if __name__ == "__main__":
    from grayhound.cli import main

    sys.exit(main(sys.argv[2:]))
