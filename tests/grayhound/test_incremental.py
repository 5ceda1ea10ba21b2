"""Incremental detection judges exactly what a full one does (issue 19).

A small generated marketplace is crawled, judged, then changed at random round after round
(prices, new and gone listings, new titles and descriptions, shared images and contacts,
seller renames, listings that change seller, seller merges, edits of each config section the
detectors read). After each round the store is copied: `detect` judges what changed on one,
`detect --full` everything on the other, and the two are compared field by field — current
findings (listings and seller verdicts), networks and their members, and the cases and
digest a digest then makes. The full run is checked in turn against the pure detectors
called on every listing and seller at once, the way detection worked before it kept state."""

from __future__ import annotations

import json
import random
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest

from grayhound.config import load_config
from grayhound.models import Listing, Seller
from grayhound.store import open_store

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://m.example"
MODELS = (("Xiaomi 14 Pro", 999), ("Redmi Note 13 Pro", 399), ("Samsung Galaxy S24", 799),
          ("iPhone 15", 799), ("Poco F6", 449))  # fmt: skip
WORDS = "sealed global dual sim unlocked boxed warranty fast shipping genuine".split()
TEMPLATE = (
    "Brand new sealed phone shipped from our Shenzhen warehouse within two days, full one year"
    " warranty, original charger and cable included, contact us on WhatsApp for bulk orders"
)
CONFIG_EDITS = {  # section -> (text in example.toml, replacement)
    "catalog": ('msrp = { USD = 799.0, EUR = 949.0, GBP = 799.0 }',
                'msrp = { USD = 699.0, EUR = 949.0, GBP = 799.0 }'),
    "pricing": ("low_ratio = 0.6 ", "low_ratio = 0.7 "),
    "authorized": ('seller_names = ["TechNova Electronics", "TechNova"]',
                   'seller_names = ["TechNova Electronics", "TechNova", "Seller 03"]'),
    "brands": ('terms = ["samsung"]', 'terms = ["samsung", "sammy"]'),
}  # fmt: skip


class Market:
    """Listings and sellers as plain state; `crawl` writes what a crawl would see."""

    def __init__(self, rng: random.Random, listings: int = 120, sellers: int = 12):
        self.rng = rng
        self.sellers = {n: {"name": f"Seller {n:02d}", "extra": []} for n in range(sellers)}
        self.sellers[1]["name"] = "Xiaomi Official Store"
        self.sellers[2]["extra"] = [("phone", "+1 512 555 0199")]
        self.sellers[3]["extra"] = [("phone", "(512) 555-0199")]
        self.listings = {}
        for number in range(listings):
            self.add(number)

    def add(self, number: int) -> None:
        model, msrp = self.rng.choice(MODELS)
        self.listings[number] = {
            "title": f"{model} {self.rng.choice((128, 256))}GB {' '.join(self.rng.sample(WORDS, 2))}",
            "price": round(msrp * self.rng.uniform(0.3, 1.5), 2),
            "condition": self.rng.choice(("new", "new", "used", "unknown")),
            "seller": self.rng.randrange(len(self.sellers)),
            "description": " ".join(self.rng.choice(WORDS) for _ in range(25)),
            "image": f"{BASE}/img/{number}.jpg",
            "gone": False,
        }

    def change(self) -> list[str]:
        """A random day: a few kinds of change, each alone often enough that a dependency
        detection missed would show."""
        kinds = self.rng.sample(sorted(CHANGES), self.rng.randint(1, 2))
        for kind in kinds:
            CHANGES[kind](self, self.rng, [n for n, i in self.listings.items() if not i["gone"]])
        return kinds

    def crawl(self, store, stamp: str) -> None:
        run_id = store.start_run(["m"], stamp)
        items = []
        for n, seller in self.sellers.items():
            url = f"{BASE}/seller/{n}"
            found = (
                ("profile", url, "profile page"),
                *((k, v, "profile page") for k, v in seller["extra"]),
            )
            items.append(
                {
                    "type": "seller",
                    "source": "m",
                    "key": url,
                    "seen_at": stamp,
                    "seller": Seller(name=seller["name"], url=url, identifiers=found),
                }
            )
        for number, item in sorted(self.listings.items()):
            url = f"{BASE}/item/{number}"
            if item["gone"]:  # delisted: its page answers 404
                items.append({"type": "failure", "source": "m", "url": url, "status": 404,
                              "reason": "HTTP 404", "seen_at": stamp})  # fmt: skip
                continue
            listing = Listing(
                url=url,
                canonical_url=url,
                is_product=True,
                title=item["title"],
                price=f"{item['price']:.2f}",
                currency="USD",
                condition=item["condition"],
                description=item["description"],
                image=item["image"],
                seller=self.sellers[item["seller"]]["name"],
                seller_url=f"{BASE}/seller/{item['seller']}",
            )
            items.append(
                {
                    "type": "listing",
                    "source": "m",
                    "listing": listing,
                    "seller_key": f"{BASE}/seller/{item['seller']}",
                    "seen_at": stamp,
                }
            )
        store.write_batch(run_id, items)
        store.finish_run(run_id, stamp, "finished", {"sources": {}})

    # fmt: skip


def _prices(market, rng, alive):
    for number in rng.sample(alive, len(alive) // 8):
        market.listings[number]["price"] = round(
            market.listings[number]["price"] * rng.uniform(0.5, 1.5), 2
        )


def _gone_and_new(market, rng, alive):
    for number in rng.sample(alive, 4):
        market.listings[number]["gone"] = True
    for number in range(len(market.listings), len(market.listings) + 6):
        market.add(number)


def _texts(market, rng, alive):
    pick = lambda: market.listings[rng.choice(alive)]  # noqa: E731
    pick()["title"] = f"{rng.choice(MODELS)[0]} 512GB case cover"  # now an accessory
    pick()["description"] = TEMPLATE  # near-identical texts across sellers tie them
    pick()["description"] = TEMPLATE + " today"
    pick()["description"] = "International version, refurbished by us. " + TEMPLATE


def _image(market, rng, alive):  # two listings, likely of two sellers, show one image
    shared = f"{BASE}/img/shared-{rng.randrange(10**6)}.jpg"
    for number in rng.sample(alive, 2):
        market.listings[number]["image"] = shared


def _moved(market, rng, alive):  # the pages now name another seller
    for number in rng.sample(alive, 3):
        market.listings[number]["seller"] = rng.randrange(len(market.sellers))


def _renamed(market, rng, alive):
    seller = market.sellers[rng.randrange(len(market.sellers))]
    seller["name"] = rng.choice(("Redmi Deals Hub", f"Gadget Corner {rng.randrange(99)}"))


def _networked_renamed(market, rng, alive):  # its network's verdicts follow it
    seller = market.sellers[rng.choice((2, 3))]
    seller["name"] = rng.choice(("Samsung Official Shop", f"Phone Corner {rng.randrange(99)}"))


def _contact(market, rng, alive):  # a network forms, sometimes with the impersonator
    market.sellers[rng.choice((1, rng.randrange(len(market.sellers))))]["extra"].append(
        ("email", f"sales{rng.randrange(2)}@phonehub-wholesale.com")
    )


def _website(market, rng, alive):  # its identity changes, its listings' pages do not
    market.sellers[rng.randrange(len(market.sellers))]["extra"].append(
        ("website", rng.choice(("xiaomi-outlet.shop", "phone-corner.com")))
    )


CHANGES = {
    "prices": _prices, "gone and new": _gone_and_new, "texts": _texts, "image": _image,
    "moved": _moved, "renamed": _renamed, "networked renamed": _networked_renamed,
    "contact": _contact, "website": _website,
}  # fmt: skip


def copy_store(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def snapshot(database: Path, config) -> dict:
    """What a user sees of a detection: current findings, networks, then a digest's cases."""
    from datetime import UTC, datetime

    from grayhound.pipeline import produce_digest

    with open_store(database) as store:
        db = store.db
        findings = {
            (row["subject_kind"], row["subject_id"]): {
                k: v for k, v in row.items() if k not in ("id", "detected_at", "crawl_run_id")
            }
            for row in db.query("SELECT * FROM findings WHERE is_current = 1")
        }
        networks = [
            {k: v for k, v in row.items() if k not in ("first_seen", "last_seen")}
            for row in db.query("SELECT * FROM networks ORDER BY id")
        ]
        members = db.execute(
            "SELECT network_id, seller_id, is_current FROM network_members ORDER BY 1, 2"
        ).fetchall()
        digest = produce_digest(store, config, datetime(2030, 1, 1, tzinfo=UTC)).to_dict()
        cases = db.execute(
            "SELECT id, subject_kind, subject_id, state FROM cases ORDER BY id"
        ).fetchall()
    return {"findings": findings, "networks": networks, "members": members, "cases": cases,
            "digest": {g: [(i["case_id"], i["score"], i["changes"]) for i in items]
                       for g, items in digest["groups"].items()}}  # fmt: skip


def oracle(database: Path, config) -> tuple[dict, list]:
    """Every listing and seller judged at once by the pure detectors: {(kind, id): the
    finding's fingerprint} and the networks' (sellers, ties)."""
    from detectors import BrandBook, assess_listings, seller_sales, seller_verdict
    from detectors.networks import SellerSignals, find_networks
    from detectors.sellers import assess_seller, entitled
    from grayhound.detection.listings import facts_of
    from grayhound.detection.sellers import CONTACTS, _raw, seller_facts
    from grayhound.detection.work import listing_row, seller_row
    from grayhound.store.findings import fingerprint

    book = BrandBook.from_config(config)
    with open_store(database) as store:
        aliases = store.aliases_by_seller()
        sellers = [seller_facts(row, aliases.get(row["id"], [])) for row in store.sellers()]
        ids = [row[0] for row in store.db.execute("SELECT id FROM listings ORDER BY id")]
        rows = store.listing_fact_rows(ids)
        live = [
            row
            for row in rows
            if not store.delisted(row["canonical_url"], row["source"], row["last_run_id"])
        ]
    identities = {s.key: assess_seller(s, book) for s in sellers}
    assessments = assess_listings([facts_of(row) for row in live], book, identities)
    signals, by_seller = [], defaultdict(list)
    for row, assessment in zip(live, assessments, strict=True):
        by_seller[row["seller_id"]].append(assessment)
    extras = defaultdict(lambda: {"images": set(), "descriptions": []})
    for row in rows:  # a gone listing's image and text still tie its seller to others
        if row["seller_id"] is not None:
            extras[row["seller_id"]]["images"] |= {row["image"]} if row["image"] else set()
            extras[row["seller_id"]]["descriptions"] += (
                [row["description"]] if row["description"] else []
            )
    for facts in sellers:
        own = aliases.get(int(facts.key), [])
        signals.append(SellerSignals(
            seller_id=int(facts.key), source=facts.source, name=facts.name,
            domains=tuple(sorted({*facts.all_domains(), *facts.all_claimed()})),
            images=tuple(sorted(extras[int(facts.key)]["images"])),
            descriptions=tuple(extras[int(facts.key)]["descriptions"]),
            **{field: _raw(own, (kind,)) for kind, field in CONTACTS.items()}))  # fmt: skip
    networks = find_networks(signals, book)
    network_of = {s: n for n in networks for s in n.sellers}
    label = {int(f.key): f.name or f.domain or f"seller #{f.key}" for f in sellers}
    expected = {("listing", a.id): fingerprint(_encoded(listing_row(a))) for a in assessments}
    for facts in sellers:
        seller_id = int(facts.key)
        peers = {label[o]: identities[str(o)].verdict
                 for o in (network_of[seller_id].sellers if seller_id in network_of else ())
                 if o != seller_id}  # fmt: skip
        verdict = seller_verdict(identities[facts.key], seller_sales(by_seller.get(seller_id, [])),
                                 book, label[seller_id], entitled=entitled(facts, book),
                                 network_peers=peers)  # fmt: skip
        row = seller_row(seller_id, verdict, facts.name or facts.domain)
        expected[("seller", seller_id)] = fingerprint(_encoded(row))
    return expected, [(list(n.sellers), [t.to_dict() for t in n.ties]) for n in networks]


def _encoded(row: dict) -> dict:
    row = {
        **row,
        "flags": json.dumps(list(row["flags"])),
        "reasons": json.dumps(list(row["reasons"])),
    }
    if isinstance(row.get("attributes"), dict):
        row["attributes"] = json.dumps(row["attributes"], sort_keys=True)
    return row


def write_config(directory: Path, edits: list[str]) -> Path:
    text = (ROOT / "grayhound" / "example.toml").read_text()
    for section in edits:
        old, new = CONFIG_EDITS[section]
        assert old in text, section
        text = text.replace(old, new, 1)
    path = directory / "grayhound.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("seed", [19, 2026, 7])
def test_an_incremental_detection_finds_what_a_full_one_finds(tmp_path, seed):
    from grayhound.detection import detect_findings

    rng = random.Random(seed)
    market = Market(rng)
    live, other = tmp_path / "live", tmp_path / "full"
    live.mkdir()
    other.mkdir()
    edits: list[str] = []
    config = load_config(write_config(live, edits))
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-01T00:00:00.000Z")
    first = detect_findings(config)
    assert first["said"] == ["first detection on this store: judging everything"]
    sections = list(CONFIG_EDITS)
    rng.shuffle(sections)
    for day in range(1, 17):
        stamp = f"2030-01-{day + 1:02d}T00:00:00.000Z"
        market.change()
        with open_store(config.storage.database) as store:
            market.crawl(store, stamp)
            if day == 4:  # a seller merged into another, as seller identity would merge it
                with store.db.atomic():
                    store.merge_sellers(5, 6, "the same seller by its profile, @id or key")
        edited = day % 4 == 0 and bool(sections)
        if edited:
            edits.append(sections.pop())
        config = load_config(write_config(live, edits))
        copy_store(config.storage.database, other / "grayhound.db")
        full_config = load_config(write_config(other, edits))
        incremental = detect_findings(config)
        full = detect_findings(full_config, full=True)
        if edited:
            assert any(f"config [{edits[-1]}] changed" in said for said in incremental["said"])
        else:  # only what changed, and what depends on it
            assert (
                incremental["work"].get("listings_judged", 0) < full["work"]["listings_judged"] / 2
            )
        expected, networks = oracle(other / "grayhound.db", full_config)
        with open_store(other / "grayhound.db") as store:
            kept = {(r[0], r[1]): r[2] for r in store.db.execute(
                "SELECT subject_kind, subject_id, fingerprint FROM findings WHERE is_current = 1")}  # fmt: skip
            stored = [(store.network_members(n["id"]), n["signals"]) for n in store.networks()]
        assert kept == expected, f"day {day}: the full detection differs from the detectors"
        assert sorted(stored) == sorted(networks), f"day {day}: networks"
        ours, theirs = (
            snapshot(config.storage.database, config),
            snapshot(other / "grayhound.db", full_config),
        )
        for part in ("findings", "networks", "members", "cases", "digest"):
            assert ours[part] == theirs[part], f"day {day}: {part} differ"
        # the totals the command prints: kept from day to day, they match a count made anew
        counted = recount(config.storage.database)
        assert {key: incremental[key] for key in counted} == counted, f"day {day}: totals"
        assert {key: full[key] for key in counted} == counted, f"day {day}: totals (full)"
    assert len(edits) == 4


def recount(database: Path) -> dict:
    """`judged_totals` counted from the tables themselves, nothing kept."""
    with open_store(database) as store:
        one = lambda sql: store.db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "listings": one("SELECT COUNT(*) FROM listings"),
            "flagged_listings": one("SELECT COUNT(*) FROM listing_sales WHERE flags != 0"),
            "sellers": one("SELECT COUNT(*) FROM sellers WHERE merged_into IS NULL"),
        }


def test_a_detection_that_judges_everything_counts_its_totals_anew(tmp_path):
    """The listing counts are kept between detections; an older grayhound beside this one
    writes findings without moving them, and the next full detection counts them again."""
    from grayhound.detection import detect_findings

    market = Market(random.Random(5))
    config = load_config(write_config(tmp_path, []))
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-01T00:00:00.000Z")
    assert {k: detect_findings(config)[k] for k in ("listings", "flagged_listings")} == {
        k: v for k, v in recount(config.storage.database).items() if k != "sellers"
    }
    with open_store(config.storage.database) as store, store.db.atomic():
        store.db.execute(
            "UPDATE detection_marks SET value = '3' WHERE name = 'total:flagged_listings'"
        )
        store.db.execute("UPDATE detection_marks SET value = '2 9' WHERE name = 'total:listings'")
    counted = recount(config.storage.database)
    full = detect_findings(config, full=True)
    assert {key: full[key] for key in counted} == counted
    assert counted["flagged_listings"] > 3


def test_a_crawl_committing_while_the_totals_are_counted_stops_nothing(tmp_path, monkeypatch):
    """A crawl beside `detect` commits new listings between the totals' read and their write:
    the command ends as it would have, and the next totals count the new listings."""
    from grayhound.detection import detect_findings
    from grayhound.store import findings

    market = Market(random.Random(11))
    config = load_config(write_config(tmp_path, []))
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-01T00:00:00.000Z")
    detect_findings(config)
    for number in range(1000, 1003):  # three new listings for the crawl
        market.add(number)
    with open_store(config.storage.database) as store, store.db.atomic():
        # none kept, as a detection that judged everything leaves them until its end: both
        # are counted, then written
        store.db.execute("DELETE FROM detection_marks WHERE name LIKE 'total:%'")
    read = findings._parsed  # what reads a kept total, once the marks are read
    crawled = []

    def crawl_meanwhile(value, parts):
        if not crawled:
            crawled.append(value)
            with open_store(config.storage.database) as other:
                market.crawl(other, "2030-01-02T00:00:00.000Z")
        return read(value, parts)

    monkeypatch.setattr(findings, "_parsed", crawl_meanwhile)
    detect_findings(config)  # no "database is locked"
    monkeypatch.undo()
    again = detect_findings(config)  # judges what the crawl brought
    counted = recount(config.storage.database)
    assert crawled and {key: again[key] for key in counted} == counted


def test_every_queue_of_the_store_gives_a_detection_work(tmp_path):
    """A detection with nothing queued loads no detector (`detection_queued`): each queue
    table of the store, and networks to find again, must make it judge."""
    from grayhound.detection import detect_findings
    from grayhound.store.changes import DETECTION_QUEUES

    market = Market(random.Random(3))
    config = load_config(write_config(tmp_path, []))
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-01T00:00:00.000Z")
    detect_findings(config)
    with open_store(config.storage.database) as store:
        assert not store.detection_queued()
        tables = [row[0] for row in store.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND (name LIKE 'pending\\_%' ESCAPE '\\' OR name LIKE '%\\_queue' ESCAPE '\\')"
        )]  # fmt: skip
        assert sorted(tables) == sorted(DETECTION_QUEUES)
        for table in [*tables, "detection_marks"]:
            columns = [column.name for column in store.db[table].columns]
            values = (
                ["dirty:networks", "1"] if table == "detection_marks" else [987654] * len(columns)
            )
            marks = ", ".join("?" for _ in columns)
            store.db.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
            assert store.detection_queued(), table
            store.db.execute(f"DELETE FROM {table} WHERE {columns[0]} = ?", [values[0]])
            assert not store.detection_queued(), table


def test_a_gone_listing_ends_its_finding_and_no_longer_counts_until_it_is_seen_again(tmp_path):
    from grayhound.detection import detect_findings

    market = Market(random.Random(5), listings=30, sellers=4)
    for item in market.listings.values():  # every listing far below MSRP: all flagged
        item["price"], item["condition"] = 99.0, "new"
    config = load_config(write_config(tmp_path, []))
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-01T00:00:00.000Z")
    detect_findings(config)

    def verdict(store, seller_id):
        return store.db.execute(
            "SELECT reasons FROM findings WHERE subject_kind = 'seller' AND subject_id = ?"
            " AND is_current = 1",
            [seller_id],
        ).fetchone()[0]

    seller = market.listings[0]["seller"]
    mine = [n for n, item in market.listings.items() if item["seller"] == seller]
    for number in mine:
        market.listings[number]["gone"] = True

    def current(store, number):
        url = f"{BASE}/item/{number}"
        (listing_id,) = store.db.execute(
            "SELECT id FROM listings WHERE canonical_url = ?", [url]
        ).fetchone()
        rows = store.db.query(
            "SELECT * FROM findings WHERE subject_kind = 'listing' AND subject_id = ? ORDER BY id",
            [listing_id],
        )
        return listing_id, list(rows)

    with open_store(config.storage.database) as store:
        (seller_id,) = store.db.execute(
            "SELECT seller_id FROM listings WHERE canonical_url = ?", [f"{BASE}/item/{mine[0]}"]
        ).fetchone()
        before = verdict(store, seller_id)
        assert "listing" in before  # its listings far below MSRP make part of its verdict
        market.crawl(store, "2030-01-02T00:00:00.000Z")
    counts = detect_findings(config)
    assert counts["work"]["findings_ended"] == len(mine)
    with open_store(config.storage.database) as store:
        listing_id, history = current(store, mine[0])
        assert [row["is_current"] for row in history] == [0]  # history kept, nothing current
        assert history[0]["ended_why"] == "gone: its page answered 404 in crawl run 2"
        flagged = {row["subject_id"] for row in store.flagged_listing_findings()}
        assert listing_id not in flagged
        assert "listing" not in verdict(store, seller_id)  # gone: no longer part of it
    for number in mine:
        market.listings[number]["gone"] = False
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-03T00:00:00.000Z")
    detect_findings(config)
    with open_store(config.storage.database) as store:
        _, history = current(store, mine[0])
        assert [row["is_current"] for row in history] == [0, 1]  # seen again, judged again
        assert verdict(store, seller_id) == before


def test_every_listing_column_detection_reads_queues_the_listing_when_it_changes():
    import re

    from grayhound.store.changes import LISTING_FACTS
    from grayhound.store.detectstate import LISTING_FACTS_SQL

    read = set(re.findall(r"\bl\.(\w+)", LISTING_FACTS_SQL)) - {"id"}
    # the URL is the listing's identity; last_run_id makes it gone or back (a 404 recorded, a
    # trigger of its own queue it)
    assert read - {"last_run_id", "canonical_url"} <= set(LISTING_FACTS), read - set(LISTING_FACTS)
