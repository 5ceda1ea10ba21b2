"""A changed finding reaches serve's change log and the digest's book queue once (issue 19).

Detection replaces a listing's finding by closing the current row and inserting its successor
in one transaction. Both queues fed from `findings` hold the subject last after it, exactly as
before; the close itself writes neither queue (its successor's insert does), so the daily
detect pays one queue write per queue and changed finding, not two. A finding that ends with
no successor (a gone listing, a merged seller) still queues its subject."""

from __future__ import annotations

from grayhound.models import Seller
from grayhound.store import open_store, utc_now

QUEUES = ("queue_changes", "digest_pending")


def _finding(listing: int, score: float) -> dict:
    return {
        "subject_kind": "listing",
        "subject_id": listing,
        "subject": f"listing {listing}",
        "brand": "xiaomi",
        "score": score,
        "verdict": "suspicious" if score > 0.5 else "clean",
        "flags": ["price_low"] if score > 0.5 else [],
        "reasons": [f"score {score}"],
    }


def _sequence(db, table: str) -> int:
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", [table]).fetchone()
    return row[0] if row else 0


def _last(db, table: str, count: int) -> list[tuple[str, int]]:
    key = "id" if table == "queue_changes" else "seq"
    rows = db.execute(
        f"SELECT subject_kind, subject_id FROM {table} ORDER BY {key} DESC LIMIT ?", [count]
    ).fetchall()
    return sorted(tuple(row) for row in rows)


def test_a_changed_finding_is_queued_once_per_queue_and_last(tmp_path):
    with open_store(tmp_path / "grayhound.db") as store:
        db = store.db
        store.record_findings([_finding(n, 0.2) for n in range(1, 6)], None, "2026-12-01T00:00Z")
        before = {table: _sequence(db, table) for table in QUEUES}
        counts = store.record_findings(
            [_finding(n, 0.9) for n in (2, 4)] + [_finding(n, 0.2) for n in (1, 3, 5)],
            None,
            "2026-12-02T00:00Z",
        )
        written = {table: _sequence(db, table) - before[table] for table in QUEUES}
        last = {table: _last(db, table, 2) for table in QUEUES}
        queued = {
            table: db.execute(
                # serve's log appends: a subject changed again has two entries
                f"SELECT COUNT(DISTINCT subject_id) FROM {table} WHERE subject_kind = 'listing'"
            ).fetchone()[0]
            for table in QUEUES
        }
    assert counts == {"new": 0, "changed": 2, "unchanged": 3}
    # one entry written per changed finding in each queue (the close wrote another before)
    assert written == {"queue_changes": 2, "digest_pending": 2}
    assert last == {table: [("listing", 2), ("listing", 4)] for table in QUEUES}
    assert queued == {"queue_changes": 5, "digest_pending": 5}


def test_a_finding_that_ends_without_a_successor_is_still_queued(tmp_path):
    """A gone listing's finding ends (`ended_at`), a merged seller's finding closes: neither
    has a successor's insert to queue it, so the close does."""
    with open_store(tmp_path / "grayhound.db") as store:
        db = store.db
        now = utc_now()
        run = store.start_run(["shop"], now)
        keep = store.record_seller(run, "shop", "mi-store", Seller(name="Mi Store"), now)
        drop = store.record_seller(run, "shop", "other-shop", Seller(name="Other Shop"), now)
        sellers = [
            {**_finding(0, 0.9), "subject_kind": "seller", "subject_id": seller}
            for seller in (keep, drop)
        ]
        store.record_findings([_finding(7, 0.9), _finding(8, 0.9), *sellers], None, now)
        for table in QUEUES:
            db.execute(f"DELETE FROM {table}")
        ended = store.end_findings("listing", {7: "delisted (404)"}, utc_now())
        store.merge_sellers(keep, drop, "same domain")
        queued = {
            table: set(db.execute(f"SELECT subject_kind, subject_id FROM {table}").fetchall())
            for table in QUEUES
        }
        current = db.execute(
            "SELECT subject_kind, subject_id FROM findings WHERE is_current = 1"
            " ORDER BY subject_kind, subject_id"
        ).fetchall()
    assert ended == {7}
    assert ("listing", 8) in current and ("listing", 7) not in current
    assert ("seller", drop) not in current
    for table in QUEUES:
        assert ("listing", 7) in queued[table], table
        assert ("seller", drop) in queued[table], table
        assert ("listing", 8) not in queued[table], table


def test_a_finding_retracted_by_hand_is_still_queued(tmp_path):
    """A listing's finding closed by hand (no successor, no `ended_at`) is a change serve's
    queue and the digest must see: only a close whose successor is already written is not
    queued again."""
    with open_store(tmp_path / "grayhound.db") as store:
        db = store.db
        store.record_findings([_finding(3, 0.9)], None, "2026-12-01T00:00Z")
        for table in QUEUES:
            db.execute(f"DELETE FROM {table}")
        db.execute(
            "UPDATE findings SET is_current = 0 WHERE subject_kind = 'listing' AND subject_id = 3"
        )
        queued = {
            table: db.execute(f"SELECT subject_kind, subject_id FROM {table}").fetchall()
            for table in QUEUES
        }
    assert queued == {table: [("listing", 3)] for table in QUEUES}
