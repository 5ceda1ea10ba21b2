"""A small change costs detection a small amount of work, whatever the store holds (issue 19):
one price moved and one listing added re-judge those two listings (and a peer whose outlier
signal moved), give a verdict to their seller only, compute robust z-scores only for the
peers that may be outliers, and read no seller's description sample again — the listings
that sample was read from did not change. The findings themselves are checked equal to a
full run by tests/grayhound/test_incremental.py."""

from __future__ import annotations

import json
import random

import pytest

from grayhound.config import load_config
from grayhound.store import Store, open_store
from tests.grayhound.test_incremental import Market, write_config

LISTINGS, SELLERS = 600, 4  # 150 listings a seller: a full description sample each


@pytest.fixture
def judged(tmp_path):
    from grayhound.detection import detect_findings

    market = Market(random.Random(19), listings=LISTINGS, sellers=SELLERS)
    config = load_config(write_config(tmp_path, []))
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-01T00:00:00.000Z")
    detect_findings(config)
    return market, config


def test_one_price_and_one_new_listing_cost_two_listings_and_their_seller(judged, monkeypatch):
    import detectors.prices
    from grayhound.detection import detect_findings

    market, config = judged
    moved = next(n for n, item in market.listings.items() if item["condition"] == "new")
    market.listings[moved]["price"] = round(market.listings[moved]["price"] * 0.97, 2)
    market.add(LISTINGS)  # of the same seller: its sample was filled before both
    market.listings[LISTINGS]["seller"] = market.listings[moved]["seller"]
    sellers = {market.listings[moved]["seller"]}
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-02T00:00:00.000Z")
        groups = store.db.execute(
            "SELECT peer_group, COUNT(*) FROM listing_peers GROUP BY peer_group"
        ).fetchall()
    read = {"descriptions": 0, "medians": 0}
    descriptions, median = Store.seller_descriptions, detectors.prices._median_without

    def counted_descriptions(self, seller_id):
        for row in descriptions(self, seller_id):
            read["descriptions"] += 1
            yield row

    def counted_median(*args):
        read["medians"] += 1
        return median(*args)

    monkeypatch.setattr(Store, "seller_descriptions", counted_descriptions)
    monkeypatch.setattr(detectors.prices, "_median_without", counted_median)
    work = detect_findings(config)["work"]

    assert work["listings_read"] == 2
    outliers_moved = work["listings_judged"] - 2  # peers whose outlier signal changed
    assert 0 <= outliers_moved <= 2
    assert work["sellers_given_verdicts"] <= len(sellers)
    assert work["peer_groups"] <= 2
    # the seller's sample was full before the new listing, and a price is not its text
    assert read["descriptions"] == 0
    # robust z of a few members, not of each of the group's (leave-one-out) peers: the
    # medians a z needs (each at most 3 + 2 per member scored) stay below the group's size
    largest = max(count for _, count in groups)
    assert largest > 50
    assert read["medians"] < largest


def test_a_kept_description_sample_is_read_again_when_a_listing_it_was_read_from_changes(
    judged, tmp_path
):
    """Sellers whose samples are full (150 listings each): a description changed early in a
    seller's listings, a listing moved between sellers, new and gone listings — each day
    the networks and verdicts equal a full detection's, and a sample is read again only for
    the sellers such a change reached."""
    from grayhound.detection import detect_findings
    from tests.grayhound.test_incremental import TEMPLATE, copy_store, snapshot

    market, config = judged
    rng = random.Random(7)
    other = tmp_path / "full"
    other.mkdir()
    for day in range(2, 8):
        early = sorted(market.listings)[: LISTINGS // 8]  # within the samples
        touched = set()
        for number in rng.sample(early, 2):  # a template shared across sellers
            market.listings[number]["description"] = TEMPLATE + f" {rng.randrange(3)}"
            touched.add(market.listings[number]["seller"])
        if day % 2:
            number = rng.choice(early)  # moves to another seller: two samples change
            touched.add(market.listings[number]["seller"])
            market.listings[number]["seller"] = (market.listings[number]["seller"] + 1) % SELLERS
            touched.add(market.listings[number]["seller"])
        market.add(len(market.listings))  # late: no sample reads it
        market.listings[rng.choice(sorted(market.listings)[-100:])]["gone"] = True
        with open_store(config.storage.database) as store:
            market.crawl(store, f"2030-01-{day:02d}T00:00:00.000Z")
        copy_store(config.storage.database, other / "grayhound.db")
        full_config = load_config(write_config(other, []))
        counts = detect_findings(config)
        work = counts["work"]
        detect_findings(full_config, full=True)
        assert _totals(config.storage.database) == (
            counts["flagged_listings"],
            counts["risky_sellers"],
        )
        ours = snapshot(config.storage.database, config)
        theirs = snapshot(other / "grayhound.db", full_config)
        assert _samples(config.storage.database) == _samples(other / "grayhound.db"), day
        assert ours["networks"], "the shared template ties sellers"
        assert 0 < work["samples_read"] <= len(touched), day
        for part in ("findings", "networks", "members", "cases", "digest"):
            assert ours[part] == theirs[part], f"day {day}: {part} differ"


def _samples(database) -> list[tuple]:
    with open_store(database) as store:
        sql = "SELECT seller_id, position, text FROM seller_texts ORDER BY 1, 2"
        return store.db.execute(sql).fetchall()


def _totals(database) -> tuple[int, int]:
    """Flagged listings and risky sellers counted from every current finding."""
    with open_store(database) as store:
        one = lambda sql: store.db.execute(sql).fetchone()[0]  # noqa: E731
        return (
            one(
                "SELECT COUNT(*) FROM findings WHERE subject_kind = 'listing' AND is_current = 1"
                " AND flags != '[]'"
            ),
            one(
                "SELECT COUNT(*) FROM findings WHERE subject_kind = 'seller' AND is_current = 1"
                " AND verdict IN ('impersonation', 'suspicious')"
            ),
        )


def test_a_new_listing_whose_title_another_has_reads_no_title(judged, monkeypatch):
    """Marketplaces repeat titles: a new listing with a title (brand and category) another
    listing already had is not read again, whatever its own condition and description, and
    is judged as a listing read from scratch would be; a new title is read once, however many
    new listings carry it. A moved price reads no title either."""
    from detectors.listings import ListingFacts, assess_listings
    from detectors.models import CatalogIndex
    from grayhound.detection import detect_findings

    market, config = judged
    known = next(n for n, item in market.listings.items() if item["condition"] == "new")
    market.add(LISTINGS)
    market.listings[LISTINGS].update(
        title=market.listings[known]["title"], condition="used", description="barely used, mint"
    )
    for number in (LISTINGS + 1, LISTINGS + 2):  # the same new title twice
        market.add(number)
        market.listings[number]["title"] = "Xiaomi 14 Pro 512GB never seen"
    market.listings[known]["price"] = round(market.listings[known]["price"] * 0.9, 2)
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-02T00:00:00.000Z")
    read = []
    match = CatalogIndex._match

    def counted(self, title, brand=None):
        read.append(title)
        return match(self, title, brand)

    monkeypatch.setattr(CatalogIndex, "_match", counted)
    work = detect_findings(config)["work"]

    assert work["listings_read"] == 4
    assert read == ["Xiaomi 14 Pro 512GB never seen"]
    assert work["titles_read"] == 1
    with open_store(config.storage.database) as store:
        row = store.db.execute(
            "SELECT l.id, f.model, f.condition, f.reasons, f.model_reason, f.attributes"
            " FROM listings l JOIN findings f ON f.subject_kind = 'listing'"
            " AND f.subject_id = l.id AND f.is_current = 1 WHERE l.url LIKE ?",
            [f"%/item/{LISTINGS}"],
        ).fetchone()
    item = market.listings[LISTINGS]
    monkeypatch.setattr(CatalogIndex, "_match", match)
    from detectors import BrandBook

    facts = ListingFacts(
        id=row[0], title=item["title"], price=str(item["price"]), currency="USD",
        condition="used", description=item["description"],
    )  # fmt: skip
    fresh = assess_listings([facts], BrandBook.from_config(config))[0]
    assert row[1:3] == (fresh.model, "used")
    assert row[4] == fresh.model_reason and row[5] == json.dumps(fresh.attributes, sort_keys=True)


def test_the_kept_sales_are_what_sql_derives_from_the_current_findings(judged):
    """What a judged listing adds to its seller's verdict is written from the finding in
    hand (`listing_sales_row`): the same rows migration 0012 derives from the stored
    findings in SQL, after prices moved and listings went."""
    from grayhound.detection import detect_findings
    from grayhound.models import FLAGS
    from grayhound.store.detectstate import _listing_sales_sql

    market, config = judged
    rng = random.Random(3)
    for number in rng.sample(sorted(market.listings), 60):
        market.listings[number]["price"] = round(market.listings[number]["price"] * 0.5, 2)
    for number in rng.sample(sorted(market.listings), 5):
        market.listings[number]["gone"] = True
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-02T00:00:00.000Z")
    assert detect_findings(config)["work"]["findings_ended"] == 5
    sql = "SELECT * FROM listing_sales ORDER BY listing_id"
    with open_store(config.storage.database) as store:
        kept = store.db.execute(sql).fetchall()
        with store.db.atomic():
            store.db.execute("DELETE FROM listing_sales")
            store.db.execute(_listing_sales_sql(FLAGS, ""))
            derived = store.db.execute(sql).fetchall()
    assert len(kept) == LISTINGS - 5
    assert kept == derived


def make_outlier(market, config, day: str) -> None:
    """A listing of a peer group priced four times its peers, crawled on `day` and judged."""
    from grayhound.detection import detect_findings

    with open_store(config.storage.database) as store:
        url = store.db.execute(
            "SELECT l.url FROM listing_peers p JOIN listings l ON l.id = p.listing_id"
            " WHERE p.peer_ratio BETWEEN 0.85 AND 1.0 ORDER BY l.id LIMIT 1"
        ).fetchone()[0]
    far = market.listings[int(url.rsplit("/", 1)[1])]
    far["price"] = round(far["price"] * 4, 2)
    with open_store(config.storage.database) as store:
        market.crawl(store, day)
    detect_findings(config)


def test_a_listing_read_for_its_price_is_judged_without_reading_its_facts_again(
    judged, monkeypatch
):
    """The read pass hands the listings it read to the judge pass: a moved price reads the
    listing's facts and kept state once, not once to price it for its peers and again to
    judge it; an outlier whose price moved is judged with its peer signal as the peers pass
    leaves it (its wording names its ratio) — the findings are the pure detectors'."""
    from grayhound.detection import detect_findings
    from tests.grayhound.test_incremental import oracle

    market, config = judged
    make_outlier(market, config, "2030-01-02T00:00:00.000Z")
    with open_store(config.storage.database) as store:  # the outlier and its peers
        outlier, group = store.db.execute(
            "SELECT listing_id, peer_group FROM listing_peers WHERE peer_signal IS NOT NULL"
            " ORDER BY listing_id LIMIT 1"
        ).fetchone()
        urls = store.db.execute(
            "SELECT l.url FROM listing_peers p JOIN listings l ON l.id = p.listing_id"
            " WHERE p.peer_group = ? ORDER BY p.listing_id = ? DESC, l.id LIMIT 21",
            [group, outlier],
        ).fetchall()
    for (url,) in urls:  # the outlier's price moves, and its peers' median
        number = int(url.rsplit("/", 1)[1])
        market.listings[number]["price"] = round(market.listings[number]["price"] * 1.03, 2)
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-03T00:00:00.000Z")
    reads = {"facts": [], "states": []}
    fact_rows, states = Store.listing_fact_rows, Store.listing_states

    def counted_facts(self, ids):
        reads["facts"] += ids
        return fact_rows(self, ids)

    def counted_states(self, ids):
        reads["states"] += list(ids)
        return states(self, ids)

    monkeypatch.setattr(Store, "listing_fact_rows", counted_facts)
    monkeypatch.setattr(Store, "listing_states", counted_states)
    work = detect_findings(config)["work"]
    monkeypatch.undo()

    assert work["listings_read"] == 21
    for read in reads.values():
        assert len(read) == len(set(read)) == work["listings_judged"], read
    expected, _ = oracle(config.storage.database, config)
    with open_store(config.storage.database) as store:
        found = {
            (kind, subject_id): fingerprint
            for kind, subject_id, fingerprint in store.db.execute(
                "SELECT subject_kind, subject_id, fingerprint FROM findings WHERE is_current = 1"
            )
        }
        reason = store.db.execute(
            "SELECT reasons FROM findings WHERE subject_id = ? AND is_current = 1", [outlier]
        ).fetchone()[0]
    assert "far over the" in reason
    assert found == expected


def test_an_image_ties_the_sellers_that_show_it_and_no_one_seller_alone(tmp_path):
    # image keys as the read pass keeps them: most held by one seller (often on several of its
    # listings), a few by two or more; a listing without a seller ties nobody
    holders = {
        "one-seller": [1, 1, 1],
        "two-sellers": [2, 3, 2, 3, 3],
        "with-no-seller": [4, None, None],
        "eight": [*range(10, 18), 10],
        "nine": list(range(20, 29)),
    }
    rows = [(key, seller) for key, sellers in holders.items() for seller in sellers]
    with open_store(tmp_path / "grayhound.db") as store:
        store.db.conn.executemany(
            "INSERT INTO listing_state (listing_id, image_key, seller_id) VALUES (?, ?, ?)",
            [(listing_id, key, seller) for listing_id, (key, seller) in enumerate(rows, 1)],
        )
        found = dict(store.image_holders(8))
    assert found == {"two-sellers": [2, 3], "eight": list(range(10, 18))}


def test_a_judged_listing_whose_sales_did_not_move_leaves_its_sales_row_alone(judged):
    from grayhound.detection import detect_findings

    market, config = judged
    used = next(n for n, item in market.listings.items() if item["condition"] != "new")
    market.listings[used]["price"] = round(market.listings[used]["price"] * 0.97, 2)
    with open_store(config.storage.database) as store:
        market.crawl(store, "2030-01-02T00:00:00.000Z")
        before = {row[0]: row for row in store.db.execute("SELECT * FROM listing_sales")}
        store.db.execute("CREATE TABLE sales_writes (listing_id INTEGER)")
        for event in ("INSERT", "UPDATE"):
            store.db.execute(
                f"CREATE TRIGGER sales_{event.lower()} AFTER {event} ON listing_sales"
                " BEGIN INSERT INTO sales_writes VALUES (new.listing_id); END"
            )
    work = detect_findings(config)["work"]
    with open_store(config.storage.database) as store:
        after = {row[0]: row for row in store.db.execute("SELECT * FROM listing_sales")}
        written = [row[0] for row in store.db.execute("SELECT listing_id FROM sales_writes")]

    # the used listing's price adds nothing to its seller's sums: only moved rows are written
    assert sorted(written) == sorted(i for i in after if after[i] != before.get(i))
    assert work["listings_judged"] > len(written)
