"""A decision about a seller takes its informational listing cases with it
(`grayhound.triage.follow_sellers`) reading that seller's rows only: the work of dismissing a
seller does not grow with the store's other flagged listings (issue 19)."""

from __future__ import annotations

from tests.serve.conftest import build_store, write_config

EXTRA = 1500  # flagged listings of another seller added between the two measurements


def _steps(store, work) -> int:
    """SQLite virtual machine steps (in hundreds) `work()` took on the store's connection:
    what it read, counted."""
    counted = [0]

    def count() -> int:
        counted[0] += 1
        return 0

    store.db.conn.set_progress_handler(count, 100)
    try:
        work()
    finally:
        store.db.conn.set_progress_handler(None, 100)
    return counted[0]


def _clone_flagged_listings(store, seller_id: int, count: int) -> None:
    """`count` more flagged listings of `seller_id`, each with its open case: copies of one
    flagged listing, its finding and case."""
    db = store.db
    (listing_id,) = db.execute(
        "SELECT f.subject_id FROM findings f WHERE f.subject_kind = 'listing'"
        " AND f.is_current = 1 AND f.flags NOT IN ('[]', '') LIMIT 1"
    ).fetchone()
    listing = {k: v for k, v in db["listings"].get(listing_id).items() if k != "id"}
    finding = next(
        db["findings"].rows_where(
            "subject_kind = 'listing' AND subject_id = ? AND is_current = 1", [listing_id]
        )
    )
    finding.pop("id")
    with db.atomic():
        for number in range(count):
            url = f"{listing['canonical_url']}?copy={number}"
            new_id = (
                db["listings"]
                .insert(listing | {"canonical_url": url, "url": url, "seller_id": seller_id})
                .last_pk
            )
            db["findings"].insert(finding | {"subject_id": new_id})
            db["cases"].insert(
                {"subject_kind": "listing", "subject_id": new_id, "state": "open",
                 "opened_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
            )  # fmt: skip


def test_dismissing_a_seller_reads_its_own_rows_only(tmp_path):
    from grayhound.config import load_config
    from grayhound.store import open_store, utc_now
    from grayhound.triage import HELD_NOTE, reopen_changed, set_state

    config = load_config(write_config(tmp_path))
    build_store(config)
    with open_store(config.storage.database) as store:
        reopen_changed(store, store.flagged_subjects(), 0.0, utc_now())  # every case opened
        seller = next(store.db["sellers"].rows_where("name = ?", ["Phone Deals Direct"]))
        other = next(store.db["sellers"].rows_where("name = ?", ["Gadget Hut"]))
        case = store.case_of("seller", seller["id"])
        (listing_case,) = store.listing_cases(seller["id"])

        def dismiss():
            set_state(store, str(case["id"]), "dismissed", "genuine stock", "analyst", utc_now())

        small = _steps(store, dismiss)
        assert store.get_case(listing_case["id"])["state"] == "dismissed"  # it followed
        set_state(store, str(case["id"]), "open", "look again", "analyst", utc_now())
        assert store.get_case(listing_case["id"])["state"] == "open"  # and came back with it
        _clone_flagged_listings(store, other["id"], EXTRA)
        big = _steps(store, dismiss)
        entry = store.review_log(listing_case["id"])[-1]
    assert entry["state"] == "dismissed" and entry["note"].startswith(HELD_NOTE)
    # the same seller, the same work: not one step more per flagged listing of another seller
    assert big < small + EXTRA // 10, (small, big)
