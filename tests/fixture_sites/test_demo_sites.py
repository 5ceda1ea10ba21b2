"""The bundled fixture sites: what the loopback server serves, and that fixtures/sites/
ground_truth.json agrees with it (paths, counts, prices, price sets, robots trap)."""

from __future__ import annotations

import html
import json
import re
import socket
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import pytest

from grayhound.demo.sites import DEFAULT_PORTS, serve_sites
from grayhound.models import CONDITIONS, FLAGS, SELLER_VERDICTS

ROOT = Path(__file__).resolve().parents[2]
GROUND_TRUTH = json.loads((ROOT / "fixtures" / "sites" / "ground_truth.json").read_text())
FREE_PORTS = {name: 0 for name in DEFAULT_PORTS}
START_PATHS = {
    "bazaar": "/search/phones/page-1.html",
    "mi-official-store": "/",
    "gadgetcorner": "/",
}
HREF = re.compile(r'href="([^"]+)"')
CANONICAL = re.compile(r'<link rel="canonical" href="([^"]+)"')


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def products_json(base: str, query: str = "") -> list[dict]:
    status, body = fetch(f"{base}/products.json{query}")
    assert status == 200
    return json.loads(body)["products"]


def truth(source: str) -> list[dict]:
    return [listing for listing in GROUND_TRUTH["listings"] if listing["source"] == source]


@pytest.fixture(scope="module")
def sites():
    with serve_sites(FREE_PORTS) as served:
        yield served


def crawl(base: str, start: str) -> dict:
    """A small robots-obeying crawler: every same-host href from `start`, each URL once."""
    robots = RobotFileParser()
    robots.parse(fetch(base + "/robots.txt")[1].splitlines())
    origin = urlsplit(base).netloc
    seen, blocked, broken, canonicals = set(), set(), set(), set()
    queue = [start]
    while queue:
        target = queue.pop()
        if target in seen or target in blocked:
            continue
        if not robots.can_fetch("*", base + target):
            blocked.add(target)
            continue
        seen.add(target)
        status, body = fetch(base + target)
        if status != 200:
            broken.add((target, status))
            continue
        canonicals.update(urlsplit(url).path for url in CANONICAL.findall(body))
        for href in HREF.findall(body):
            url = urlsplit(urljoin(base + target, html.unescape(href)))
            if url.netloc == origin:
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return {"seen": seen, "blocked": blocked, "broken": broken, "canonicals": canonicals}


def price_renderings(price: str) -> set[str]:
    """How a decimal string may be written on a page: 1299.00, 1,299.00, 1.299,00, 1,299."""
    value = Decimal(price)
    us = f"{value:,.2f}"
    forms = {price, us, us.replace(",", " ").replace(".", ",").replace(" ", ".")}
    if value == value.to_integral_value():
        forms |= {f"{value:,.0f}", f"{value:.0f}"}
    return forms


# ---------------------------------------------------------------- the server


def test_binds_loopback_only_and_serves_every_site(sites):
    assert set(sites.urls) == {"bazaar", "mi-official-store", "gadgetcorner"}
    for name, url in sites.urls.items():
        assert urlsplit(url).hostname == "127.0.0.1"
        status, body = fetch(url + START_PATHS[name])
        assert status == 200 and "<html" in body


def test_requests_are_recorded_with_query(sites):
    fetch(sites.urls["gadgetcorner"] + "/kategorie/zubehoer.html?seite=1")
    assert ("gadgetcorner", "GET", "/kategorie/zubehoer.html?seite=1") in sites.requests


def test_unknown_path_is_404(sites):
    assert fetch(sites.urls["bazaar"] + "/nope.html")[0] == 404
    assert fetch(sites.urls["bazaar"] + "/item/1.html")[0] == 404


def test_context_manager_frees_ports_also_on_error():
    with pytest.raises(RuntimeError), serve_sites(FREE_PORTS) as served:
        ports = {urlsplit(url).port for url in served.urls.values()}
        raise RuntimeError("boom")
    for port in ports:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))  # free again: would raise if still bound
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            pass


def test_busy_default_port_falls_back_to_a_free_one():
    with socket.socket() as squatter:
        try:
            squatter.bind(("127.0.0.1", DEFAULT_PORTS["bazaar"]))
        except OSError:
            pytest.skip("default port already in use by something else")
        squatter.listen()
        with serve_sites() as served:
            assert urlsplit(served.urls["bazaar"]).port != DEFAULT_PORTS["bazaar"]
            assert fetch(served.urls["bazaar"] + "/robots.txt")[0] == 200


# ---------------------------------------------------------------- bazaar


def test_search_pagination_ends(sites):
    base, path, pages, results = sites.urls["bazaar"], "/search/phones/page-1.html", 0, 0
    while path:
        status, body = fetch(base + path)
        assert status == 200
        pages += 1
        results += body.count('<li class="result')
        next_link = re.search(r'<link rel="next" href="([^"]+)"', body)
        path = next_link.group(1) if next_link else None
    counts = GROUND_TRUTH["counts"]["bazaar"]
    assert (pages, results) == (counts["search_pages"], counts["search_results"])
    assert 'rel="next"' not in body  # the last page
    assert fetch(f"{base}/search/phones/page-{pages + 1}.html")[0] == 404


def test_robots_disallows_the_linked_trap(sites):
    base, trap = sites.urls["bazaar"], GROUND_TRUTH["robots_trap"]
    robots_txt = fetch(base + "/robots.txt")[1]
    assert f"Sitemap: {base}/sitemap.xml" in robots_txt
    robots = RobotFileParser()
    robots.parse(robots_txt.splitlines())
    assert not robots.can_fetch("*", base + trap)
    assert fetch(base + trap)[0] == 200  # served: only obeying robots.txt keeps it out
    linked = [n for n in range(1, 5) if trap in fetch(f"{base}/search/phones/page-{n}.html")[1]]
    assert len(linked) == 1


def test_duplicate_links_collapse_through_canonical(sites):
    for duplicate in GROUND_TRUTH["duplicate_links"]:
        base = sites.urls[duplicate["source"]]
        status, body = fetch(base + duplicate["path"])
        assert status == 200
        assert CANONICAL.search(body).group(1) == base + duplicate["canonical_path"]


@pytest.mark.parametrize("source", ["bazaar", "gadgetcorner", "mi-official-store"])
def test_robots_obeying_crawl_finds_exactly_the_ground_truth(sites, source):
    result = crawl(sites.urls[source], START_PATHS[source])
    assert not result["broken"]
    product_path = {"bazaar": "/item/", "gadgetcorner": "/p/", "mi-official-store": "/products/"}
    found = {p for p in result["canonicals"] if p.startswith(product_path[source])}
    assert found == {listing["canonical_path"] for listing in truth(source)}
    if source == "bazaar":
        assert GROUND_TRUTH["robots_trap"] in result["blocked"]
        sellers = {p for p in result["seen"] if p.startswith("/seller/")}
        assert len(sellers) == GROUND_TRUTH["counts"]["bazaar"]["sellers"]


def test_exactly_one_malformed_json_ld_block_and_visible_text_still_right(sites):
    malformed = []
    for listing in truth("bazaar"):
        body = fetch(sites.urls["bazaar"] + listing["canonical_path"])[1]
        for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', body, re.S):
            try:
                json.loads(block)
            except ValueError:
                malformed.append((listing, body))
    assert len(malformed) == 1
    listing, body = malformed[0]
    assert f"<h1>{html.escape(listing['title'], quote=False)}</h1>" in body


# ---------------------------------------------------------------- mi-official-store (Shopify)


def test_products_json_pages_end_with_an_empty_page(sites):
    base, expected = sites.urls["mi-official-store"], len(truth("mi-official-store"))
    assert len(products_json(base)) == expected  # default limit 30 holds them all
    assert products_json(base, "?page=2") == []
    handles, page = [], 1
    while batch := products_json(base, f"?limit=4&page={page}"):
        assert len(batch) <= 4
        handles += [product["handle"] for product in batch]
        page += 1
    assert page == -(-expected // 4) + 1 and len(set(handles)) == expected


def test_products_json_has_shopify_shape(sites):
    product = products_json(sites.urls["mi-official-store"], "?limit=1")[0]
    assert {"id", "title", "handle", "vendor", "product_type", "tags", "variants"} <= set(product)
    variant = product["variants"][0]
    assert isinstance(variant["price"], str) and re.fullmatch(r"\d+\.\d\d", variant["price"])
    assert {"compare_at_price", "available", "sku"} <= set(variant)


def test_meta_json_names_the_store(sites):
    meta = json.loads(fetch(sites.urls["mi-official-store"] + "/meta.json")[1])
    assert meta["name"] == "Mi Official Store" and meta["domain"] == "mi-official-store.shop"
    assert meta["currency"] == "USD" and meta["myshopify_domain"].endswith(".myshopify.com")


# ---------------------------------------------------------------- ground truth vs. server


def test_every_ground_truth_path_is_served(sites):
    for listing in GROUND_TRUTH["listings"]:
        assert fetch(sites.urls[listing["source"]] + listing["canonical_path"])[0] == 200
    for seller in GROUND_TRUTH["sellers"]:
        if seller["profile_path"]:
            status, body = fetch(sites.urls[seller["source"]] + seller["profile_path"])
            assert status == 200 and html.escape(seller["name"]) in body


def test_counts_match_the_listings_and_sellers():
    for source, counts in GROUND_TRUTH["counts"].items():
        assert counts["listings"] == len(truth(source))
        sellers = [s for s in GROUND_TRUTH["sellers"] if s["source"] == source]
        assert counts["sellers"] == len(sellers)
        assert {listing["seller"] for listing in truth(source)} == {s["name"] for s in sellers}


def test_ground_truth_prices_titles_and_sellers_appear_on_the_pages(sites):
    shopify = {p["handle"]: p for p in products_json(sites.urls["mi-official-store"])}
    for listing in GROUND_TRUTH["listings"]:
        body = fetch(sites.urls[listing["source"]] + listing["canonical_path"])[1]
        page = html.unescape(body)
        assert listing["title"] in page
        if listing["price"] is None:
            assert "Price on request" in page
        else:
            forms = price_renderings(listing["price"])
            assert any(form in page for form in forms), (listing["canonical_path"], forms)
        if listing["source"] == "bazaar":
            assert f">{listing['seller']}</a>" in page
        if listing["source"] == "mi-official-store":
            handle = listing["canonical_path"].rsplit("/", 1)[1]
            assert shopify[handle]["variants"][0]["price"] == listing["price"]


def test_ground_truth_values_are_well_formed():
    models = {m for m in re.findall(r'^model = "(.+)"$', _example_toml(), re.M)}
    for listing in GROUND_TRUTH["listings"]:
        assert listing["price"] is None or re.fullmatch(r"\d+\.\d\d", listing["price"])
        assert listing["currency"] in (None, "USD", "EUR", "GBP")
        assert listing["condition"] in CONDITIONS
        assert set(listing["expected_flags"]) <= set(FLAGS)
        assert listing["expected_seller_verdict"] in SELLER_VERDICTS
        assert listing["model"] is None or listing["model"] in models
        assert listing["why"]
    assert {listing["model"] for listing in GROUND_TRUTH["listings"]} >= models


def _example_toml() -> str:
    return (ROOT / "grayhound" / "example.toml").read_text()


# ---------------------------------------------------------------- price sets


def _price_on_page(sites, source: str, path: str) -> str | None:
    """The offer price a page shows: structured data first, else the first visible price."""
    status, body = fetch(sites.urls[source] + path)
    if status == 404:
        return None
    for pattern in (r'"price": "?([\d.]+)"?', r'itemprop="price" content="([\d.]+)"'):
        if match := re.search(pattern, body):
            return f"{Decimal(match.group(1)):.2f}"
    label = re.search(r'<span class="price[^"]*"[^>]*>([^<]+)<', body).group(1)
    digits = re.sub(r"[^\d.,]", "", label)
    if re.search(r",\d\d$", digits):  # German: 1.299,00
        digits = digits.replace(".", "").replace(",", ".")
    return f"{Decimal(digits.replace(',', '')):.2f}"


def test_price_sets_change_the_right_prices():
    sets = GROUND_TRUTH["price_sets"]
    with serve_sites(FREE_PORTS) as served:
        for price_set in (0, 1, 2):
            served.price_set = price_set
            for change in sets["changes"]:
                page_price = _price_on_page(served, change["source"], change["canonical_path"])
                assert page_price == change["prices"][str(price_set)], (change, price_set)
            for removed in sets["removed"]:
                status = fetch(served.urls[removed["source"]] + removed["canonical_path"])[0]
                assert (status == 404) == (price_set in removed["absent_in_sets"])
            for added in sets["added"]:
                status = fetch(served.urls[added["source"]] + added["canonical_path"])[0]
                assert (status == 200) == (price_set in added["present_in_sets"])
        served.price_set = 1
        handle = next(c for c in sets["changes"] if c["source"] == "mi-official-store")
        prices = {
            p["handle"]: p["variants"][0]["price"]
            for p in products_json(served.urls[handle["source"]])
        }
        assert prices[handle["canonical_path"].rsplit("/", 1)[1]] == handle["prices"]["1"]


def test_unchanged_listings_keep_their_price_across_sets():
    changed = {c["canonical_path"] for c in GROUND_TRUTH["price_sets"]["changes"]}
    steady = [g for g in truth("gadgetcorner") if g["canonical_path"] not in changed][:3]
    with serve_sites(FREE_PORTS, price_set=2) as served:
        for listing in steady:
            assert (
                _price_on_page(served, "gadgetcorner", listing["canonical_path"])
                == listing["price"]
            )


def test_price_set_must_be_known():
    with serve_sites(FREE_PORTS) as served, pytest.raises(ValueError):
        served.price_set = 3


def test_listing_counts_per_price_set():
    item_pattern = {"bazaar": r"<loc>[^<]+/item/\d+\.html</loc>", "gadgetcorner": r"/p/[^<]+</loc>"}
    with serve_sites(FREE_PORTS) as served:
        for price_set in (0, 1, 2):
            served.price_set = price_set
            counts = {
                source: len(re.findall(pattern, fetch(served.urls[source] + "/sitemap.xml")[1]))
                for source, pattern in item_pattern.items()
            }
            counts["mi-official-store"] = len(products_json(served.urls["mi-official-store"]))
            expected = GROUND_TRUTH["price_sets"]["listings_by_set"]
            assert counts == {source: n[str(price_set)] for source, n in expected.items()}
