"""Reading ahead, on connections of their own, the pages a statement is about to read at random.

A store the OS no longer holds in its page cache (one larger than the memory, or not read for
a while) is read from the disk, and a statement whose rows lie scattered over a table (each
seller's listing with every observation it has) waits for each page in turn: one read in
flight. A disk (an SSD, a virtual disk) serves many reads at once about as fast as one: at
1,000,000 listings, 17,500 listings' observations read from a cold page cache took 8.7 s on
one connection, 4.9 s on four and 2.8 s on sixteen (docs/performance.md, issue 19, round 11).

`ReadAhead` runs the caller's statements on each batch of parameters on `READERS` read-only
connections at once, their rows discarded, ahead of the caller, who reads the same batches in the
same order on its own connection (its own snapshot: what it reads is unchanged) and finds the
pages in the OS page cache. It starts only once one of the caller's batches has waited for the
disk (`waits`): on a store in the page cache it would only spend CPU twice.

A reader runs each statement as one step of SQLite (`ahead`: its rows made into a table in
memory and counted), not a row at a time: each step lets go of Python's lock and takes it back,
and eight readers stepping row by row took it from the caller tens of thousands of times a
second. 40,000 listings' trails at 1,000,000 (issue 19, round 38): on a store in the page
cache, 0.6 s alone, 1.65 s read ahead row by row, 0.87 s as one step; from the disk, 2.25 s
alone, 1.65 s and 1.2 s."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grayhound.store.digestcases import read_only_uri

try:
    import resource
except ImportError:  # not a Unix
    resource = None

READERS = 8
# A batch that made this thread read this many 512-byte blocks from the disk (its I/O
# accounting: Linux) and spent DISK_WAITING_SHARE of its time or more off this thread's CPU
# waited for the disk. Blocks alone are not enough: a store mostly in the page cache has a
# few pages out of it, and a virtual disk's host may serve them at once from its own cache
# (at 1M, a batch of 500 listings' trails read 64-200 blocks, off the CPU 0-15 % of its time;
# from a cold page cache 2,400-55,000 blocks, 42-51 %). Where blocks are not counted: a batch
# that spent more than WAITING_SHARE of its time off this thread's CPU, and at least WAITED
# seconds in all.
DISK_BLOCKS = 64
DISK_WAITING_SHARE = 0.25
WAITING_SHARE = 0.5
WAITED = 0.02
READER_CACHE_KIB = 512  # a reader's own page cache: its pages are wanted in the OS's, not here


def ahead(sql: str) -> str:
    """`sql` as a reader runs it: one row, its rows' count, for which SQLite reads every
    column they give (`MATERIALIZED`: the statement is not folded into the count, which an
    index alone could answer), in one step. Before SQLite 3.35, which has no `MATERIALIZED`,
    `sql` itself (read row by row)."""
    if sqlite3.sqlite_version_info < (3, 35, 0):
        return sql
    return f"WITH ahead AS MATERIALIZED ({sql}) SELECT count(*) FROM ahead"


def blocks_read() -> int | None:
    """The 512-byte blocks this thread has read from the disk (None: not counted here)."""
    if resource is None or not hasattr(resource, "RUSAGE_THREAD"):
        return None
    try:
        return resource.getrusage(resource.RUSAGE_THREAD).ru_inblock
    except (OSError, ValueError):
        return None


def mark() -> tuple[float, float, int | None]:
    """Where this thread's work stands now, for `waits`."""
    return time.perf_counter(), time.thread_time(), blocks_read()


def waits(since: tuple[float, float, int | None]) -> bool:
    """Whether this thread's work since `mark()` gave `since` waited for the disk: it read
    DISK_BLOCKS blocks or more and spent DISK_WAITING_SHARE of its time off the CPU; where
    blocks are not counted, it waited more than it ran."""
    started, cpu_started, blocks = since
    now = blocks_read()
    wall = time.perf_counter() - started
    waited = wall - (time.thread_time() - cpu_started)
    if blocks is not None and now is not None:
        return now - blocks >= DISK_BLOCKS and waited >= DISK_WAITING_SHARE * wall
    return wall >= WAITED and waited > WAITING_SHARE * wall


class ReadAhead:
    """`sql` (a statement, or several run in turn) run on each parameter list of `batches`, in
    order, by `readers` threads with a read-only connection each to the database at `path`;
    `close()` stops what has not begun and waits for the rest. An error in a reader (a store
    being replaced, a lock) only ends its reading ahead: the caller reads the same rows
    itself."""

    def __init__(
        self, path: str | Path, sql: str | Sequence[str], batches: Iterable[list], readers=READERS
    ):
        self.uri = read_only_uri(str(path))
        self.statements = (sql,) if isinstance(sql, str) else tuple(sql)
        self.connections: dict[int, sqlite3.Connection] = {}
        self.pool = ThreadPoolExecutor(readers, thread_name_prefix="grayhound-readahead")
        try:
            for batch in batches:
                self.pool.submit(self._read, batch)
        except RuntimeError:  # no more threads (a process limit): the ones begun go on alone
            pass

    def _read(self, params: list) -> None:
        try:
            conn = self._connection()
            for sql in self.statements:
                conn.execute(ahead(sql), params).fetchall()
        except sqlite3.Error:
            pass

    def _connection(self) -> sqlite3.Connection:
        key = threading.get_ident()
        conn = self.connections.get(key)
        if conn is None:
            conn = sqlite3.connect(self.uri, uri=True, check_same_thread=False)
            conn.execute(f"PRAGMA cache_size = -{READER_CACHE_KIB}")
            self.connections[key] = conn
        return conn

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        for conn in self.connections.values():
            conn.close()
        self.connections.clear()


def read_in_batches(
    read: Callable[[list], Iterable],
    batches: list[list],
    path: str | None,
    sql: str | Sequence[str],
    params: Callable[[list], list],
    ahead_size: int = 50,
) -> Iterator:
    """The rows of `read(batch)` for each batch in order; once a batch has waited for the
    disk (`waits`; and the store's `path` is known), the later batches' pages are read ahead
    (`ReadAhead` with `sql`, the statements `read` runs, and `params(part)` of each part of
    `ahead_size` items of the batches: many small reads at once) while they are read here."""
    readers = None
    try:
        for number, batch in enumerate(batches, start=1):
            since = mark()
            yield from read(batch)
            if readers is None and path and number < len(batches) and waits(since):
                rest = [item for later in batches[number:] for item in later]
                parts = (rest[at : at + ahead_size] for at in range(0, len(rest), ahead_size))
                readers = ReadAhead(path, sql, [params(part) for part in parts])
    finally:
        if readers is not None:
            readers.close()
