"""Serve's change log (`grayhound.store.queuelog`, issue 19 round 14): appended to by triggers,
compacted to each subject's newest entry when it grows, and made so from an older store's log
(one entry per subject, kept unique by its triggers) without losing what a server had not yet
taken in."""

from __future__ import annotations

import pytest

from tests.serve.conftest import build_store, write_config

LOG = "queue_changes"
PRICED = "SELECT COUNT(*) FROM listings WHERE price IS NOT NULL"
# an older grayhound's log: one entry per subject, moved to the end by DELETE + INSERT
OLDER_TABLE = (
    "CREATE TABLE queue_changes (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " subject_kind TEXT NOT NULL, subject_id INTEGER NOT NULL, UNIQUE (subject_id, subject_kind))"
)
OLDER_TRIGGER = (
    "CREATE TRIGGER queue_listing_changed AFTER UPDATE ON listings"
    " WHEN old.price IS NOT new.price BEGIN"
    " DELETE FROM queue_changes WHERE subject_kind = 'listing' AND subject_id = new.id;"
    " INSERT INTO queue_changes (subject_kind, subject_id) VALUES ('listing', new.id); END"
)


def _answers(db) -> dict[int, set]:
    """What every reader of the log asks, for every mark a server may hold: the subjects
    logged after it."""
    ids = [row[0] for row in db.execute(f"SELECT id FROM {LOG} ORDER BY id")]
    rows = db.execute(f"SELECT id, subject_kind, subject_id FROM {LOG}").fetchall()
    return {
        mark: {(kind, subject) for entry, kind, subject in rows if entry > mark}
        for mark in [0, *ids]
    }


def _count(db) -> int:
    return db.execute(f"SELECT COUNT(*) FROM {LOG}").fetchone()[0]


def _seq(db) -> int:
    return db.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", [LOG]).fetchone()[0]


def _move_prices(db, step: float) -> None:
    with db.conn:  # committed
        db.execute("UPDATE listings SET price = price + ?", [step])


def test_a_changed_subject_is_appended_and_compaction_keeps_what_every_mark_sees(
    tmp_path, monkeypatch
):
    """Each change appends (no entry is deleted or moved by a trigger); once more entries were
    appended than the store has subjects, compaction keeps each subject's newest entry, and
    for every mark a server may hold the subjects logged after it are the same."""
    from grayhound.config import load_config
    from grayhound.store import open_store, queuelog

    monkeypatch.setattr(queuelog, "COMPACT_FLOOR", 0)
    config = load_config(write_config(tmp_path))
    build_store(config)
    with open_store(config.storage.database) as store:
        db = store.db
        listings = db.execute(PRICED).fetchone()[0]
        with db.atomic():
            queuelog.compact_log(db)  # whatever the build left, from here on counted
        before, seq = _count(db), _seq(db)
        for step in (1.0, 2.0, 3.0):
            _move_prices(db, step)
        assert _count(db) == before + 3 * listings  # appended, every change
        assert _seq(db) == seq + 3 * listings
        answers = _answers(db)
        with db.atomic():
            dropped = queuelog.compact_log(db)
        assert dropped > 0
        # every mark a server held before still sees what it saw (the dropped entries' too)
        for mark, subjects in answers.items():
            newer = {
                (kind, subject)
                for kind, subject in db.execute(
                    f"SELECT subject_kind, subject_id FROM {LOG} WHERE id > ?", [mark]
                )
            }
            assert newer == subjects, mark
        distinct = db.execute(
            f"SELECT COUNT(*) FROM (SELECT DISTINCT subject_kind, subject_id FROM {LOG})"
        ).fetchone()[0]
        assert _count(db) == distinct
        assert _seq(db) == seq + 3 * listings  # the sequence goes on: no id is given twice
        with db.atomic():
            assert queuelog.compact_log(db) == 0  # not due again until as many more


def _subjects(db) -> int:
    return db.execute(
        "SELECT (SELECT MAX(id) FROM listings) + 2 * (SELECT MAX(id) FROM sellers)"
    ).fetchone()[0]


def _crawl_run(store) -> None:
    """A crawl run's start and finish (what the crawler's pipeline records around its pages)."""
    run = store.start_run(["bazaar"], "2026-12-04T00:00:00+00:00")
    store.finish_run(run, "2026-12-04T00:01:00+00:00", "finished", {})


@pytest.mark.parametrize(("crawled", "allowance"), [(True, 1), (False, 4)])
def test_a_store_nobody_serves_keeps_a_bounded_log_day_after_day(
    tmp_path, monkeypatch, crawled, allowance
):
    """Day after day, prices move and detect runs, no server: the log stays within the
    store's subjects, the allowance of subjects appended since the last compaction (one when
    a crawl finishes each day, `DETECT_ALLOWANCE` when only detect runs) and one day's
    entries. Without compaction it grows by every day's changes."""
    from grayhound.config import load_config
    from grayhound.pipeline import detect
    from grayhound.store import open_store, queuelog

    monkeypatch.setattr(queuelog, "COMPACT_FLOOR", 0)
    assert queuelog.DETECT_ALLOWANCE == 4
    config = load_config(write_config(tmp_path))
    build_store(config)
    largest_day = 0
    for day in range(30):
        with open_store(config.storage.database) as store:
            start = _seq(store.db)
            _move_prices(store.db, 1.0 + day % 3)
            if crawled:
                _crawl_run(store)
        detect(config)
        with open_store(config.storage.database) as store:
            db = store.db
            largest_day = max(largest_day, _seq(db) - start)
            subjects = _subjects(db)
            assert _count(db) <= (1 + allowance) * subjects + largest_day, day
            appended = _seq(db)
    # enough days that an uncompacted log would break the bound
    assert appended > (2 + allowance) * subjects + largest_day


def test_a_server_that_took_entries_in_moves_the_compaction_mark(tmp_path, monkeypatch):
    """The entries a server took in are dropped, and compaction counts from there: a served
    store's log is not compacted for entries that are gone."""
    from grayhound.config import load_config
    from grayhound.store import open_store, queuelog

    monkeypatch.setattr(queuelog, "COMPACT_FLOOR", 0)
    config = load_config(write_config(tmp_path))
    build_store(config)
    with open_store(config.storage.database) as store:
        db = store.db
        for step in range(1, 12):
            _move_prices(db, float(step))
        assert _seq(db) > 2 * _subjects(db)  # due for compaction
        with db.atomic():
            queuelog.taken_in(db, _seq(db) - 1)
        assert [tuple(row) for row in db.execute(f"SELECT id FROM {LOG}")] == [(_seq(db),)]
        with db.atomic():
            assert queuelog.compact_log(db) == 0
        assert db.execute(f"SELECT upto FROM {LOG}_compacted").fetchall() == [(_seq(db) - 1,)]


@pytest.mark.parametrize("served", [False, True])
def test_an_older_stores_log_is_made_append_only_and_loses_nothing_a_server_had_not_taken(
    tmp_path, served
):
    """A store whose log kept one entry per subject (migration 0013's unique index) is made
    again by migration 0020: the same entries under the same ids, the sequence where it was
    (a server's mark stays valid, even when the server took in and dropped every entry), no
    unique index, and its triggers append."""
    from grayhound.config import load_config
    from grayhound.store import open_store
    from grayhound.store.queuelog import TRIGGERS

    config = load_config(write_config(tmp_path))
    build_store(config)
    with open_store(config.storage.database) as store:
        db = store.db
        for name in [*TRIGGERS, "queue_digest_item"]:
            db.execute(f"DROP TRIGGER {name}")
        entries = db.execute(  # as the older log held them: each subject's newest
            f"SELECT MAX(id), subject_kind, subject_id FROM {LOG} GROUP BY 2, 3"
        ).fetchall()
        db.execute(f"DROP TABLE {LOG}")
        db.execute(f"DROP TABLE {LOG}_compacted")
        db.execute(OLDER_TABLE)
        db.conn.executemany(f"INSERT INTO {LOG} VALUES (?, ?, ?)", entries)
        # a server took in up to entry 10**6 - 1: the older log's sequence ran on past it
        db.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", [10**6, LOG])
        db.execute(OLDER_TRIGGER)
        listing = db.execute("SELECT MIN(id) FROM listings").fetchone()[0]
        _move_prices(db, 1.0)  # logged by the older trigger
        assert db.execute(f"SELECT 1 FROM {LOG} WHERE id = ?", [10**6 + 1]).fetchone()
        if served:  # a server took in every entry, and dropped them (as `serve` does)
            db.execute(f"DELETE FROM {LOG}")
        db.execute("DELETE FROM _migrations WHERE name = '0020_issue19_append_only_change_log'")
        db.conn.commit()
        older = db.execute(f"SELECT id, subject_kind, subject_id FROM {LOG} ORDER BY id").fetchall()
        seq = _seq(db)
    with open_store(config.storage.database) as store:  # migrates
        db = store.db
        assert (
            db.execute(f"SELECT id, subject_kind, subject_id FROM {LOG} ORDER BY id").fetchall()
            == older
        )
        assert _seq(db) == seq
        assert not db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [LOG]
        ).fetchall()
        for step in (1.0, 2.0):
            _move_prices(db, step)
        logged = db.execute(
            f"SELECT id FROM {LOG} WHERE subject_kind = 'listing' AND subject_id = ? AND id > ?",
            [listing, seq],
        ).fetchall()
        assert len(logged) == 2  # appended twice, after every id the older log gave
        # compaction counts from the log's sequence as it was made again
        assert db.execute(f"SELECT upto FROM {LOG}_compacted").fetchall() == [(seq,)]


@pytest.mark.parametrize("where", ["detect", "crawl"])
def test_compaction_runs_where_the_store_is_written_every_day(tmp_path, monkeypatch, where):
    """Both daily writers compact the log when it is due: a crawl as its run finishes (a
    store crawled but neither judged nor served), the detection as it ends once the log is
    past its larger allowance (`DETECT_ALLOWANCE`)."""
    from grayhound.config import load_config
    from grayhound.pipeline import detect
    from grayhound.store import open_store, queuelog

    monkeypatch.setattr(queuelog, "COMPACT_FLOOR", 0)
    config = load_config(write_config(tmp_path))
    build_store(config)
    with open_store(config.storage.database) as store:
        db = store.db
        rounds = 1
        while _seq(db) <= (queuelog.DETECT_ALLOWANCE + 1) * _subjects(db):
            _move_prices(db, float(rounds))
            rounds += 1
        grown = _count(db)
        if where == "crawl":
            _crawl_run(store)
    if where == "detect":
        detect(config)
    with open_store(config.storage.database) as store:
        distinct = store.db.execute(
            f"SELECT COUNT(*) FROM (SELECT DISTINCT subject_kind, subject_id FROM {LOG})"
        ).fetchone()[0]
        assert _count(store.db) == distinct < grown
