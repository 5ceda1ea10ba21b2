"""The digest: groups and counts across digests, crawl health, and hostile text kept inert."""

from __future__ import annotations

import csv
import io
import json

from grayhound.pipeline import produce_digest
from reports.digest.render import render


def healthy(world) -> dict:
    return {"bazaar": world.figures(40), "shopfront": world.figures(20)}


def first_day(world) -> dict[str, int]:
    run = world.run(0, healthy(world))
    ids = {
        "cheap": world.listing(run, 0, 1, title="Xiaomi 14 Pro 512GB", price="449.00"),
        "steady": world.listing(run, 0, 2, title="Redmi Note 13", price="189.00"),
        "clean": world.listing(run, 0, 3, title="Xiaomi 14 case", price="19.00"),
    }
    world.judge(
        run,
        0.6,
        world.finding(
            ids["cheap"], "impersonation", 0.95, ["impersonation", "price_low"], msrp=999.0
        ),
        world.finding(ids["steady"], "suspicious", 0.6, ["price_low"]),
        world.finding(ids["clean"], "clean", 0.05, []),
    )
    return ids


def groups(digest) -> dict[str, list[str]]:
    return {g: [i["title"] for i in items] for g, items in digest.items.items()}


def test_first_digest_shows_every_flagged_listing_as_new(world, example_config):
    first_day(world)
    digest = produce_digest(world.store, example_config, world.at(1))
    assert digest.counts["groups"] == {"new": 2, "changed": 0, "still_open": 0}
    assert digest.counts["flags"] == {"price_low": 2, "impersonation": 1}
    assert groups(digest)["new"] == ["Xiaomi 14 Pro 512GB", "Redmi Note 13"]  # riskiest first
    assert digest.items["new"][0]["price_text"] == "$449.00 — 45 % of MSRP $999.00"


def test_next_digest_splits_new_changed_and_still_open(world, example_config):
    ids = first_day(world)
    produce_digest(world.store, example_config, world.at(1))
    run = world.run(24, healthy(world))
    world.listing(run, 24, 1, title="Xiaomi 14 Pro 512GB", price="399.00")
    world.listing(run, 24, 2, title="Redmi Note 13", price="189.00")
    fresh = world.listing(run, 24, 4, title="POCO F6 Pro", price="199.00")
    world.judge(run, 24.6, world.finding(fresh, "suspicious", 0.55, ["price_low"]))

    digest = produce_digest(world.store, example_config, world.at(25))

    assert groups(digest) == {
        "new": ["POCO F6 Pro"],
        "changed": ["Xiaomi 14 Pro 512GB"],
        "still_open": ["Redmi Note 13"],
    }
    assert digest.items["changed"][0]["changes"] == ["price 449.00 → 399.00 USD (-11%)"]
    assert digest.counts["groups"] == {"new": 1, "changed": 1, "still_open": 1}
    assert ids["cheap"] == digest.items["changed"][0]["subject_id"]


def test_a_preview_is_not_remembered(world, example_config):
    first_day(world)
    produce_digest(world.store, example_config, world.at(1), record=False)
    again = produce_digest(world.store, example_config, world.at(2))
    assert again.counts["groups"]["new"] == 2
    assert len(world.store.digests()) == 1


def test_since_compares_with_an_older_moment(world, example_config):
    first_day(world)
    produce_digest(world.store, example_config, world.at(1))
    produce_digest(world.store, example_config, world.at(2))
    week = produce_digest(world.store, example_config, world.at(3), since="7d", record=False)
    assert week.counts["groups"]["new"] == 2  # nothing was shown before 7 days ago


def test_crawl_health_warns_when_a_source_goes_blind(world, example_config):
    first_day(world)
    world.run(
        24,
        {"bazaar": world.figures(38, price=0.5), "shopfront": world.figures(0, pages=12)},
        failures=[("bazaar", "http://127.0.0.1:8301/item/9.html", 503, "HTTP 503 after 3 tries")],
    )
    digest = produce_digest(world.store, example_config, world.at(25))
    warnings = digest.health["warnings"]
    assert any("bazaar: listings with a price fell from 100% to 50%" in w for w in warnings)
    assert any(w.startswith("shopfront: yielded no listings from 12 pages") for w in warnings)

    html = render(digest, "html")
    warning = html.index("Crawl health: the monitor may not be seeing")
    assert warning < html.index("Sellers to act on")
    assert "http://127.0.0.1:8301/item/9.html" in html and "HTTP 503 after 3 tries" in html


def test_hostile_text_is_shown_as_text(world, example_config):
    run = world.run(0, healthy(world))
    listing_id = world.listing(
        run, 0, 1, title="<script>alert(1)</script>", price="10.00", seller="=1+2"
    )
    world.judge(run, 0.6, world.finding(listing_id, reasons=['"><img src=x onerror=alert(2)>']))
    digest = produce_digest(world.store, example_config, world.at(1))

    html = render(digest, "html")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in render(digest, "md")

    rows = list(csv.DictReader(io.StringIO(render(digest, "csv"))))
    assert rows[0]["seller"] == "'=1+2"
    assert rows[0]["title"] == "<script>alert(1)</script>"  # CSV is data, not markup


def test_json_carries_the_same_content_with_stable_keys(world, example_config):
    first_day(world)
    digest = produce_digest(world.store, example_config, world.at(1))
    data = json.loads(render(digest, "json"))
    assert list(data) == sorted(
        [
            "counts",
            "created_at",
            "crawl_health",
            "failures",
            "groups",
            "networks",
            "previous_digest_at",
            "sellers",
            "since",
        ]
    )
    item = data["groups"]["new"][0]
    assert {"case_id", "state", "reasons", "price_text", "first_seen", "url"} <= set(item)
    assert data["counts"]["groups"] == {"new": 2, "changed": 0, "still_open": 0}


def test_an_item_links_to_its_stored_capture(world, example_config):
    run = world.run(0, healthy(world))
    listing_id = world.listing(run, 0, 1, title="Xiaomi 14 Pro", price="449.00")
    world.judge(run, 0.6, world.finding(listing_id, "impersonation", 0.9, ["impersonation"]))
    capture = {
        "record_id": "<urn:uuid:1>",
        "url": "http://127.0.0.1:8301/item/1.html",
        "warc_file": "warc/run-1.warc.gz",
        "offset": 120,
        "length": 900,
        "payload_sha256": "ab" * 32,
        "fetched_at": world.stamp(0.1),
    }
    world.store.record_capture(run, capture)
    world.store.link_capture("<urn:uuid:1>", "listing", listing_id)
    digest = produce_digest(world.store, example_config, world.at(1))

    assert digest.items["new"][0]["capture"]["sha256"] == "ab" * 32
    html = render(digest, "html", evidence_dir="/srv/evidence")
    assert 'href="file:///srv/evidence/warc/run-1.warc.gz"' in html
    assert "sha256 abababababab…" in html


def test_an_item_names_its_listings_newest_capture_by_when_it_was_fetched(world, example_config):
    """A listing captured by every crawl: its item names the capture fetched last (the
    highest id among captures fetched at the same moment), whatever order they were stored
    in, and each link carries its capture's moment, however the link was written (issue 19,
    round 49: the newest capture is one search of the links' index by moment)."""
    run = world.run(0, healthy(world))
    listing_id = world.listing(run, 0, 1, title="Xiaomi 14 Pro", price="449.00")
    world.judge(run, 0.6, world.finding(listing_id, "impersonation", 0.9, ["impersonation"]))
    # record -> when it was fetched: 5 ties 2 and was stored later; 6, stored last, is older
    fetched = {1: 0.3, 2: 0.5, 3: 0.1, 4: 0.2, 5: 0.5, 6: 0.4}
    for record, at in fetched.items():
        capture = {
            "record_id": f"<urn:uuid:{record}>",
            "url": "http://127.0.0.1:8301/item/1.html",
            "warc_file": f"warc/run-{record}.warc.gz",
            "offset": 120,
            "length": 900,
            "payload_sha256": f"{record:02d}" * 32,
            "fetched_at": world.stamp(at),
        }
        world.store.record_capture(run, capture)
        if record == 4:  # a link written as an older grayhound wrote it: its moment not given
            capture_id = world.store.db.execute(
                "SELECT id FROM captures WHERE record_id = ?", ["<urn:uuid:4>"]
            ).fetchone()[0]
            world.store.db.execute(
                "INSERT INTO capture_links (capture_id, subject_kind, subject_id)"
                " VALUES (?, 'listing', ?)",
                [capture_id, listing_id],
            )
        else:
            world.store.link_capture(f"<urn:uuid:{record}>", "listing", listing_id)
    links = world.store.db.execute(
        "SELECT k.fetched_at, c.fetched_at FROM capture_links k"
        " JOIN captures c ON c.id = k.capture_id WHERE k.subject_id = ?",
        [listing_id],
    ).fetchall()
    assert len(links) == 6 and all(link == moment for link, moment in links)
    digest = produce_digest(world.store, example_config, world.at(1))

    assert digest.items["new"][0]["capture"]["sha256"] == "05" * 32
    assert digest.items["new"][0]["capture"]["warc_file"] == "warc/run-5.warc.gz"


def test_pages_lead_with_sellers_and_say_where_the_rest_are(world, example_config, monkeypatch):
    monkeypatch.setattr("reports.digest.sellers.WORST_SHOWN", 1)
    first_day(world)
    digest = produce_digest(world.store, example_config, world.at(1))

    html = render(digest, "html")
    assert html.index("Sellers to act on") < html.index("XiaomiWorld") < html.index("Xiaomi 14 Pro")
    assert "Redmi Note 13" not in html  # the card shows its one worst listing
    assert "1 more flagged listings of this seller" in html
    markdown = render(digest, "md")
    assert "Redmi Note 13" not in markdown and "1 more flagged listings in JSON/CSV" in markdown

    data = json.loads(render(digest, "json"))
    assert [s["name"] for s in data["sellers"]] == ["XiaomiWorld"]
    assert data["sellers"][0]["flagged_listings"] == 2
    assert len(data["groups"]["new"]) == 2
    assert len(list(csv.DictReader(io.StringIO(render(digest, "csv"))))) == 2


def test_sellers_beyond_the_cards_and_informational_ones_go_into_tables(
    world, example_config, monkeypatch
):
    monkeypatch.setattr("reports.digest.render.SELLER_CARDS", 0)
    run = world.run(0, healthy(world))
    risky = world.listing(run, 0, 1, title="Xiaomi 14 Pro", price="449.00", seller="Cheapo")
    resold = world.listing(run, 0, 2, title="Xiaomi 14", price="799.00", seller="PhoneHub")
    world.judge(
        run,
        0.6,
        world.finding(risky, "suspicious", 0.6, ["price_low"]),
        world.finding(resold, "clean", 0.1, ["unauthorized_seller"]),
    )
    digest = produce_digest(world.store, example_config, world.at(1))
    html = render(digest, "html")
    more = html.index("1 more sellers to act on")
    informational = html.index("Informational: unauthorized resellers")
    assert more < html.index("Cheapo") < informational < html.index("PhoneHub")
    assert digest.counts["sellers"] == {
        "total": 2, "to_act_on": 1, "informational": 1, "networks": 0,
        "listings_without_seller": 0,
    }  # fmt: skip


def test_the_cli_writes_every_format_to_a_file(config_world, example_config_path, tmp_path):
    from grayhound.cli import main

    first_day(config_world)
    config = ["--config", str(example_config_path)]
    for fmt in ("html", "md", "json", "csv"):
        out = tmp_path / f"digest.{fmt}"
        assert main([*config, "digest", "--no-record", "--out", str(out)]) == 0
        assert "Xiaomi 14 Pro 512GB" in out.read_text(encoding="utf-8")
    data = json.loads((tmp_path / "digest.json").read_text(encoding="utf-8"))
    assert data["counts"]["groups"] == {"new": 2, "changed": 0, "still_open": 0}


def test_to_dict_is_plain_data_with_the_json_forms_content(world, example_config):
    first_day(world)
    digest = produce_digest(world.store, example_config, world.at(1))
    plain = digest.to_dict()
    assert type(plain["groups"]["new"][0]) is dict
    assert json.loads(json.dumps(plain)) == json.loads(render(digest, "json"))
