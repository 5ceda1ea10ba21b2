"""Sellers in grayhound serve, on the seller model of docs/sellers.md: a seller page with its
verdict and its history, every identifier with where it was read, its listings and its network;
a network page across sources with the signals that tie it and its bundle; the queue's seller
verdicts, seller cases and one seller's cases; seller-level triage."""

from __future__ import annotations

import json
import re
import zipfile

import lxml.html
import pytest

from tests.serve.conftest import IMPERSONATOR, PHONE, build_store, offer_page, write_config


def store_of(config):
    from grayhound.store import open_store

    return open_store(config.storage.database)


def seller_named(config, name: str) -> dict:
    with store_of(config) as store:
        return next(row for row in store.seller_rows() if row["name"] == name)


def document(response):
    assert response.status_code == 200, response.text[:500]
    return lxml.html.document_fromstring(response.text)


def rows_of(doc, table_class: str) -> list[list[str]]:
    """The text of each cell of each body row of the table with this class."""
    return [
        [" ".join(cell.text_content().split()) for cell in row.xpath("td")]
        for row in doc.xpath(f"//table[contains(@class, '{table_class}')]/tbody/tr")
    ]


@pytest.fixture
def signed_in(served_store, client_for):
    _, config = served_store
    client = client_for(config)
    client.sign_in()
    return client, config


@pytest.fixture
def fresh(tmp_path, client_for):
    """A store of its own (for tests that change it) and a signed-in client of it."""
    from grayhound.config import load_config

    config = load_config(write_config(tmp_path))
    build_store(config)
    client = client_for(config)
    client.sign_in()
    return client, config


# -- the seller page ---------------------------------------------------------------------------
def test_the_seller_page_shows_its_verdict_and_every_identifier_with_its_provenance(signed_in):
    client, config = signed_in
    seller = seller_named(config, IMPERSONATOR)
    doc = document(client.get(f"/-/grayhound/seller/{seller['id']}"))
    assert doc.xpath("string(//h1//span[contains(@class, 'gh-verdict')])") == "impersonation"
    reasons = doc.xpath("//h2[.='Why']/following-sibling::ul[1]/li")
    assert [" ".join(li.text_content().split()) for li in reasons] == seller["reasons"]
    identifiers = {(row[0], row[1], row[2]) for row in rows_of(doc, "gh-aliases") if len(row) == 6}
    assert {
        ("name", "Redmi Outlet", "listing text seller name"),
        ("website", "redmi-official.shop", "profile text (website)"),
        ("phone", PHONE, "profile json-ld telephone"),
    } <= identifiers
    facts = " ".join(doc.xpath("string(//dl[@class='gh-facts'])").split())
    assert "redmi-official.shop" in facts  # its claimed domain
    profile = doc.xpath("//dl[@class='gh-facts']//a")[0]
    assert profile.get("href").endswith("/seller/redmi-official-outlet.html")
    assert profile.get("rel") == "noopener noreferrer nofollow"
    data = client.get(f"/-/grayhound/seller/{seller['id']}.json").json()
    assert data["seller"]["verdict"] == "impersonation"
    assert data["claimed_domains"] == ["redmi-official.shop"]
    kinds = {group["kind"] for group in data["identifiers"]}
    assert {"name", "profile", "website", "phone", "address"} <= kinds


def test_the_seller_page_lists_its_listings_with_prices_against_msrp(signed_in):
    client, config = signed_in
    seller = seller_named(config, IMPERSONATOR)
    doc = document(client.get(f"/-/grayhound/seller/{seller['id']}"))
    table = doc.xpath("//h2[starts-with(., 'Listings')]/following-sibling::table[1]")[0]
    (row,) = [
        [" ".join(td.text_content().split()) for td in tr.xpath("td")]
        for tr in table.xpath("tbody/tr")
    ]
    assert row[0] == "Xiaomi 14 Pro 256GB Black"
    assert row[1] == "$419.00 — 42 % of MSRP $999.00"
    assert row[2] == "Xiaomi 14 Pro" and "price_low" in row[5]


def test_the_seller_page_leads_to_its_network_and_what_ties_it(signed_in):
    client, config = signed_in
    seller = seller_named(config, IMPERSONATOR)
    doc = document(client.get(f"/-/grayhound/seller/{seller['id']}"))
    link = f"/-/grayhound/network/{seller['network_id']}"
    assert doc.xpath(f"//a[@href='{link}']")
    network = " ".join(doc.xpath("string(//div[@class='gh-network'])").split())
    assert "across bazaar, shopfront" in network
    assert f"same phone number {PHONE}" in network and "Phone Deals Direct" in network


def test_the_network_page_shows_its_sellers_across_sources_and_the_signals(signed_in):
    client, config = signed_in
    network_id = seller_named(config, IMPERSONATOR)["network_id"]
    doc = document(client.get(f"/-/grayhound/network/{network_id}"))
    sellers = doc.xpath("//h2[.='Its sellers']/following-sibling::table[1]/tbody/tr")
    shown = {(tr.xpath("string(td[1])").strip(), tr.xpath("string(td[2])")) for tr in sellers}
    assert ("Redmi Official Outlet", "bazaar") in shown
    assert ("Phone Deals Direct", "shopfront") in shown
    assert len(shown) == 3
    signals = doc.xpath("//h2[.='What ties them']/following-sibling::table[1]/tbody/tr")
    kinds = {tr.xpath("string(td[1])").strip(): tr for tr in signals}
    assert set(kinds) == {"phone", "address"}
    between = kinds["address"].xpath("td[3]//a/@href")
    ids = {seller_named(config, n)["id"] for n in (IMPERSONATOR, "Phone Deals Direct")}
    assert between == [f"/-/grayhound/seller/{i}" for i in sorted(ids)]
    data = client.get(f"/-/grayhound/network/{network_id}.json").json()
    assert data["network"]["sources"] == ["bazaar", "shopfront"] and data["member_count"] == 3
    assert client.get("/-/grayhound/network/999").status_code == 404


def test_a_networks_evidence_bundle_downloads_from_its_page_and_verifies(signed_in, tmp_path):
    from reports.evidence.verify import verify_bundle

    client, config = signed_in
    network_id = seller_named(config, IMPERSONATOR)["network_id"]
    page = f"/-/grayhound/network/{network_id}"
    form = {"kind": "network", "subject_id": str(network_id)}
    response = client.post("/-/grayhound/export", {**form, "csrftoken": client.csrftoken(page)})
    assert response.status_code == 303
    assert re.search(r"/bundles/network-\d+-\d{8}T\d{6}Z\.zip$", response.headers["location"])
    bundle = tmp_path / "network.zip"
    bundle.write_bytes(client.get(response.headers["location"]).content)
    result = verify_bundle(bundle)
    assert result.ok, result.problems
    manifest = json.loads(zipfile.ZipFile(bundle).read("manifest.json"))
    assert manifest["subject"]["kind"] == "network"
    assert len(manifest["captures"]) == 3  # one listing page of each of its three sellers
    # a network has no case: the review form refuses it
    refused = client.post(
        "/-/grayhound/review",
        {**form, "state": "confirmed", "note": "x", "csrftoken": client.csrftoken(page)},
    )
    assert refused.status_code == 404


def test_the_verdict_history_shows_what_each_judgement_added(fresh):
    from grayhound.detection import detect_findings
    from tests.evidence.conftest import simulate_run
    from tests.serve.conftest import SHOP_ORIGIN

    client, config = fresh
    before = seller_named(config, "Phone Deals Direct")
    assert before["verdict"] == "unauthorized"
    cheap = offer_page(
        "/products/xiaomi-14-pro", "Xiaomi 14 Pro 256GB", "389.00", "Phone Deals Direct",
        (("site", "127.0.0.1:8302", "crawled storefront"),), SHOP_ORIGIN,
    )  # fmt: skip
    simulate_run(config, [cheap], "shopfront")
    detect_findings(config)
    after = seller_named(config, "Phone Deals Direct")
    assert after["verdict"] == "suspicious"
    doc = document(client.get(f"/-/grayhound/seller/{after['id']}"))
    history = doc.xpath("//h2[.='Verdict history']/following-sibling::table[1]/tbody/tr")
    assert [tr.xpath("string(td[2])").strip() for tr in history] == ["suspicious", "unauthorized"]
    new = [
        " ".join(li.text_content().split())
        for li in history[0].xpath(".//li[span[@class='gh-new']]")
    ]
    added = [r for r in after["reasons"] if r not in before["reasons"]]
    assert added and new == ["new " + r for r in added]


# -- the queue ----------------------------------------------------------------------------------
def test_the_seller_verdict_facet_reads_each_sellers_stored_verdict(signed_in):
    client, config = signed_in
    with store_of(config) as store:
        verdicts = {row["id"]: row["verdict"] for row in store.seller_rows()}
    rows = client.get("/triage/queue.json", params={"_shape": "array", "_size": "max"}).json()
    assert rows and all(row["seller_verdict"] == verdicts[row["seller_id"]] for row in rows)
    sellers = [row for row in rows if row["kind"] == "seller"]
    assert {row["subject_id"] for row in sellers} == {
        seller_id
        for seller_id, verdict in verdicts.items()
        if verdict not in ("clean", "authorized")
    }  # every seller with something against it is a case of its own, as in the digest
    impersonating = client.get(
        "/triage/queue.json", params={"_shape": "array", "seller_verdict": "impersonation"}
    ).json()
    assert {row["seller_id"] for row in impersonating} == {
        seller_id for seller_id, verdict in verdicts.items() if verdict == "impersonation"
    }
    network = {row["network_id"] for row in rows if row["seller_id"] in _network_ids(config)}
    assert len(network) == 1 and None not in network


def _network_ids(config) -> set[int]:
    with store_of(config) as store:
        return set(store.network_ids())


def test_the_queue_shows_one_sellers_cases(signed_in):
    client, config = signed_in
    seller = seller_named(config, "Xiaomi Official Store")
    rows = client.get(
        "/triage/queue.json", params={"_shape": "array", "seller_id": seller["id"]}
    ).json()
    kinds = sorted(row["kind"] for row in rows)
    assert kinds == ["listing", "listing", "seller"]  # its own case and its two listings'
    (own,) = [row for row in rows if row["kind"] == "seller"]
    assert own["flagged_listings"] == 2
    page = document(client.get("/triage/queue", params={"seller_id": seller["id"]}))
    banner = " ".join(page.xpath("string(//p[@class='gh-filtered'])").split())
    assert banner.startswith("Only the cases of seller Xiaomi Official Store impersonation")
    queue = document(client.get("/triage/queue"))
    filters = queue.xpath("//td[contains(@class, 'col-seller')]//a[@class='gh-filter']/@href")
    assert f"/triage/queue?seller_id={seller['id']}" in filters
    seller_page = document(client.get(f"/-/grayhound/seller/{seller['id']}"))
    assert seller_page.xpath(f"//a[@href='/triage/queue?seller_id={seller['id']}']")


# -- seller-level triage --------------------------------------------------------------------------
def test_dismissing_a_seller_dismisses_its_informational_listing_cases(fresh):
    from grayhound.triage import HELD_NOTE

    client, config = fresh
    client.get("/triage/queue")  # cases for every flagged subject
    seller = seller_named(config, "Phone Deals Direct")  # its one listing: unauthorized only
    page = f"/-/grayhound/seller/{seller['id']}"
    doc = document(client.get(page))
    hint = " ".join(doc.xpath("string(//section[@class='gh-decide'])").split())
    assert "also dismisses its 1 listing case that only say unauthorized_seller" in hint
    form = {"kind": "seller", "subject_id": str(seller["id"]), "state": "dismissed"}
    form |= {"note": "genuine stock, not our fight", "csrftoken": client.csrftoken(page)}
    assert client.post("/-/grayhound/review", form).status_code == 302
    shown = client.get(page).text
    assert "1 of its listing case followed" in shown
    with store_of(config) as store:
        (listing_case,) = store.listing_cases(seller["id"])
        entry = store.review_log(listing_case["id"])[-1]
    assert listing_case["state"] == "dismissed"
    assert entry["by"] == "grayhound" and entry["note"].startswith(HELD_NOTE)
    rows = client.get(
        "/triage/queue.json", params={"_shape": "array", "seller_id": seller["id"]}
    ).json()
    assert {row["state"] for row in rows} == {"dismissed"} and {r["group"] for r in rows} == {
        "closed"
    }


def test_a_merged_sellers_page_leads_to_the_seller_it_joined(fresh):
    client, config = fresh
    keep = seller_named(config, "Gadget Hut")["id"]
    drop = seller_named(config, "Phone Deals Direct")["id"]
    with store_of(config) as store:
        store.merge_sellers(keep, drop, "the same seller by its profile, @id or key")
    response = client.get(f"/-/grayhound/seller/{drop}")
    assert response.status_code == 302
    assert response.headers["location"] == f"/-/grayhound/seller/{keep}"
    doc = document(client.get(f"/-/grayhound/seller/{keep}"))
    merged = " ".join(doc.xpath("string(//dl[@class='gh-facts'])").split())
    assert f"seller #{drop} Phone Deals Direct" in merged
