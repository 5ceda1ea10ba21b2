"""The store keeps history: re-crawls append observations, never duplicate or overwrite."""

from __future__ import annotations

from grayhound.models import Listing, Seller


def _listing(price: str, title: str = "Xiaomi 14 Pro 12GB+512GB") -> Listing:
    return Listing(
        url="http://127.0.0.1:8301/item/7.html?ref=search",
        canonical_url="http://127.0.0.1:8301/item/7.html",
        is_product=True,
        title=title,
        price=price,
        currency="USD",
        condition="new",
        seller="XiaomiWorld",
    )


def test_recrawl_appends_observations_without_new_listing(store):
    first = store.start_run(["bazaar"], "2026-11-01T06:00:00.000Z")
    seller_id = store.record_seller(first, "bazaar", "s1", Seller(name="XiaomiWorld"), "t1")
    listing_id, is_new = store.record_listing(first, "bazaar", _listing("499.00"), "s1", "t1")
    assert is_new
    second = store.start_run(["bazaar"], "2026-11-02T06:00:00.000Z")
    again_id, is_new = store.record_listing(second, "bazaar", _listing("459.00"), "s1", "t2")
    assert (again_id, is_new) == (listing_id, False)

    assert store.count("listings") == 1
    history = [o["price"] for o in store.observations(listing_id)]
    assert history == ["499.00", "459.00"]
    row = next(store.listings())
    assert row["price"] == "459.00"  # latest state
    assert (row["first_seen"], row["last_seen"]) == ("t1", "t2")
    assert row["seller_id"] == seller_id


def test_same_run_twice_records_one_observation(store):
    """A resumed crawl re-delivers items: nothing is duplicated."""
    run = store.start_run(["bazaar"], "t0")
    store.write_batch(
        run,
        [
            {
                "type": "seller",
                "source": "bazaar",
                "key": "s1",
                "seller": Seller(name="A"),
                "seen_at": "t1",
            },
            {
                "type": "listing",
                "source": "bazaar",
                "listing": _listing("10.00"),
                "seller_key": "s1",
                "seen_at": "t1",
            },
        ]
        * 2,
    )
    assert store.count("listings") == 1
    assert store.count("observations") == 1
    assert store.count("sellers") == 1
    assert store.count("seller_observations") == 1


def test_a_listing_item_stores_its_seller_and_links_both_to_the_capture(store):
    """One item per listing page: its seller is stored first and both are tied to the WARC
    record of the page; delivering the same page again, in a later batch, changes nothing."""
    run = store.start_run(["bazaar"], "t0")
    capture = {
        "record_id": "<urn:uuid:7>",
        "url": "http://127.0.0.1:8301/item/7.html",
        "source": "bazaar",
        "record_type": "response",
        "warc_file": "warc/run-000001-bazaar-00001.warc.gz",
        "offset": 0,
        "length": 100,
        "fetched_at": "t1",
    }
    page = [
        {"type": "capture", "capture": capture},
        {
            "type": "listing",
            "source": "bazaar",
            "listing": _listing("10.00"),
            "seller_key": "http://127.0.0.1:8301/seller/xiaomiworld",
            "seller": Seller(name="XiaomiWorld", url="http://127.0.0.1:8301/seller/xiaomiworld"),
            "seen_at": "t1",
            "capture": "<urn:uuid:7>",
        },
    ]
    store.write_batch(run, page)
    store.write_batch(run, page[1:])  # the listing again, its capture in an earlier batch
    store.write_batch(run, page)

    (seller,) = store.sellers()
    (listing,) = store.listings()
    assert seller["name"] == "XiaomiWorld" and listing["seller_id"] == seller["id"]
    assert store.count("observations") == 1 and store.count("seller_observations") == 1
    (row,) = store.db["captures"].rows
    assert (row["listing_id"], row["seller_id"]) == (listing["id"], seller["id"])
    links = {(r["subject_kind"], r["subject_id"]) for r in store.db["capture_links"].rows}
    assert links == {("listing", listing["id"]), ("seller", seller["id"])}


def test_seller_name_history_is_kept(store):
    first = store.start_run(["bazaar"], "t0")
    store.record_seller(first, "bazaar", "s1", Seller(name="Mi Shop"), "t1")
    second = store.start_run(["bazaar"], "t2")
    store.record_seller(second, "bazaar", "s1", Seller(name="Mi Official Shop"), "t3")
    names = [r["name"] for r in store.db["seller_observations"].rows_where(order_by="id")]
    assert names == ["Mi Shop", "Mi Official Shop"]
    assert next(store.sellers())["name"] == "Mi Official Shop"


def test_a_non_web_seller_url_is_never_stored_as_its_profile_link(store):
    run = store.start_run(["bazaar"], "t0")
    for key, url in (("s1", "JavaScript:alert(1)"), ("s2", "https://bazaar.example/seller/2")):
        store.record_seller(run, "bazaar", key, Seller(name=key, url=url), "t1")
    links = {r["key"]: r["profile_url"] for r in store.sellers()}
    assert links == {"s1": None, "s2": "https://bazaar.example/seller/2"}


def test_findings_are_idempotent_and_keep_history(store):
    row = {
        "subject_kind": "listing",
        "subject_id": 1,
        "subject": "x",
        "brand": "xiaomi",
        "score": 0.8,
        "verdict": "suspicious",
        "flags": ["price_low"],
        "reasons": ["cheap"],
    }
    assert store.record_findings([row], None, "t1") == {"new": 1, "changed": 0, "unchanged": 0}
    assert store.record_findings([row], None, "t2") == {"new": 0, "changed": 0, "unchanged": 1}
    changed = {**row, "score": 0.9, "verdict": "impersonation"}
    assert store.record_findings([changed], None, "t3") == {"new": 0, "changed": 1, "unchanged": 0}
    history = store.finding_history("listing", 1)
    assert [h["verdict"] for h in history] == ["suspicious", "impersonation"]
    assert [h["is_current"] for h in history] == [0, 1]


def test_database_is_wal_and_passes_integrity_check(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.integrity_ok()


def test_a_batch_is_one_transaction(store):
    """Either every item of a batch is stored or none: a batch that fails midway leaves no
    listing or observation behind (sqlite-utils commits each statement run outside an
    explicit transaction, so the store opens one)."""
    run = store.start_run(["bazaar"], "t0")
    listing = {
        "type": "listing",
        "source": "bazaar",
        "listing": _listing("10.00"),
        "seller_key": "s1",
        "seller": Seller(name="A"),
        "seen_at": "t1",
    }
    try:
        store.write_batch(run, [listing, {"type": "no such type"}])
    except ValueError:
        pass
    else:
        raise AssertionError("an unknown item type must fail the batch")
    assert (store.count("listings"), store.count("observations"), store.count("sellers")) == (
        0,
        0,
        0,
    )
    store.write_batch(run, [listing])
    assert store.count("observations") == 1


def test_a_store_whose_capture_links_had_no_moment_gets_them_when_opened(tmp_path):
    """Migration 0024: the links of a store made before round 49 get their capture's moment,
    the index by subject and moment takes the place of the one by subject alone, and a link
    made afterwards without its moment gets it from the trigger."""
    from grayhound.store import open_store

    path = tmp_path / "old.db"
    with open_store(path) as store:  # then made as it was before the migration
        db = store.db
        db.execute("DROP TRIGGER capture_links_moment")
        db.execute("DROP INDEX capture_links_newest")
        db.execute("ALTER TABLE capture_links DROP COLUMN fetched_at")
        db.execute("CREATE INDEX idx_capture_links_subject_kind_subject_id"
                   " ON capture_links (subject_kind, subject_id)")  # fmt: skip
        db.execute("DELETE FROM _migrations WHERE name = '0024_issue19_capture_moments'")
        run = store.start_run(["bazaar"], "t0")
        for record, at in (("<urn:uuid:1>", "2026-01-02T00:00:00.000Z"),
                           ("<urn:uuid:2>", "2026-01-01T00:00:00.000Z")):  # fmt: skip
            store.record_capture(run, {"record_id": record, "url": "http://127.0.0.1/1",
                                       "warc_file": "w.warc.gz", "offset": 0, "length": 1,
                                       "fetched_at": at})  # fmt: skip
            db.execute(  # as an older grayhound linked it
                "INSERT INTO capture_links (capture_id, subject_kind, subject_id)"
                " SELECT id, 'listing', 7 FROM captures WHERE record_id = ?",
                [record],
            )
    with open_store(path) as store:
        moments = store.db.execute(
            "SELECT k.fetched_at, c.fetched_at FROM capture_links k"
            " JOIN captures c ON c.id = k.capture_id"
        ).fetchall()
        assert len(moments) == 2 and all(link == capture for link, capture in moments)
        indexes = {row[1] for row in store.db.execute("PRAGMA index_list(capture_links)")}
        assert "capture_links_newest" in indexes
        assert "idx_capture_links_subject_kind_subject_id" not in indexes
        run = store.start_run(["bazaar"], "t1")
        store.record_capture(run, {"record_id": "<urn:uuid:3>", "url": "http://127.0.0.1/1",
                                   "warc_file": "w.warc.gz", "offset": 1, "length": 1,
                                   "fetched_at": "2026-01-03T00:00:00.000Z"})  # fmt: skip
        store.db.execute(
            "INSERT INTO capture_links (capture_id, subject_kind, subject_id)"
            " SELECT id, 'listing', 7 FROM captures WHERE record_id = '<urn:uuid:3>'"
        )
        newest = store.db.execute(
            "SELECT capture_id, fetched_at FROM capture_links WHERE subject_kind = 'listing'"
            " AND subject_id = 7 ORDER BY fetched_at DESC, capture_id DESC LIMIT 1"
        ).fetchone()
        assert newest[1] == "2026-01-03T00:00:00.000Z"
