"""Each seller's flag counts (`seller_flag_counts`, read by the digest and `export sellers`)
stay what counting every listing's current finding gives, whatever replaces, ends, retracts or
removes a finding; and a listing's new finding moves them only by the flags that changed
(issue 19, round 7): the daily detect replaces most findings for a moved price, flags equal."""

from __future__ import annotations

import pytest

from grayhound.models import Seller
from grayhound.store import open_store, utc_now
from grayhound.store.changes import replace_triggers
from grayhound.store.digestbook import FLAG_COUNTS, LISTING_SELLER, _flags

DAY = "2026-12-0{}T00:00Z"


def _finding(listing: int, flags: list[str], score: float = 0.7) -> dict:
    return {
        "subject_kind": "listing",
        "subject_id": listing,
        "subject": f"listing {listing}",
        "brand": "xiaomi",
        "score": score,
        "verdict": "suspicious" if flags else "clean",
        "flags": flags,
        "reasons": [f"score {score}"],
    }


def _counted(db) -> dict:
    return {(seller, flag): n for seller, flag, n in db.execute(FLAG_COUNTS)}


def _kept(db) -> dict:
    sql = "SELECT seller_id, flag, n FROM seller_flag_counts WHERE n != 0"
    return {(seller, flag): n for seller, flag, n in db.execute(sql)}


def _shop(store, sellers: int = 2, listings: int = 6) -> list[int]:
    """Sellers, each with listings (and one listing without a seller): the listings' ids."""
    now = utc_now()
    run = store.start_run(["shop"], now)
    ids = []
    for number in range(sellers):
        seller = store.record_seller(run, "shop", f"s{number}", Seller(name=f"S{number}"), now)
        for listing in range(listings):
            ids.append(_listing(store, run, seller, f"{number}-{listing}"))
    ids.append(_listing(store, run, None, "orphan"))
    return ids


def _listing(store, run: int, seller: int | None, key: str) -> int:
    return (
        store.db["listings"]
        .insert(
            {
                "source": "shop",
                "canonical_url": f"https://shop.test/{key}",
                "url": f"https://shop.test/{key}",
                "title": key,
                "seller_id": seller,
                "first_seen": utc_now(),
                "last_seen": utc_now(),
                "last_run_id": run,
            },  # fmt: skip
        )
        .last_pk
    )


def _writes(db) -> list[int]:
    """A counter of the rows written to `seller_flag_counts` (temporary triggers)."""
    db.execute("CREATE TEMP TABLE flag_writes (n INTEGER)")
    db.execute("INSERT INTO flag_writes VALUES (0)")
    for event in ("INSERT", "UPDATE"):
        db.execute(
            f"CREATE TEMP TRIGGER count_flag_{event.lower()} AFTER {event} ON main.seller_flag_counts"
            " BEGIN UPDATE flag_writes SET n = n + 1; END"
        )
    return [0]


def _written(db) -> int:
    return db.execute("SELECT n FROM flag_writes").fetchone()[0]


def test_a_new_finding_with_the_same_flags_writes_no_count(tmp_path):
    """A day's moved prices replace findings whose flags did not move: their sellers' counts
    are not written (before: each flag counted out by the close and in by the insert, two
    writes a flag); a flag that moved is one write."""
    with open_store(tmp_path / "grayhound.db") as store:
        db = store.db
        listings = _shop(store)
        store.record_findings([_finding(n, ["price_low"]) for n in listings], None, DAY.format(1))
        _writes(db)
        counts = store.record_findings(
            [_finding(n, ["price_low"], score=0.8) for n in listings], None, DAY.format(2)
        )
        same = _written(db)
        store.record_findings(  # one listing gains a flag
            [_finding(listings[0], ["price_low", "brand_in_title"], score=0.9)],
            None,
            DAY.format(3),
        )
        moved = _written(db) - same
        assert _kept(db) == _counted(db)
    assert counts == {"new": 0, "changed": len(listings), "unchanged": 0}
    assert (same, moved) == (0, 1)


def _a_day(store, listings: list[int], day: int) -> None:
    """Findings replaced with flags added, dropped, kept, doubled; a subject twice in one
    batch; a listing gone; a finding retracted by hand, one deleted, one made current again."""
    db = store.db
    flags = [["price_low"], ["price_low", "brand_in_title"], [], ["brand_in_title"],
             ["price_low", "price_low"], ["domain_lookalike"]]  # fmt: skip
    rows = [_finding(n, flags[(n + day) % len(flags)], 0.5 + day / 100) for n in listings]
    rows.append(_finding(listings[1], ["price_low", "domain_lookalike"], 0.99))
    store.record_findings(rows, None, DAY.format(day))
    store.end_findings("listing", {listings[2 + day]: "gone"}, DAY.format(day))
    with db.conn:
        db.execute(
            "UPDATE findings SET is_current = 0 WHERE subject_kind = 'listing'"
            " AND subject_id = ? AND is_current = 1",
            [listings[5 + day]],
        )
        db.execute(
            "DELETE FROM findings WHERE subject_kind = 'listing' AND subject_id = ?"
            " AND is_current = 1",
            [listings[8]],
        )
        db.execute(  # a retracted finding made current again by hand
            "UPDATE findings SET is_current = 1 WHERE id = (SELECT MAX(id) FROM findings"
            " WHERE subject_kind = 'listing' AND subject_id = ?)",
            [listings[5 + day]],
        )
        db.execute(  # a listing moved to another seller
            "UPDATE listings SET seller_id = (SELECT MIN(id) FROM sellers) WHERE id = ?",
            [listings[-2 - day]],
        )


def test_flag_counts_equal_counting_every_listing_after_any_change(tmp_path):
    with open_store(tmp_path / "grayhound.db") as store:
        listings = _shop(store, sellers=3)
        store.record_findings([_finding(n, ["price_low"]) for n in listings], None, DAY.format(1))
        for day in range(2, 6):
            _a_day(store, listings, day)
            assert _kept(store.db) == _counted(store.db), day


# the counts' triggers as an older grayhound made them: every flag counted out and in again
OLDER = {
    "seller_flags_finding_added": (
        "AFTER INSERT ON findings WHEN new.subject_kind = 'listing' AND new.is_current = 1",
        _flags("+", "new", LISTING_SELLER.format(row="new")),
    ),
    "seller_flags_finding_ended": (
        "AFTER UPDATE ON findings WHEN old.subject_kind = 'listing' AND old.is_current = 1",
        _flags("-", "old", LISTING_SELLER.format(row="old")),
    ),
    "seller_flags_finding_removed": (
        "AFTER DELETE ON findings WHEN old.subject_kind = 'listing' AND old.is_current = 1",
        _flags("-", "old", LISTING_SELLER.format(row="old")),
    ),
}


@pytest.mark.parametrize("migrated", [False, True])
def test_a_store_made_by_an_older_grayhound_keeps_its_counts(tmp_path, migrated):
    """Counts an older grayhound kept stay right across the upgrade: its triggers are made
    again (migration 0018_issue19_flag_counts) and no count moves by it."""
    path = tmp_path / "grayhound.db"
    with open_store(path) as store:
        listings = _shop(store)
        replace_triggers(store.db, OLDER)
        store.db.execute("DELETE FROM _migrations WHERE name = '0018_issue19_flag_counts'")
        store.record_findings([_finding(n, ["price_low"]) for n in listings], None, DAY.format(1))
        before = _kept(store.db)
    if migrated:
        store = open_store(path)
    else:  # the same store kept by the older triggers
        store = open_store(path)
        replace_triggers(store.db, OLDER)
    with store:
        added = store.db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'seller_flags_finding_added'"
        ).fetchone()[0]
        assert ("p.id < new.id" in added) is migrated  # the difference counted, once migrated
        assert _kept(store.db) == before
        _a_day(store, listings, 2)
        assert _kept(store.db) == _counted(store.db)
