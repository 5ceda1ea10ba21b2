"""The store's queue triggers (what detection, the digest's book and serve's queue must look
at again) never make the write that fires them fail. SQLite runs a trigger's statements under
the conflict policy of the statement that fired it when that one has its own (an upsert, an
`OR FAIL`): a trigger's `INSERT OR REPLACE` into a queue then fails with "UNIQUE constraint
failed" when the subject is already queued, and the crawl's or detection's write is lost."""

from __future__ import annotations

import pytest

from grayhound.models import Seller
from grayhound.store import open_store, utc_now


def test_a_seller_seen_again_under_another_spelling_before_detect_is_stored(tmp_path):
    """The seller's alias is upserted with its new raw spelling while the seller still waits
    for detection: the write stands, the alias keeps the new spelling, the seller is queued
    once."""
    with open_store(tmp_path / "grayhound.db") as store:
        first = store.start_run(["shop"], utc_now())
        seller = store.record_seller(first, "shop", "", Seller(name="Mi Store"), utc_now())
        second = store.start_run(["shop"], utc_now())
        again = store.record_seller(second, "shop", "", Seller(name="MI  STORE"), utc_now())
        raw = store.db.execute(
            "SELECT raw FROM seller_aliases WHERE seller_id = ? AND kind = 'name'", [seller]
        ).fetchall()
        queued = store.db.execute(
            "SELECT COUNT(*) FROM pending_sellers WHERE seller_id = ?", [seller]
        ).fetchone()[0]
    assert again == seller
    assert raw == [("MI  STORE",)]
    assert queued == 1


@pytest.mark.parametrize("policy", ["", "OR FAIL ", "OR ROLLBACK "])
def test_a_network_membership_upserted_again_is_logged_for_serve_and_fails_nothing(
    tmp_path, policy
):
    """Detection upserts a seller's network membership; serve's change log already holds the
    seller: the membership moves, and each of the two writes appends the seller to the log
    (an older log kept one entry per subject, moved last: its trigger's DELETE and INSERT
    must not fail under the statement's own conflict policy either)."""
    with open_store(tmp_path / "grayhound.db") as store:
        db = store.db
        now = utc_now()
        run = store.start_run(["shop"], now)
        seller = store.record_seller(run, "shop", "", Seller(name="Mi Store"), now)
        db.execute(
            "INSERT INTO networks (id, first_seen, last_seen, is_current) VALUES (1, ?, ?, 1)",
            [now, now],
        )
        db.execute(
            "INSERT INTO network_members (network_id, seller_id, first_seen, last_seen,"
            " is_current) VALUES (1, ?, ?, ?, 0)",
            [seller, now, now],
        )
        before = db.execute("SELECT MAX(id) FROM queue_changes").fetchone()[0]
        db.execute(
            "INSERT INTO network_members (network_id, seller_id, first_seen, last_seen,"
            " is_current) VALUES (1, ?, ?, ?, 1) ON CONFLICT (network_id, seller_id)"
            " DO UPDATE SET last_seen = excluded.last_seen, is_current = 1",
            [seller, now, now],
        )
        db.execute(
            f"UPDATE {policy}network_members SET is_current = 0 WHERE seller_id = ?", [seller]
        )
        logged = db.execute(
            "SELECT id FROM queue_changes WHERE subject_kind = 'seller' AND subject_id = ?",
            [seller],
        ).fetchall()
        current = db.execute("SELECT is_current FROM network_members").fetchone()[0]
    assert current == 0
    assert [entry for (entry,) in logged if entry > before] == [before + 1, before + 2]
