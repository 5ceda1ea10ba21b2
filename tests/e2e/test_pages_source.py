"""A `pages` source: hundreds of pasted URLs on a loopback retail site — product pages with
each kind of offer evidence, marketplace pages with other sellers, and the rest of a real list
(categories, reviews, dead links, moved pages, redirects to another host, a page robots.txt
forbids, a JSON feed). Fetched exactly, nothing followed; every URL that gives no listing says
why; a distributor gets a pricing report from it."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from urllib.parse import urlsplit

import pytest

from grayhound.demo.render import Response
from grayhound.demo.retail import OTHER_SELLERS, retail_router, url_list
from grayhound.demo.sites import Router, serve_sites

pytestmark = pytest.mark.slow

URLS = 330  # thirty of each kind of URL a pasted list holds
EXPECTED_REASON = {
    "category": "not a product page (a list page",
    "blog": "not a product page (an article (JSON-LD BlogPosting)",
    "gone": "HTTP 404",
    "away": "refused: redirect to",
    "private": "blocked by robots.txt",
    "feed": "not an HTML page (application/json",
}
CONFIG = """
[storage]
database = "grayhound.db"
evidence_dir = "evidence"

[brands.xiaomi]
name = "Xiaomi"
terms = ["xiaomi", "redmi", "poco"]
official_domains = ["mi.com"]

[[catalog]]
brand = "xiaomi"
model = "Xiaomi 14 Pro"
msrp = {{ EUR = 1099.0 }}

[[catalog]]
brand = "xiaomi"
model = "Redmi Note 13 Pro"
msrp = {{ EUR = 449.0 }}

[pricing]
rates = {{ EUR = 1.08 }}

[[sources]]
name = "competitors"
kind = "pages"
start_urls_file = "competitor-urls.txt"
currency = "EUR"

[crawl]
autothrottle = false
"""


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, run_cli):
    trap = Router()
    trap.add(r".*", lambda req, match: Response(410, b"not allowed"))
    with serve_sites({"trap": 0}, sites={"trap": trap}) as other:
        retail = retail_router(away=other.urls["trap"])
        with serve_sites({"retail": 0}, sites={"retail": retail}) as sites:
            directory = tmp_path_factory.mktemp("pages")
            listed = url_list(sites.urls["retail"], URLS)
            (directory / "competitor-urls.txt").write_text("\n".join(u for u, _ in listed) + "\n")
            config = directory / "grayhound.toml"
            config.write_text(CONFIG.format())
            result = run_cli(config, "crawl")
            yield {
                "config": config,
                "listed": listed,
                "result": result,
                "served": sites.requests,
                "elsewhere": other.requests,
                "db": directory / "grayhound.db",
            }


def _rows(db, sql):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql)]


def test_every_listed_product_page_gives_listings_and_nothing_else_is_fetched(crawled) -> None:
    assert crawled["result"].returncode == 0, crawled["result"].stderr[-3000:]
    kinds = Counter(kind for _, kind in crawled["listed"])
    listings = _rows(crawled["db"], "SELECT * FROM listings")
    # each product page and each moved one (followed inside the site) is one listing; each
    # marketplace page is four: its buy box and three other sellers
    assert len(listings) == kinds["product"] + kinds["moved"] + 4 * kinds["multi"]
    assert all(row["price"] and row["currency"] == "EUR" for row in listings)
    listed_paths = {urlsplit(url).path for url, _ in crawled["listed"]}
    moved_to = {
        f"/p/{urlsplit(url).path.rsplit('/', 1)[1]}" for url, k in crawled["listed"] if k == "moved"
    }
    served = {path for site, _method, path in crawled["served"]}
    assert served <= listed_paths | moved_to | {"/robots.txt"}, sorted(served - listed_paths)[:10]
    assert not any(path.startswith("/private/") for path in served)
    assert crawled["elsewhere"] == []  # the off-site redirect was refused before any request


def test_each_url_without_a_listing_is_reported_with_why(crawled) -> None:
    failures = {
        row["url"]: row["reason"] for row in _rows(crawled["db"], "SELECT * FROM crawl_failures")
    }
    for url, kind in crawled["listed"]:
        if kind in EXPECTED_REASON:
            assert failures.get(url, "").startswith(EXPECTED_REASON[kind]), (url, failures.get(url))
        else:
            assert url not in failures, (url, failures[url])
    summary = crawled["result"].stdout
    expected = sum(1 for _, kind in crawled["listed"] if kind in EXPECTED_REASON)
    assert f"competitors: no listing from {expected} URLs:" in summary
    assert "30 HTTP 404" in summary and "60 not a product page" in summary


def test_a_page_with_a_buy_box_and_three_other_sellers_is_four_listings(crawled) -> None:
    page = next(url for url, kind in crawled["listed"] if kind == "multi")
    rows = _rows(
        crawled["db"], f"SELECT * FROM listings WHERE canonical_url = '{page}' ORDER BY offer_key"
    )
    assert [r["offer_key"] for r in rows] == [
        "",
        "seller:gadget outlet",
        "seller:phone palace",
        "seller:rebuy mobile",
    ]
    sellers = {r["seller_name"]: r for r in rows}
    assert set(sellers) == {"Handy Haus", *(name for name, _, _ in OTHER_SELLERS)}
    assert sellers["ReBuy Mobile"]["condition"] == "refurbished"
    assert len({r["price"] for r in rows}) == 4


def test_a_distributor_gets_a_pricing_report_with_every_competitor(crawled, run_cli) -> None:
    config = crawled["config"]
    assert run_cli(config, "detect").returncode == 0
    result = run_cli(
        config, "prices", "--currency", "EUR", "--condition", "any", "--format", "json"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = {m["model"]: m for m in json.loads(result.stdout)["models"]}
    assert set(report) == {"Xiaomi 14 Pro", "Redmi Note 13 Pro"}
    sellers = {c["seller"] for m in report.values() for c in m["competitors"]}
    assert {"Handy Haus", "Phone Palace", "ReBuy Mobile", "Gadget Outlet"} <= sellers
    assert "127.0.0.1" in sellers  # a shop's own page names no seller: the shop is its host
