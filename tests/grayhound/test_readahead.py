"""Reading ahead on connections of their own (`grayhound/store/readahead.py`): what the caller
reads is the same with or without it, a reader's error changes nothing, no reader thread
outlives the reading, and it starts only when a batch waited for the disk."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

import grayhound.store.pricing as pricing
import grayhound.store.readahead as readahead
from tests.reports.conftest import judge_as, phone_listing

LISTINGS = 1_200  # a first batch of 50, then batches of 500: three of them


@pytest.fixture
def listing_ids(store) -> list[int]:
    """LISTINGS listings seen in two runs, each judged a catalog model."""
    ids = []
    for day in (1, 2):
        at = f"2026-02-0{day}T10:00:00.000Z"
        run = store.start_run(["bazaar"], at)
        for key in range(LISTINGS):
            listing = phone_listing("bazaar", key, f"{600 + key % 7 * day}.00")
            ids.append(store.record_listing(run, "bazaar", listing, None, at)[0])
        store.finish_run(run, at, "finished", {})
    ids = sorted(set(ids))
    judge_as(store, ids)
    store.db.conn.commit()  # the readers' own connections see the store
    return ids[::-1]  # in no useful order


def _read(store, listing_ids) -> list[tuple]:
    trails = store.listings_price_trails(listing_ids)
    return [(listing_id, *row.values()) for listing_id, trail in trails for row in trail]


def _count_reads(monkeypatch) -> list:
    read_ahead = []
    original = readahead.ReadAhead._read

    def counted(self, params):
        read_ahead.append(params)
        return original(self, params)

    monkeypatch.setattr(readahead.ReadAhead, "_read", counted)
    return read_ahead


def test_the_rows_are_the_same_read_ahead_or_not(store, listing_ids, monkeypatch):
    alone = _read(store, listing_ids)
    assert len(alone) == 2 * LISTINGS
    assert [row[0] for row in alone] == sorted(row[0] for row in alone)  # grouped, in order
    read_ahead = _count_reads(monkeypatch)
    monkeypatch.setattr(readahead, "waits", lambda since: True)
    threads = threading.active_count()
    assert _read(store, listing_ids + listing_ids[:10]) == alone  # a listing's rows once
    # the later batches, 50 listings a read (those not begun when the caller is done are not)
    assert 1 <= len(read_ahead) <= (LISTINGS - 50) // 50
    assert threading.active_count() == threads


def test_the_readers_run_the_statements_the_caller_runs(store, listing_ids, monkeypatch):
    """What is read ahead is what the caller then reads: each of its statements, with the
    parameters it binds, rows found. (A reader's error is ignored: a statement that could not
    run, or one the caller no longer runs, would read nothing of use, unseen.)"""
    ran, failed, caller = [], [], set()

    def strict(self, params):
        conn = self._connection()
        for sql in self.statements:
            try:  # as a reader runs it (`ahead`): one row, the count of the statement's
                ran.append((sql, conn.execute(readahead.ahead(sql), params).fetchone()[0]))
            except sqlite3.Error as error:
                failed.append((sql, error))

    original = store.db.execute

    def execute(sql, params=None):
        caller.add(sql)
        return original(sql, params)

    monkeypatch.setattr(readahead.ReadAhead, "_read", strict)
    monkeypatch.setattr(readahead, "waits", lambda since: True)
    monkeypatch.setattr(store.db, "execute", execute)
    assert len(_read(store, listing_ids)) == 2 * LISTINGS
    assert not failed
    reads = {sql for sql in caller if "json_each" in sql}  # not where the store lies
    assert {sql for sql, _ in ran} == reads == set(pricing.LISTINGS_TRAILS_STATEMENTS)
    assert all(rows for _, rows in ran)  # 50 listings' latest rows, then their 100 prices


def _columns_read(conn, sql: str, params) -> set[tuple[int, int]]:
    """The (root page, column) pairs of the store's tables and indexes `sql` reads."""
    program = conn.execute(f"EXPLAIN {sql}", params).fetchall()
    roots = {row[2]: row[3] for row in program if row[1] == "OpenRead"}  # cursor -> root page
    return {(roots[row[2]], row[3]) for row in program if row[1] == "Column" and row[2] in roots}


def test_a_reader_runs_each_statement_in_one_step_reading_what_it_reads(store, listing_ids):
    """A reader's statement gives one row (one step: no lock taken back a row at a time), and
    SQLite reads for it every column of every table and index the caller's statement reads
    (not an index alone, as a count could)."""
    params = pricing._json(listing_ids[:50])
    # a count of this one, folded into it, would read the (listing, run) index alone
    prices = "SELECT price FROM observations WHERE listing_id IN (SELECT value FROM json_each(?))"
    for sql in (*pricing.LISTINGS_TRAILS_STATEMENTS, prices):
        rows = store.db.conn.execute(sql, params).fetchall()
        assert rows
        assert store.db.conn.execute(readahead.ahead(sql), params).fetchall() == [(len(rows),)]
        read = _columns_read(store.db.conn, sql, params)
        assert read and _columns_read(store.db.conn, readahead.ahead(sql), params) == read


def test_the_caller_reads_the_same_whatever_the_readers_meet(store, listing_ids, monkeypatch):
    expected = _read(store, listing_ids)
    monkeypatch.setattr(readahead, "waits", lambda since: True)
    monkeypatch.setattr(pricing, "database_file", lambda db: "/nonexistent/grayhound.db")
    assert _read(store, listing_ids) == expected
    ahead = readahead.ReadAhead(store.path, "SELECT * FROM no_such_table", [[], [], []])
    ahead.close()  # its readers' errors end their reading, nothing else
    assert ahead.connections == {}


def test_no_reader_outlives_a_reading_stopped_early(store, listing_ids, monkeypatch):
    monkeypatch.setattr(readahead, "waits", lambda since: True)
    threads = threading.active_count()
    rows = store.listings_price_trails(listing_ids)
    for _ in range(50 + 1):  # into the second batch: the readers have started
        next(rows)
    assert threading.active_count() > threads
    rows.close()
    assert threading.active_count() == threads


def test_reading_ahead_starts_after_a_batch_read_from_the_disk(monkeypatch):
    started = []
    monkeypatch.setattr(
        readahead.ReadAhead, "__init__", lambda self, path, sql, params: started.append(params)
    )
    monkeypatch.setattr(readahead.ReadAhead, "close", lambda self: None)
    from_disk = []
    monkeypatch.setattr(readahead, "waits", lambda since: from_disk[-1])
    batches = [[1, 2], [3, 4, 5], [6]]

    def rows(slow=()):
        def read(batch):
            from_disk.append(batch[0] in slow)
            return batch

        return list(readahead.read_in_batches(read, batches, "x.db", "sql", lambda b: b, 2))

    assert rows() == [1, 2, 3, 4, 5, 6] and started == []  # no batch read from the disk
    assert rows(slow=[3]) == [1, 2, 3, 4, 5, 6]
    assert started == [[[6]]]  # after the second batch: the third, in parts of 2
    started.clear()
    assert rows(slow=[1, 3]) == [1, 2, 3, 4, 5, 6]
    assert started == [[[3, 4], [5, 6]]]  # begun once, after the first
    started.clear()
    assert rows(slow=[6]) == [1, 2, 3, 4, 5, 6] and started == []  # nothing left to read


def _spun(since) -> bool:
    """`waits(since)` after 50 ms on this thread's CPU."""
    while time.thread_time() - since[1] < 0.05:
        pass
    return readahead.waits(since)


def test_a_batch_that_read_blocks_from_the_disk_and_waited_for_them_waits(monkeypatch):
    blocks = [100]
    monkeypatch.setattr(readahead, "blocks_read", lambda: blocks[0])
    since = readahead.mark()
    time.sleep(0.05)
    blocks[0] += readahead.DISK_BLOCKS - 1
    assert not readahead.waits(since)  # too few blocks, however long it waited
    blocks[0] += 1
    assert readahead.waits(since)
    # blocks read at once (from the page cache of a virtual disk's host): the batch ran on
    # this thread's CPU all along (but where the machine was busy: one of three is enough)
    runs = []
    for _ in range(3):
        since = readahead.mark()
        blocks[0] += 10 * readahead.DISK_BLOCKS
        runs.append(_spun(since))
    assert not all(runs)


def test_a_file_read_from_the_disk_is_counted(tmp_path):
    import os

    if readahead.blocks_read() is None or not hasattr(os, "posix_fadvise"):
        pytest.skip("this system does not count a thread's disk reads")
    path = tmp_path / "blocks"
    path.write_bytes(os.urandom(4 << 20))
    with open(path, "rb") as file:
        os.fsync(file.fileno())
        os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)  # out of the page cache
        since = readahead.mark()
        file.read()
    if readahead.blocks_read() == since[2]:
        pytest.skip(f"{tmp_path} is not read from a disk (a file system in memory)")
    assert readahead.blocks_read() - since[2] >= readahead.DISK_BLOCKS  # 4 MiB: 8,192 blocks
    since = readahead.mark()
    path.read_bytes()  # now in the page cache
    assert readahead.blocks_read() == since[2]
    assert not readahead.waits(since)


def test_where_blocks_are_not_counted_waiting_is_time_off_this_threads_cpu(monkeypatch):
    monkeypatch.setattr(readahead, "blocks_read", lambda: None)
    since = readahead.mark()
    time.sleep(0.05)
    assert readahead.waits(since)
    assert not readahead.waits(readahead.mark())  # too short to tell

    # 50 ms on this thread's CPU: not waiting (unless the machine was busy)
    assert not all(_spun(readahead.mark()) for _ in range(3))


def test_a_trail_ends_with_the_latest_observation_it_read(store, listing_ids, monkeypatch):
    """A listing's latest observation and its trail are two statements: one a crawl stores
    between them (a later run) is in neither, so the trail still ends with its latest row,
    after the earlier observations only."""
    wanted = sorted(listing_ids)[:3]
    original = store.db.execute
    later = []

    def execute(sql, params=None):
        if sql == pricing.LISTINGS_TRAILS_SQL and not later:  # after the latest rows' read
            at = "2026-02-03T10:00:00.000Z"
            run = store.start_run(["bazaar"], at)
            for key in range(3):
                later.append(
                    store.record_listing(
                        run, "bazaar", phone_listing("bazaar", key, "1.00"), None, at
                    )[0]
                )
        return original(sql, params)

    monkeypatch.setattr(store.db, "execute", execute)
    trails = dict(store.listings_price_trails(wanted))
    assert sorted(later) == wanted == sorted(trails)  # the three listings seen a third time
    for listing_id, trail in trails.items():
        assert [row["crawl_run_id"] for row in trail] == [1, 2]
        assert trail[-1]["price"] != "1.00" and trail[-1]["listing_id"] == listing_id
        assert trail[-1]["title"]  # the latest row is whole
