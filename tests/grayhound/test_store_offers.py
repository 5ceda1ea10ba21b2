"""Several sellers' offers on one page are several listings: identity is the canonical URL plus
the offer key, each offer keeps its own history, and a database from before keeps its rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from grayhound.models import Listing, Seller
from grayhound.store import open_store
from grayhound.store.migrations import MIGRATIONS

PAGE = "https://www.marketo.example/p/xiaomi-14-pro/5512345"


def _offer(seller: str, price: str, key: str) -> Listing:
    return Listing(
        url=PAGE,
        canonical_url=PAGE,
        is_product=True,
        title="Xiaomi 14 Pro 512GB",
        price=price,
        currency="EUR",
        seller=seller,
        offer_key=key,
    )


def _crawl(store, day: str, offers: list[Listing]) -> list[int]:
    run = store.start_run(["marketo"], f"2026-11-0{day}T06:00:00.000Z")
    ids = []
    for offer in offers:
        key = "name:" + offer.seller.lower()
        store.record_seller(run, "marketo", key, Seller(name=offer.seller), f"t{day}")
        ids.append(store.record_listing(run, "marketo", offer, key, f"t{day}")[0])
    return ids


def test_each_offer_on_a_page_is_its_own_listing_with_its_own_history(store) -> None:
    first = _crawl(
        store,
        "1",
        [
            _offer("Mobile Planet", "899.00", ""),
            _offer("Gadget Garage", "869.99", "seller:gadget garage"),
        ],
    )
    second = _crawl(
        store,
        "2",
        [
            _offer("Mobile Planet", "889.00", ""),
            _offer("Gadget Garage", "849.00", "seller:gadget garage"),
        ],
    )
    assert first == second and len(set(first)) == 2
    assert store.count("listings") == 2
    rows = {row["offer_key"]: row for row in store.listings()}
    assert rows[""]["seller_name"] == "Mobile Planet"
    assert rows["seller:gadget garage"]["canonical_url"] == PAGE
    history = [o["price"] for o in store.observations(rows["seller:gadget garage"]["id"])]
    assert history == ["869.99", "849.00"]


def test_a_database_from_before_keeps_its_listings_as_the_pages_own_offers(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(sqlite3.connect(path))
    db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    before = [(name, step) for name, step in MIGRATIONS if name < "0007"]  # as shipped before
    for name, step in before:
        step(db)
        db["_migrations"].insert({"name": name, "applied_at": "2026-01-01T00:00:00Z"})
    db["crawl_runs"].insert({"id": 1, "started_at": "t0", "status": "finished"})
    db["listings"].insert(
        {"id": 1, "source": "marketo", "canonical_url": PAGE, "url": PAGE, "price": "999.00",
         "first_seen": "t0", "last_seen": "t0", "first_run_id": 1, "last_run_id": 1}
    )  # fmt: skip
    db.conn.commit()
    db.close()

    with open_store(path) as store:
        (old,) = list(store.listings())
        assert old["offer_key"] == ""
        run = store.start_run(["marketo"], "t1")
        page_offer = _offer("Mobile Planet", "899.00", "")
        again, is_new = store.record_listing(run, "marketo", page_offer, None, "t1")
        renew = _offer("Renew IT", "749.00", "seller:renew it")
        other, other_new = store.record_listing(run, "marketo", renew, None, "t1")
        assert (again, is_new) == (1, False)
        assert other_new and other != 1


def _sighting(store, run: int, source: str, seller: str, price: str) -> int:
    key = "name:" + seller.lower()
    store.record_seller(run, source, key, Seller(name=seller), "t")
    return store.record_listing(run, source, _offer(seller, price, ""), key, "t")[0]


def test_a_page_two_sources_fetch_is_a_listing_per_source_that_never_changes_hands(store):
    """A `pages` source and the marketplace's own source list the same URL: each keeps its
    listing, seller and history; crawling one never rewrites the other's."""
    seen = {}
    for day in "123":
        run = store.start_run(["watchlist", "marketo"], f"2026-11-0{day}T06:00:00.000Z")
        seen.setdefault("watchlist", set()).add(
            _sighting(store, run, "watchlist", "Mobile Planet", "899.00")
        )
        seen.setdefault("marketo", set()).add(
            _sighting(store, run, "marketo", "Mobile Planet Ltd", "889.00")
        )
    assert all(len(ids) == 1 for ids in seen.values()) and seen["watchlist"] != seen["marketo"]
    rows = {row["source"]: row for row in store.listings()}
    assert {source: row["seller_name"] for source, row in rows.items()} == {
        "watchlist": "Mobile Planet",
        "marketo": "Mobile Planet Ltd",
    }
    for source, row in rows.items():
        (seller,) = store.db["sellers"].rows_where("id = ?", [row["seller_id"]])
        assert seller["source"] == source
        history = [(o["price"], o["seller_name"]) for o in store.observations(row["id"])]
        assert len(set(history)) == 1 and len(history) == 3


def test_a_store_from_before_is_keyed_by_source_after_the_upgrade(tmp_path: Path) -> None:
    """A store built at the previous schema: its listings keep their ids and history, and the
    same page from another source becomes a listing of its own."""
    path = tmp_path / "previous.db"
    db = sqlite_utils.Database(sqlite3.connect(path))
    db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    previous = [m for m in MIGRATIONS if m[0] != "0009_issue17_listings_per_source"]
    for name, step in previous:
        step(db)
        db["_migrations"].insert({"name": name, "applied_at": "2026-01-01T00:00:00Z"})
    db["crawl_runs"].insert({"id": 1, "started_at": "t0", "status": "finished"})
    db["listings"].insert(
        {"id": 7, "source": "marketo", "canonical_url": PAGE, "url": PAGE, "price": "999.00",
         "offer_key": "", "first_seen": "t0", "last_seen": "t0", "first_run_id": 1,
         "last_run_id": 1}
    )  # fmt: skip
    db["observations"].insert(
        {"listing_id": 7, "crawl_run_id": 1, "observed_at": "t0", "price": "999.00"}
    )
    db.conn.commit()
    db.close()

    with open_store(path) as store:
        indexes = {tuple(i.columns): i.unique for i in store.db["listings"].indexes}
        assert indexes[("source", "canonical_url", "offer_key")] == 1
        assert ("canonical_url", "offer_key") not in indexes
        run = store.start_run(["watchlist", "marketo"], "t1")
        assert _sighting(store, run, "marketo", "Mobile Planet", "899.00") == 7
        other = _sighting(store, run, "watchlist", "Mobile Planet", "899.00")
        assert other != 7
        assert [o["price"] for o in store.observations(7)] == ["999.00", "899.00"]
        assert [o["price"] for o in store.observations(other)] == ["899.00"]


def test_the_export_gives_a_listing_its_sellers_name_and_domain_when_the_page_names_none(store):
    """A listing page that names no seller domain exports its seller's (the seller's own page
    gave it), as the digest and detection read it; the page's own name and domain come first."""
    from reports.exports import listing_record

    run = store.start_run(["marketo"], "2026-11-01T06:00:00.000Z")
    seller = Seller(name="Mi Official Store", domain="mi-official.example", is_seller_page=True)
    store.record_seller(run, "marketo", "name:mi", seller, "t1")
    plain = _offer("Mi Official Store", "499.00", "a")
    plain = Listing(**{**plain.__dict__, "seller": None})
    own = Listing(**{**plain.__dict__, "offer_key": "b", "seller_domain": "own.example"})
    for listing in (plain, own):
        store.record_listing(run, "marketo", listing, "name:mi", "t1")
    rows = [listing_record(row) for row in store.export_listing_rows()]
    assert [(r["seller"], r["seller_domain"]) for r in rows] == [
        ("Mi Official Store", "mi-official.example"),
        ("Mi Official Store", "own.example"),
    ]
