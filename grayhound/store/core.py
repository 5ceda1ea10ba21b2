"""Opening the database and the `Store` facade that every stage calls."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from grayhound.errors import DamagedStoreError, GrayhoundError
from grayhound.store.captures import Captures
from grayhound.store.changes import Changes
from grayhound.store.crawldata import CrawlData
from grayhound.store.detectstate import DetectState
from grayhound.store.digestcases import DigestShown, begin_read, database_file, read_only_uri
from grayhound.store.digestrows import DigestRows
from grayhound.store.digests import Digests
from grayhound.store.findings import Findings
from grayhound.store.networks import Networks
from grayhound.store.pricing import PriceHistory
from grayhound.store.reportrows import ReportRows
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
    DigestRows,
    DigestShown,
    Subjects,
    Changes,
    DetectState,
    ReportRows,
):
    """All reads and writes of grayhound's SQLite database, by named operation."""

    def __init__(self, db: sqlite_utils.Database, path: Path | None = None):
        self.db = db
        self.path = path

    def close(self) -> None:
        self.db.close()
        if self.path is not None:
            _record_clean(self.path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None and issubclass(exc_type, sqlite3.DatabaseError):
            self.db.close()  # left through a database error: the files are not vouched for
            if self.path is not None:
                _forget_clean(self.path)
            return
        self.close()

    @contextmanager
    def shared_snapshot(self) -> Iterator[SharedSnapshot]:
        """This connection reads one snapshot of the store until the block ends, begun while
        the store's write lock is held by a connection of its own, so that worker processes
        opening the store with `open_reader` meanwhile read the very same; the lock is held
        until `release()` (called once they have: `write_parts(..., started=release)`), at
        most until the block ends. A store busy with a writer for longer than its busy
        timeout is not waited for further: the snapshot is then this process's alone
        (`shared` is false) and the report is written by this process."""
        sentinel = sqlite3.connect(database_file(self.db), timeout=LOCK_WAIT, isolation_level=None)
        conn = self.db.conn
        try:
            try:
                sentinel.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # busy: a long write
                pass
            begin_read(conn)
            snapshot = SharedSnapshot(sentinel)
            yield snapshot
        finally:
            if sentinel.in_transaction:
                sentinel.execute("ROLLBACK")
            sentinel.close()
            if conn.in_transaction:
                conn.commit()

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


LOCK_WAIT = 5.0  # seconds a report waits for a writer before it reads alone


class SharedSnapshot:
    """See `Store.shared_snapshot`."""

    def __init__(self, sentinel: sqlite3.Connection):
        self.sentinel = sentinel
        self.shared = sentinel.in_transaction  # the write lock was taken

    def release(self) -> None:
        """Let writers commit again (nothing if the lock is not held)."""
        if self.sentinel.in_transaction:
            self.sentinel.execute("ROLLBACK")


def open_reader(path: str | Path) -> Store:
    """A store opened and checked by this process's parent (`open_store`), read by a worker
    through a read-only connection of its own, its snapshot begun (`Store.shared_snapshot`
    says when it is the parent's)."""
    conn = sqlite3.connect(read_only_uri(str(path)), uri=True, check_same_thread=False)
    begin_read(conn)
    return Store(sqlite_utils.Database(conn, execute_plugins=False), None)


def settle_store(path: str | Path) -> None:
    """Open and close the store once more, after a digest's read-only connection is gone
    (`SpooledDigest.close`). The digest closes the store before it writes its output through
    a read-only connection of its own; neither close could copy the write-ahead log back (SQLite's checkpoint, done
    by the last connection to close, and never by a read-only one), so at 1M the next
    command paid for ~300 MB of it (a `detect` with nothing changed: 10 s under strace, 3 s
    in the benchmark, against 0.6 s). A store that does not open now is left as it was:
    the next command's close copies the log, as before."""
    try:
        open_store(path, create=False).close()
    except (GrayhoundError, sqlite3.Error, OSError):
        pass


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
        # no sqlite-utils plugins: grayhound has none, and looking for them reads every
        # installed package's metadata (~0.06 s of each command, ~0.4 s with a cold cache)
        db = sqlite_utils.Database(conn, execute_plugins=False)
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
# held while the clean stamp is recorded or forgotten: when one thread closes the store while
# another leaves it through an error (`grayhound serve` closes its checking connection on a
# thread of its own), the error's "check it again" stands
_STAMP_LOCK = threading.Lock()


def _create(db_path: Path) -> None:
    """A new store appears whole (migrated) or not at all: an empty file is never ours, even
    for the instant another process would see while SQLite creates one."""
    from grayhound.store.migrations import apply_migrations

    db_path.parent.mkdir(parents=True, exist_ok=True)
    fresh = db_path.with_name(f".{db_path.name}.{secrets.token_hex(4)}.new")
    try:
        conn = sqlite3.connect(str(fresh))
        try:
            apply_migrations(sqlite_utils.Database(conn, execute_plugins=False))
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
    """`PRAGMA quick_check` (O(pages), no index cross-check) when the file may have changed
    outside grayhound: every command names a damaged store instead of failing somewhere in
    it, without reading every page of an unchanged one (docs/reliability.md)."""
    try:
        key = (str(db_path.resolve()), db_path.stat().st_ino)
    except OSError:
        return  # a new store: nothing to check
    if key in _checked:
        return
    if not _clean_stamp_holds(db_path):
        problems = [row[0] for row in db.execute("PRAGMA quick_check(3)").fetchall()]
        if problems != ["ok"]:
            raise DamagedStoreError(f"{db_path}: {DAMAGED}: {'; '.join(problems)}")
        _write_stamp(db_path, {**_file_stamp(db_path), "checked_at": time.time()})
    _checked.add(key)


# The files of a store as grayhound last left them after a clean check (inode, size and
# modification time of the database and its WAL): a store that still looks so was changed by
# nobody else and is not checked again; any other program's write (or a restored or replaced
# file) changes them and the next command checks it.
STAMP_SUFFIX = "-checked"
RECHECK_AFTER = 7 * 24 * 3600  # seconds: damage no write made (a failing disk) is found too


def _file_stamp(db_path: Path) -> dict:
    stamp = {}
    for suffix in ("", "-wal"):
        try:
            st = os.stat(f"{db_path}{suffix}")
        except OSError:
            st = None
        # an empty WAL is what opening the store makes: the same as none
        held = st is not None and (st.st_size > 0 or not suffix)
        stamp[suffix or "db"] = [st.st_ino, st.st_size, st.st_mtime_ns] if held else None
    return stamp


def _clean_stamp_holds(db_path: Path) -> bool:
    try:
        kept = json.loads(Path(f"{db_path}{STAMP_SUFFIX}").read_text())
        fresh = time.time() - float(kept.pop("checked_at")) < RECHECK_AFTER
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return fresh and kept == _file_stamp(db_path)


def _write_stamp(db_path: Path, stamp: dict) -> None:
    target = Path(f"{db_path}{STAMP_SUFFIX}")
    scratch = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    try:
        scratch.write_text(json.dumps(stamp))
        os.replace(scratch, target)
    except OSError:
        scratch.unlink(missing_ok=True)  # a read-only folder: the next command checks again


def _record_clean(db_path: Path) -> None:
    """This process found the store clean and wrote it only through SQLite: the files as it
    leaves them are the ones to trust (keeping when they were last checked)."""
    with _STAMP_LOCK:  # never after another thread of this process forgot them
        try:
            key = (str(db_path.resolve()), db_path.stat().st_ino)
            kept = json.loads(Path(f"{db_path}{STAMP_SUFFIX}").read_text())
            checked_at = float(kept["checked_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        if key in _checked:
            _write_stamp(db_path, {**_file_stamp(db_path), "checked_at": checked_at})


def _forget_clean(db_path: Path) -> None:
    """A process that left the store through a database error: the next command checks it."""
    with _STAMP_LOCK:
        try:
            _checked.discard((str(db_path.resolve()), db_path.stat().st_ino))
        except OSError:
            pass
        Path(f"{db_path}{STAMP_SUFFIX}").unlink(missing_ok=True)


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in str(exc)
