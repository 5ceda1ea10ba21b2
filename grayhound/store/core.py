"""Opening the database and the `Store` facade that every stage calls."""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

import sqlite_utils

from grayhound.errors import DamagedStoreError, GrayhoundError
from grayhound.store.captures import Captures
from grayhound.store.changes import Changes
from grayhound.store.crawldata import CrawlData
from grayhound.store.detectstate import DetectState
from grayhound.store.digests import Digests
from grayhound.store.findings import Findings
from grayhound.store.networks import Networks
from grayhound.store.pricing import PriceHistory
from grayhound.store.reviews import Reviews
from grayhound.store.sellers import SellerIdentity
from grayhound.store.sellerviews import SellerViews
from grayhound.store.subjects import Subjects


class Store(
    SellerIdentity,
    SellerViews,
    Networks,
    CrawlData,
    Findings,
    Captures,
    PriceHistory,
    Reviews,
    Digests,
    Subjects,
    Changes,
    DetectState,
):
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
    """Open (and migrate) the database at `path`; WAL mode, foreign keys on.

    A missing file is a new store (with `create`); an empty file is not (something truncated
    it, or it is not ours); a store that fails SQLite's `PRAGMA quick_check` (run once per file
    and process) is named as damaged instead of being read or written."""
    from grayhound.store.migrations import apply_migrations

    db_path = Path(path)
    if not create and not db_path.exists():
        raise GrayhoundError(f"{db_path}: database not found (run `grayhound crawl` first)")
    try:
        if not db_path.exists():
            _create(db_path)
        _refuse_empty_file(db_path)
        conn = sqlite3.connect(str(db_path), timeout=30, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        _check_once(db, db_path)
        apply_migrations(db)
    except sqlite3.DatabaseError as exc:
        if _damaged(exc):
            raise DamagedStoreError(f"{db_path}: {DAMAGED} ({exc})") from None
        raise GrayhoundError(f"{db_path}: cannot open database: {exc}") from None
    except OSError as exc:
        raise GrayhoundError(f"{db_path}: cannot open database: {exc}") from None
    return Store(db, db_path)


DAMAGED = (
    "the store is damaged (SQLite's integrity check fails): restore it from a backup, or"
    " salvage it with `sqlite3 DB .recover`"
)
_checked: set[tuple[str, int]] = set()  # (path, inode) of stores that passed, this process


def _create(db_path: Path) -> None:
    """A new store appears whole (migrated) or not at all: an empty file is never ours, even
    for the instant another process would see while SQLite creates one."""
    from grayhound.store.migrations import apply_migrations

    db_path.parent.mkdir(parents=True, exist_ok=True)
    fresh = db_path.with_name(f".{db_path.name}.{secrets.token_hex(4)}.new")
    try:
        conn = sqlite3.connect(str(fresh))
        try:
            apply_migrations(sqlite_utils.Database(conn))
        finally:
            conn.close()
        try:
            os.link(fresh, db_path)  # atomic; fails if another process created it meanwhile
        except FileExistsError:
            pass
    finally:
        fresh.unlink(missing_ok=True)


def _refuse_empty_file(db_path: Path) -> None:
    try:
        empty = db_path.is_file() and db_path.stat().st_size == 0
    except OSError:
        return  # sqlite3 names the problem below
    if empty:
        raise GrayhoundError(
            f"{db_path}: the database file is empty (0 bytes), not a grayhound store;"
            " remove it to start a new store, or restore it from a backup"
        )


def _check_once(db: sqlite_utils.Database, db_path: Path) -> None:
    """`PRAGMA quick_check` (O(pages), no index cross-check) the first time this process opens
    the file: every command names a damaged store instead of failing somewhere in it."""
    try:
        key = (str(db_path.resolve()), db_path.stat().st_ino)
    except OSError:
        return  # a new store: nothing to check
    if key in _checked:
        return
    problems = [row[0] for row in db.execute("PRAGMA quick_check(3)").fetchall()]
    if problems != ["ok"]:
        raise DamagedStoreError(f"{db_path}: {DAMAGED}: {'; '.join(problems)}")
    _checked.add(key)


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in str(exc)
