"""A detection's judge pass records findings without statement journals (issue 19, round 40).

A statement that writes more than one row (a finding's insert fires its triggers) and may
abort makes SQLite copy every page it writes before writing it, so that statement alone can be
undone; past 64 KiB the copy spills to a temporary file (`etilqs_*`). At a million listings a
daily detection wrote 545,000 pages to such files: every finding's insert (its `NOT NULL`
columns and its foreign key to `crawl_runs`), and the gone listings' closes (a savepoint inside
the chunk's transaction). `Findings.journal_free` around the pass makes neither keep one; the
foreign key is checked once, and is enforced again after the pass."""

from __future__ import annotations

import os
import random
import sqlite3
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest

from grayhound.store import open_store
from tests.grayhound.test_finding_queues import _finding

ON_LINUX = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads the open files from /proc/self/fd"
)
NOW = "2026-12-07T00:00:00Z"
JUDGED = 1000  # listings judged the day before
GONE = range(401, JUDGED + 1, 15)  # gone since: their findings on pages all over the table
# extra pages for every insert, so that the old statement journal spills to a file in a
# small store: each side table's row lands on a page that was there before
SIDE_TABLES = 24


def _temporary_files() -> list[str]:
    """The SQLite temporary files this process holds open (a statement journal spilled)."""
    names = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if "etilqs_" in target:
            names.append(target)
    return names


def _store_with_wide_writes(path: Path):
    """A store whose every finding insert also writes rows far apart in many tables (a
    trigger that cannot abort, as the store's own are), as at a million listings each insert
    touches pages all over its indexes and queues."""
    store = open_store(path)
    db = store.db
    body = []
    for n in range(SIDE_TABLES):
        db.execute(f"CREATE TABLE side_{n} (k INTEGER PRIMARY KEY, pad TEXT)")
        db.conn.executemany(
            f"INSERT INTO side_{n} VALUES (?, ?)", [(k * 1000, "x" * 900) for k in range(400)]
        )
        # next to an existing row (one per page), never equal to one: unique per finding
        body.append(f"INSERT OR FAIL INTO side_{n} VALUES (new.id * 1000 + {n + 1}, 'y')")
    db.execute(f"CREATE TRIGGER wide AFTER INSERT ON findings BEGIN {'; '.join(body)}; END")
    db.conn.commit()  # the inserts' implicit transaction
    return store


def _record_day(store, run_id: int, listings: range, *, journal_free: bool) -> list[list[str]]:
    """A day's judgements of `listings` (each replacing the current finding) and the end of
    `GONE`, in one transaction as the judge pass records a chunk; the temporary files
    open after the inserts and after the closes."""
    seen = []
    before = set(_temporary_files())  # other connections' own (a sorter, a temporary table)
    rows = [_finding(n, 0.9) for n in listings]
    gone = {n: "gone: test" for n in GONE}
    with store.journal_free(run_id) if journal_free else nullcontext():
        with store.db.atomic():
            store.record_judgements(rows, run_id, NOW)
            seen.append(sorted(set(_temporary_files()) - before))
            store.end_findings("listing", gone, NOW)
            seen.append(sorted(set(_temporary_files()) - before))
    return seen


def _judged_store(tmp_path):
    store = _store_with_wide_writes(tmp_path / "grayhound.db")
    run_id = store.start_run(["test"], NOW)
    store.record_findings([_finding(n, 0.2) for n in range(1, JUDGED + 1)], run_id, NOW)
    return store, run_id


@ON_LINUX
def test_a_chunk_recorded_inside_journal_free_spills_no_statement_journal(tmp_path):
    store, run_id = _judged_store(tmp_path)
    with store:
        assert _record_day(store, run_id, range(1, 401), journal_free=True) == [[], []]
        current = store.db.execute(
            "SELECT COUNT(*) FROM findings WHERE is_current = 1 AND score = 0.9"
        ).fetchone()[0]
        ended = store.db.execute(
            "SELECT COUNT(*) FROM findings WHERE ended_why = 'gone: test'"
        ).fetchone()[0]
        assert (current, ended) == (400, len(GONE))
        # the keys are enforced again once the pass is over
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


@ON_LINUX
def test_the_same_chunk_outside_spills_one_the_measure_sees_it(tmp_path):
    """What the test above would see without `journal_free`: the statement journal spilled
    to a file inside the chunk's transaction (so the test above can fail)."""
    store, run_id = _judged_store(tmp_path)
    with store:
        seen = _record_day(store, run_id, range(1, 401), journal_free=False)
        assert seen[0], "the finding inserts kept no statement journal even with foreign keys"


def test_the_foreign_key_is_checked_once_and_enforced_outside_the_pass(tmp_path):
    store, run_id = _judged_store(tmp_path)
    with store:
        with pytest.raises(ValueError, match="crawl run 999 is not in the store"):
            with store.journal_free(999):
                pass
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            store.record_findings([_finding(5000, 0.9)], 999, NOW)
        # begun inside a transaction, nothing changes: nothing checked, the key enforced
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            with store.db.atomic(), store.journal_free(999):
                store.record_judgements([_finding(5001, 0.9)], 999, NOW)
        # an error inside the pass leaves the keys enforced and the chunk rolled back
        with pytest.raises(RuntimeError, match="stop"):
            with store.journal_free(run_id), store.db.atomic():
                store.record_judgements([_finding(6000, 0.9)], run_id, NOW)
                raise RuntimeError("stop")
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert not store.db.execute("SELECT 1 FROM findings WHERE subject_id = 6000").fetchone()
        # a transaction the pass leaves open is rolled back, so that the keys are enforced
        # again: named on a normal end, the interrupt itself on an interrupted one
        with pytest.raises(RuntimeError, match="left a transaction open"):
            with store.journal_free(run_id):
                store.db.execute("BEGIN")
                store.record_judgements([_finding(6001, 0.9)], run_id, NOW)
        with pytest.raises(KeyboardInterrupt):
            with store.journal_free(run_id):
                store.db.execute("BEGIN")
                store.record_judgements([_finding(6002, 0.9)], run_id, NOW)
                raise KeyboardInterrupt
        assert not store.db.conn.in_transaction
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert not store.db.execute(
            "SELECT 1 FROM findings WHERE subject_id IN (6001, 6002)"
        ).fetchone()


def test_a_daily_detection_writes_no_other_foreign_key_while_the_keys_are_off(
    tmp_path, monkeypatch
):
    """What `journal_free`'s pragma relies on, over a real daily detection (prices moved,
    listings gone): the judge pass, itself and through every trigger, writes no table with a
    foreign key but `findings`, and no table another's key points to; the same connection
    checks foreign keys again for the passes after it; the store holds no orphan."""
    from grayhound.config import load_config
    from grayhound.detection import detect_findings
    from grayhound.store.findings import Findings
    from tests.grayhound.test_incremental import Market, write_config

    writes = {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE}
    written, keys_on = set(), []

    def noted(action, table, _column, _database, _trigger):
        if action in writes and not table.startswith("sqlite_"):
            written.add(table)
        return sqlite3.SQLITE_OK

    journal_free = Findings.journal_free
    record = Findings.record_judgements

    @contextmanager
    def watched_pass(self, run_id):
        with journal_free(self, run_id):
            self.db.conn.set_authorizer(noted)  # sees every statement prepared, triggers too
            try:
                yield
            finally:
                self.db.conn.set_authorizer(None)

    def watched_record(self, *args, **kwargs):
        keys_on.append(self.db.execute("PRAGMA foreign_keys").fetchone()[0])
        return record(self, *args, **kwargs)

    monkeypatch.setattr(Findings, "journal_free", watched_pass)
    monkeypatch.setattr(Findings, "record_judgements", watched_record)
    market = Market(random.Random(5), listings=300, sellers=12)
    config = load_config(write_config(tmp_path, []))
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-01T00:00:00.000Z")
    detect_findings(config)
    for n, item in enumerate(market.listings.values()):
        item["price"] = round(item["price"] * 0.5, 2)
        item["gone"] = n % 10 == 0
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-02T00:00:00.000Z")
    written.clear()
    keys_on.clear()
    daily = detect_findings(config)
    assert daily["changed"] > 0 and daily["work"]["findings_ended"] > 0
    assert {"findings", "pending_sales", "digest_pending", "queue_changes"} <= written
    # the chunks stage their sales; `listing_sales` is set once, after them (round 47: set
    # chunk by chunk, every chunk's commit wrote most sellers' index pages again)
    assert "listing_sales" not in written
    with open_store(config.storage.database) as store:
        children = {
            row[0]
            for row in store.db.execute(
                "SELECT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f"
            )
        }
        parents = {
            row[0]
            for row in store.db.execute(
                'SELECT f."table" FROM sqlite_master m, pragma_foreign_key_list(m.name) f'
            )
        }
        assert written & children == {"findings"}
        assert not written & parents
        (orphans,) = store.db.execute(
            "SELECT COUNT(*) FROM findings f LEFT JOIN crawl_runs r ON r.id = f.crawl_run_id"
            " WHERE f.crawl_run_id IS NOT NULL AND r.id IS NULL"
        ).fetchone()
        assert orphans == 0
    # the judge pass's chunks with the keys off, then the sellers' verdicts (the same
    # connection, after the pass) with them on again
    assert keys_on[0] == 0 and keys_on[-1] == 1
