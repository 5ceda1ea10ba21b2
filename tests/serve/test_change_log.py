"""Serve's change log (`grayhound.store.queuelog`, issue 19 round 14): appended to by triggers,
compacted to each subject's newest entry when it grows, and made so from an older store's log
(one entry per subject, kept unique by its triggers) without losing what a server had not yet
taken in."""

from __future__ import annotations

import pytest

from tests.serve.conftest import build_store, write_config

LOG = "queue_changes"
PRICED = "SELECT COUNT(*) FROM listings WHERE price IS NOT NULL"
# an older grayhound's log (migration 0013 to 0019): one entry per subject, moved last by a
# DELETE and an INSERT in each of its triggers
OLDER_TABLE = (
    "CREATE TABLE queue_changes (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " subject_kind TEXT NOT NULL, subject_id INTEGER NOT NULL, UNIQUE (subject_id, subject_kind))"
)


def _older_triggers() -> dict[str, tuple[str, str]]:
    """Every trigger of the older log, as grayhound made them before migration 0020."""
    from grayhound.store.changes import requeue
    from grayhound.store.queuelog import TRIGGERS

    triggers = {
        name: (
            f"{event} WHEN {when}" if when else event,
            requeue(
                LOG,
                {"subject_kind": kind, "subject_id": subject},
                fail=event.endswith("ON findings"),
            ),
        )
        for name, (event, when, kind, subject) in TRIGGERS.items()
    }
    triggers["queue_digest_item"] = (
        "AFTER INSERT ON digest_items",
        requeue(
            LOG,
            {"subject_kind": "subject_kind", "subject_id": "subject_id"},
            "FROM cases WHERE id = new.case_id",
            "(subject_kind, subject_id) = (SELECT subject_kind, subject_id FROM cases"
            " WHERE id = new.case_id)",
        ),
    )
    return triggers


def _no_floor(monkeypatch) -> None:
    """Compaction due by the store's subjects alone (a test store has a handful)."""
    from grayhound.store import queuelog

    monkeypatch.setattr(queuelog, "COMPACT_FLOOR", 0)


def _built(tmp_path, monkeypatch=None):
    """A built and judged store's config (`build_store`); with `monkeypatch`, `_no_floor`."""
    from grayhound.config import load_config

    if monkeypatch is not None:
        _no_floor(monkeypatch)
    config = load_config(write_config(tmp_path))
    build_store(config)
    return config


def _distinct(db) -> int:
    """How many subjects the log names."""
    sql = f"SELECT COUNT(*) FROM (SELECT DISTINCT subject_kind, subject_id FROM {LOG})"
    return db.execute(sql).fetchone()[0]


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
    from grayhound.store import open_store, queuelog

    config = _built(tmp_path, monkeypatch)
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
        distinct = _distinct(db)
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
    from grayhound.pipeline import detect
    from grayhound.store import open_store, queuelog

    _no_floor(monkeypatch)
    assert queuelog.DETECT_ALLOWANCE == 4
    config = _built(tmp_path)
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
    from grayhound.store import open_store, queuelog

    config = _built(tmp_path, monkeypatch)
    with open_store(config.storage.database) as store:
        db = store.db
        listings = db.execute(PRICED).fetchone()[0]
        for step in range(1, 12):
            _move_prices(db, float(step))
        assert _seq(db) > 2 * _subjects(db)  # due for compaction
        taken = _seq(db) - 2 * listings  # the last two moves not yet taken in
        with db.atomic():
            queuelog.taken_in(db, taken)
        left = _count(db)
        assert left == 2 * listings  # each priced listing twice: compaction would drop half
        with db.atomic():
            assert queuelog.compact_log(db) == 0
        assert _count(db) == left
        assert db.execute(f"SELECT upto FROM {LOG}_compacted").fetchall() == [(taken,)]


@pytest.mark.parametrize("served", [False, True])
def test_an_older_stores_log_is_made_append_only_and_loses_nothing_a_server_had_not_taken(
    tmp_path, served
):
    """A store whose log kept one entry per subject (migration 0013's unique index) is made
    again by migration 0020: the same entries under the same ids, the sequence where it was
    (a server's mark stays valid, even when the server took in and dropped every entry), no
    unique index, and its triggers append."""
    from grayhound.store import open_store
    from grayhound.store.changes import replace_triggers

    config = _built(tmp_path)
    older_triggers = _older_triggers()
    with open_store(config.storage.database) as store:
        db = store.db
        for name in older_triggers:
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
        replace_triggers(db, older_triggers)
        listing = db.execute("SELECT MIN(id) FROM listings").fetchone()[0]
        _move_prices(db, 1.0)  # logged by the older triggers, each listing once
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
        # every trigger that names the log appends to it, none deletes from it
        made = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
        logging = {name for name, sql in made.items() if LOG in sql}
        assert logging == set(older_triggers)
        assert not [name for name in logging if f"DELETE FROM {LOG}" in made[name]]
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
    from grayhound.pipeline import detect
    from grayhound.store import open_store, queuelog

    config = _built(tmp_path, monkeypatch)
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
        distinct = _distinct(store.db)
        assert _count(store.db) == distinct < grown


def _day(config, price: str) -> None:
    """A crawl of the served store's pages with two prices moved, then `detect`."""
    from grayhound.pipeline import detect
    from tests.evidence.conftest import simulate_run
    from tests.serve.conftest import OFFERS, offer_page

    moved = [(path, title, price, seller) for path, title, _, seller in OFFERS[0:3:2]]
    pages = [offer_page(*offer) for offer in (moved[0], OFFERS[1], moved[1], *OFFERS[3:])]
    simulate_run(config, pages)
    detect(config)


def test_a_kept_queue_taken_across_compactions_is_the_queue_made_from_scratch(
    tmp_path, client_for, monkeypatch
):
    """Day after day with the log compacted by crawls and detects between the server's
    refreshes: what the server shows is what deriving the queue from scratch gives."""
    from grayhound.store import open_store, queuelog
    from tests.serve.test_queue import assert_as_derived, served_queue

    _no_floor(monkeypatch)
    dropped, due, compact = [], queuelog._due, queuelog.compact_log
    # due whenever an entry was appended since the last compaction
    monkeypatch.setattr(queuelog, "_due", lambda db, allowance: due(db, 0))
    monkeypatch.setattr(
        queuelog, "compact_log", lambda *args: dropped.append(compact(*args)) or dropped[-1]
    )
    config = _built(tmp_path)
    client = client_for(config)
    client.sign_in()
    served_queue(client)
    for day, price in enumerate(["199.00", "299.00", "39.00", "999.00", "49.00", "399.00"]):
        _day(config, price)
        if day % 2:
            client = client_for(config)
            client.sign_in()
            assert_as_derived(served_queue(client), config)
    assert any(dropped)  # the log was compacted between the refreshes
    with open_store(config.storage.database) as store:
        assert _count(store.db) < _seq(store.db)


def test_a_compaction_between_a_refreshs_marks_and_its_read_of_the_log_loses_nothing(
    tmp_path, client_for, monkeypatch
):
    """Every subject changes again and the log is compacted after a refresh read its marks,
    before it read the log: the next refresh shows what deriving from scratch gives."""
    from grayhound.store import open_store, queue, queuelog
    from reports.serve import derived
    from tests.serve.test_queue import assert_as_derived, served_queue

    config = _built(tmp_path, monkeypatch)
    client = client_for(config)
    client.sign_in()
    served_queue(client)
    _day(config, "199.00")
    original, dropped = queue.changed_cases, []

    def racing(conn, after, upto):
        with open_store(config.storage.database) as store, store.db.atomic():
            db = store.db
            db.execute("UPDATE listings SET title = title || ' x'")
            db.execute("UPDATE sellers SET name = name || ' x'")
            db.execute("UPDATE network_members SET is_current = 1 - is_current")
            db.execute(f"UPDATE {LOG}_compacted SET upto = 0")  # due
            dropped.append(queuelog.compact_log(db))
        return original(conn, after, upto)

    monkeypatch.setattr(queue, "changed_cases", racing)
    client = client_for(config)
    client.sign_in()
    served_queue(client)
    assert dropped and dropped[0] > 0
    # the next refresh takes in what was logged since (the race wrote more entries than the
    # queue has rows, which would derive it whole and compare nothing)
    taken = []
    monkeypatch.setattr(derived, "_more_rows_than", lambda conn, entries: False)
    monkeypatch.setattr(queue, "changed_cases", lambda *args: taken.append(args) or original(*args))
    client = client_for(config)
    client.sign_in()
    assert_as_derived(served_queue(client), config)
    assert len(taken) == 1


def test_detects_compaction_waits_for_another_writer_instead_of_failing(tmp_path, monkeypatch):
    """Another process holds the write lock (a crawl's batch) as detect ends and compaction
    is due: compaction waits for the lock, as every write does, instead of failing at once
    with "database is locked" (a transaction that read first cannot write after another
    committed) once the findings were committed."""
    import sqlite3
    import threading

    import grayhound.detection
    from grayhound.pipeline import detect
    from grayhound.store import open_store, queuelog
    from grayhound.store.core import database_file

    _no_floor(monkeypatch)
    monkeypatch.setattr(queuelog, "DETECT_ALLOWANCE", 0)
    config = _built(tmp_path)
    with open_store(config.storage.database) as store:
        _move_prices(store.db, 1.0)
        path = database_file(store.db)
    judge, other = grayhound.detection.detect_findings, []

    def judged_then_locked(*args, **kwargs):
        counts = judge(*args, **kwargs)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"INSERT INTO {LOG} (subject_kind, subject_id) VALUES ('listing', 1)")
        other.extend([conn, threading.Timer(0.5, conn.execute, ["COMMIT"])])
        other[1].start()
        return counts

    monkeypatch.setattr(grayhound.detection, "detect_findings", judged_then_locked)
    detect(config)
    other[1].join()
    other[0].close()
    with open_store(config.storage.database) as store:
        db = store.db
        distinct = _distinct(db)
        assert _count(db) == distinct  # compacted, the other writer's entry with the rest


@pytest.mark.parametrize("error", ["full", "broken"])
def test_a_crawls_end_stands_when_compaction_fails(tmp_path, monkeypatch, error):
    """Compaction is housekeeping, in a transaction of its own after the crawl run's end:
    when the disk is full, nothing is compacted and nothing fails; any other error (here a
    broken schema) is raised, as any write's. Either way the run's end stands, the partial
    compaction is rolled back and the connection is left with no open transaction."""
    import sqlite3

    from grayhound.store import open_store, queuelog
    from grayhound.store.crawldata import LogCompactionError

    _no_floor(monkeypatch)

    def failing(db, allowance=1):
        db.execute(f"DELETE FROM {LOG} WHERE id = (SELECT MIN(id) FROM {LOG})")
        if error == "broken":
            db.execute("SELECT * FROM no_such_table")
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full
        db.execute("CREATE TABLE filler (x)")
        while True:
            db.execute("INSERT INTO filler VALUES (randomblob(4000))")

    config = _built(tmp_path)
    with open_store(config.storage.database) as store:
        for step in range(1, 12):
            _move_prices(store.db, float(step))  # due
        before = _count(store.db)
        monkeypatch.setattr(queuelog, "compact_log", failing)
        run = store.start_run(["bazaar"], "2026-12-04T00:00:00+00:00")
        if error == "full":
            store.finish_run(run, "2026-12-04T00:01:00+00:00", "finished", {})
        else:
            with pytest.raises(LogCompactionError, match=r"end is recorded \(finished\)") as e:
                store.finish_run(run, "2026-12-04T00:01:00+00:00", "finished", {})
            assert "no such table" in str(e.value)
            assert isinstance(e.value.__cause__, sqlite3.OperationalError)
        assert not store.db.conn.in_transaction
        assert _count(store.db) == before  # its partial delete rolled back
    with open_store(config.storage.database) as store:
        status = store.db.execute("SELECT status FROM crawl_runs WHERE id = ?", [run]).fetchone()
        assert status == ("finished",)
        assert _count(store.db) == before
        assert not store.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'filler'").fetchone()


def test_a_stopped_crawl_whose_compaction_fails_says_its_end_is_recorded(tmp_path, monkeypatch):
    """A crawl stopped because something could not be written ends marked interrupted; when
    the compaction after that end fails, the message says why the crawl stopped and that its
    end is recorded, not that the run could not be marked interrupted."""
    import sqlite3

    from crawler.runner import _finish_run
    from grayhound.errors import GrayhoundError
    from grayhound.store import open_store, queuelog

    def broken(db, allowance=1):
        raise sqlite3.OperationalError("disk I/O error")

    config = _built(tmp_path)
    with open_store(config.storage.database) as store:
        run = store.start_run(["bazaar"], "2026-12-04T00:00:00+00:00")
    monkeypatch.setattr(queuelog, "_due", lambda db, allowance: True)
    monkeypatch.setattr(queuelog, "compact_log", broken)
    with pytest.raises(GrayhoundError) as raised:
        _finish_run(config, run, "interrupted", {}, "the disk is full")
    message = str(raised.value)
    assert message.startswith(f"crawl run {run} stopped: the disk is full; ")
    assert "end is recorded (interrupted)" in message and "disk I/O error" in message
    assert "could not be marked interrupted" not in message
    with open_store(config.storage.database) as store:
        row = store.db.execute("SELECT status, error FROM crawl_runs WHERE id = ?", [run])
        assert row.fetchone() == ("interrupted", "the disk is full")


def test_a_log_not_due_for_compaction_waits_for_no_other_writer(tmp_path):
    """Every crawl's end and every detect ask whether compaction is due: when it is not, the
    question is a read, which waits for no writer (a crawl's batch holding the lock)."""
    import sqlite3

    from grayhound.store import open_store, queuelog
    from grayhound.store.core import database_file

    with open_store(tmp_path / "grayhound.db") as store:
        db = store.db
        db.execute("PRAGMA busy_timeout = 100")  # a wait would end in SQLITE_BUSY: skipped
        other = sqlite3.connect(database_file(db), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            assert queuelog.compact_when_due(db) == 0  # not due, not skipped
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert not db.conn.in_transaction
