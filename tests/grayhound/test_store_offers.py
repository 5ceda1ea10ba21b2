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
