"""Opening the database and the `Store` facade that every stage calls."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from grayhound.errors import GrayhoundError
from grayhound.store.captures import Captures
from grayhound.store.crawldata import CrawlData
from grayhound.store.digests import Digests
from grayhound.store.findings import Findings
from grayhound.store.pricing import PriceHistory
from grayhound.store.reviews import Reviews
from grayhound.store.subjects import Subjects


class Store(CrawlData, Findings, Captures, PriceHistory, Reviews, Digests, Subjects):
    """All reads and writes of grayhound's SQLite database, by named operation."""

    def __init__(self, db: sqlite_utils.Database, path: Path | None = None):
        self.db = db
        self.path = path

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def open_store(path: str | Path, *, create: bool = True) -> Store:
    """Open (and migrate) the database at `path`; WAL mode, foreign keys on."""
    from grayhound.store.migrations import apply_migrations

    db_path = Path(path)
    if not create and not db_path.exists():
        raise GrayhoundError(f"{db_path}: database not found (run `grayhound crawl` first)")
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(db_path), timeout=30, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        apply_migrations(db)
    except (sqlite3.DatabaseError, OSError) as exc:
        raise GrayhoundError(f"{db_path}: cannot open database: {exc}") from None
    return Store(db, db_path)
