"""Sellers as the unit, end to end on issue 13's fixture marketplace (fixtures/sites/souk/):
three crawls, each real seller exactly one grayhound seller with stable id, every alias kept,
the marketplace's own Organization never a seller, the network found, verdicts right; and a
Shopify store whose /products.json lacks currency."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SOUK = ROOT / "fixtures" / "sites" / "souk"
TRUTH = json.loads((SOUK / "ground_truth.json").read_text())


def config_with(directory: Path, sources: str) -> Path:
    """example.toml's brands, allowlist and catalog with these sources instead of its own."""
    example = (ROOT / "grayhound" / "example.toml").read_text()
    head, tail = example.split("[[sources]]", 1)[0], example.split("[crawl]", 1)[1]
    path = directory / "grayhound.toml"
    path.write_text(head + sources + "\n[crawl]" + tail)
    return path


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def souk(tmp_path_factory, run_cli):
    from grayhound.demo.sites import serve_sites
    from grayhound.demo.static import static_router

    directory = tmp_path_factory.mktemp("souk")
    ids = []
    with serve_sites(sites={"souk": static_router(SOUK)}) as served:
        host = served.urls["souk"].split("//")[1]
        config = config_with(
            directory,
            f'[[sources]]\nname = "souk"\nkind = "marketplace"\n'
            f'start_urls = ["http://{host}/search/phones/page-1.html"]\n'
            f'allowed_hosts = ["{host}"]\ncurrency = "USD"\n',
        )
        for crawl in range(3):
            served.price_set = crawl
            for args in (("crawl",), ("detect",)):
                result = run_cli(config, *args)
                assert result.returncode == 0, result.stderr[-3000:]
            sellers = jsonl(run_cli(config, "export", "sellers").stdout)
            ids.append({urlsplit(u).path: s["id"] for s in sellers for u in s["profile_urls"]})
        listings = jsonl(run_cli(config, "export", "listings").stdout)
    return {"config": config, "sellers": sellers, "listings": listings, "ids": ids}


def by_truth(souk) -> dict[str, dict]:
    """Each real seller's grayhound seller, found through its profile URL."""
    found = {urlsplit(u).path: s for s in souk["sellers"] for u in s["profile_urls"]}
    return {truth["key"]: found[truth["profile_path"]] for truth in TRUTH["sellers"]}


def test_every_real_seller_is_exactly_one_seller(souk):
    assert len(souk["sellers"]) == len(TRUTH["sellers"])
    sellers = by_truth(souk)
    seller_of = {urlsplit(r["canonical_url"]).path: r["seller_id"] for r in souk["listings"]}
    for truth in TRUTH["sellers"]:
        held = {seller_of[path] for path in truth["listings"] if path in seller_of}
        assert held == {sellers[truth["key"]]["id"]}, truth["key"]  # no split, no merge


def test_aliases_and_claimed_domains_are_kept_with_provenance(souk):
    sellers = by_truth(souk)
    for truth in TRUTH["sellers"]:
        seller = sellers[truth["key"]]
        assert set(truth["names"]) == {seller["name"], *seller["aliases"]}, truth["key"]
        assert set(truth["claimed_domains"]) <= set(seller["claimed_domains"]), truth["key"]
        assert all(i["via"] and i["first_seen"] for i in seller["identifiers"])
    gph = sellers["gph"]
    assert gph["name"] == "GPH Wireless" and gph["aliases"] == ["Galaxy Phone Hub"]
    novatel = {(i["kind"], i["via"]) for i in sellers["novatel"]["identifiers"]}
    assert ("website", "listing json-ld seller URL") in novatel  # named by its website only
    assert ("ld_id", "listing json-ld offers.seller @id") in novatel  # and by its @id only


def test_the_marketplace_itself_is_never_a_seller(souk):
    for seller in souk["sellers"]:
        names = [seller["name"], *seller["aliases"]]
        assert not any("Souk Marketplace" in (n or "") for n in names), seller
        raws = {i["raw"] for i in seller["identifiers"]}
        assert not raws & {"help@souk.example", "+1 800 555 0100"}, seller["name"]


def test_seller_ids_stay_the_same_across_three_crawls(souk):
    first, second, third = souk["ids"]
    assert first == second == third and len(first) == len(TRUTH["sellers"])


def test_networks_and_verdicts_match_the_ground_truth(souk):
    sellers = by_truth(souk)
    networks = {}
    for key, seller in sellers.items():
        if seller["network_id"] is not None:
            networks.setdefault(seller["network_id"], set()).add(key)
    assert sorted(map(sorted, networks.values())) == [
        sorted(n["members"]) for n in TRUTH["networks"]
    ]
    wrong = [
        f"{t['key']}: {sellers[t['key']]['verdict']} != {t['expected_verdict']}"
        for t in TRUTH["sellers"]
        if sellers[t["key"]]["verdict"] != t["expected_verdict"]
    ]
    assert not wrong, "\n".join(wrong)
    assert any("samsung.shop" in reason for reason in sellers["gph"]["reasons"])


def test_listings_carry_their_sellers_verdict_and_network(souk):
    sellers = by_truth(souk)
    row = next(r for r in souk["listings"] if r["canonical_url"].endswith("/item/1002.html"))
    assert row["seller_id"] == sellers["novatel"]["id"]
    assert row["seller_verdict"] == "unauthorized" and row["network_id"] is not None
    assert row["seller_risk"] == sellers["novatel"]["risk"]


def test_export_sellers_csv_has_the_contract_fields(souk, run_cli):
    text = run_cli(souk["config"], "export", "sellers", "--format", "csv").stdout
    header = next(csv.reader(io.StringIO(text)))
    assert header[:14] == [
        "id", "source", "name", "aliases", "profile_urls", "claimed_domains", "verdict", "risk",
        "reasons", "listings", "flag_counts", "network_id", "first_seen", "last_seen",
    ]  # fmt: skip


def test_a_network_exports_as_one_evidence_bundle(souk, run_cli, tmp_path):
    sellers = by_truth(souk)
    network = sellers["novatel"]["network_id"]
    out = tmp_path / "network.zip"
    result = run_cli(souk["config"], "evidence", "export", "--network", str(network), "--out",
                     str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    urls = {urlsplit(c["url"]).path for c in manifest["captures"]}
    assert {"/shop/novatel/", "/shop/kiwi-mobile/", "/item/1002.html", "/item/1005.html"} <= urls
    assert run_cli(souk["config"], "evidence", "verify", str(out)).returncode == 0


def test_digest_leads_with_sellers_and_dismissing_one_holds_its_listings(souk, run_cli, tmp_path):
    config = souk["config"]
    page = tmp_path / "digest.html"
    assert run_cli(config, "digest", "--out", str(page)).returncode == 0
    html = page.read_text()
    assert html.index("Seller networks <span") < html.index("Sellers to act on <span")
    assert html.index("GPH Wireless") < html.index("Informational: unauthorized resellers")
    cases = json.loads(run_cli(config, "review", "list", "--format", "json").stdout)
    novatel = next(c for c in cases if c["kind"] == "seller" and c["subject"] == "NovaTel Trading")
    listed = [c for c in cases if c["kind"] == "listing" and c["seller"] == "NovaTel Trading"]
    assert listed
    result = run_cli(config, "review", "set", str(novatel["case_id"]), "dismissed", "--note", "ok")
    assert result.returncode == 0, result.stderr
    active = json.loads(run_cli(config, "review", "list", "--format", "json").stdout)
    assert not [c for c in active if c["seller"] == "NovaTel Trading"]
    held = json.loads(run_cli(config, "review", "list", "--state", "dismissed",
                              "--format", "json").stdout)  # fmt: skip
    assert {c["case_id"] for c in listed} <= {c["case_id"] for c in held}


def shop_router():
    """A Shopify store whose /meta.json names its currency (EUR) and public domain; one
    product has no condition in the feed, but its own page states it."""
    from grayhound.demo.render import Response, as_json
    from grayhound.demo.sites import Router

    product = {
        "handle": "xiaomi-14-pro", "title": "Xiaomi 14 Pro 12GB+512GB", "vendor": "Xiaomi",
        "tags": [], "variants": [{"price": "549.00", "available": True, "sku": "X14P"}],
    }  # fmt: skip
    page = (
        "<!doctype html><html><head><script type='application/ld+json'>"
        '{"@type":"Product","name":"Xiaomi 14 Pro 12GB+512GB","offers":{"@type":"Offer",'
        '"price":"549.00","priceCurrency":"EUR",'
        '"itemCondition":"https://schema.org/RefurbishedCondition"}}'
        "</script></head><body><h1>Xiaomi 14 Pro 12GB+512GB</h1></body></html>"
    )
    meta = {"name": "Deals EU", "currency": "EUR", "domain": "deals-eu.example",
            "myshopify_domain": "deals-eu.myshopify.com"}  # fmt: skip

    def products(req, match):
        return as_json({"products": [product] if req.arg("page", "1") == "1" else []})

    return Router.from_table(
        [
            (r"/meta\.json", lambda req, match: as_json(meta)),
            (r"/products\.json", products),
            (r"/products/xiaomi-14-pro", lambda req, match: Response(200, page.encode())),
            (r"/.*", lambda req, match: Response(200, b"<html><body>shop</body></html>")),
        ]
    )


def test_shopify_meta_facts_reach_every_product(tmp_path, run_cli):
    from grayhound.demo.sites import serve_sites

    with serve_sites(sites={"shop": shop_router()}) as served:
        host = served.urls["shop"].split("//")[1]
        config = config_with(
            tmp_path,
            f'[[sources]]\nname = "shop"\nkind = "shopify"\nstart_urls = ["http://{host}/"]\n'
            f'allowed_hosts = ["{host}"]\n',  # no currency, no site_domain
        )
        assert run_cli(config, "crawl").returncode == 0
    assert run_cli(config, "detect").returncode == 0
    [row] = jsonl(run_cli(config, "export", "listings").stdout)
    assert (row["currency"], row["seller"], row["seller_domain"]) == (
        "EUR", "Deals EU", "deals-eu.example",
    )  # fmt: skip
    assert row["condition"] == "refurbished"  # from the product's own page
    assert row["currency_source"] == "the shop's /meta.json currency EUR"
    [seller] = jsonl(run_cli(config, "export", "sellers").stdout)
    assert {"deals-eu.example", "deals-eu.myshopify.com"} <= set(seller["claimed_domains"])
