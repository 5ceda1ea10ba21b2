"""Extraction on the hostile site's pages (grayhound.demo.hostile): a JSON-LD bomb costs only
itself, one stray byte costs only itself, a header lying about UTF-16 is caught."""

from __future__ import annotations

import json

from crawler.pages import extract_listing
from grayhound.demo.hostile import STRAY_TITLE, hostile_router, product_page
from grayhound.demo.render import Request

BASE = "http://127.0.0.1:8399"


def fetch(path: str):
    response = hostile_router().resolve(Request("hostile", "GET", path, {}, BASE))
    return extract_listing(BASE + path, response.body, {"Content-Type": response.content_type})


def test_a_10000_level_json_ld_block_costs_only_itself():
    listing = fetch("/nested.html")
    assert listing.is_product
    assert (listing.title, listing.price, listing.seller) == (
        "Xiaomi 14 Pro nested edition",
        "499.00",
        "Nested Store",
    )
    assert listing.field_sources["title"] == "json-ld"
    assert any("nested" in problem for problem in listing.problems), listing.problems


def test_deep_but_parseable_json_ld_is_skipped_not_fatal():
    deep = json.dumps(json.loads('{"@type": "Thing", "@graph":' * 600 + "1" + "}" * 600))
    page = product_page("Xiaomi 14 Pro deep", "Deep Store", None)
    page = page.replace("</head>", f'<script type="application/ld+json">{deep}</script></head>')
    listing = extract_listing(BASE + "/deep.html", page.encode(), {})
    assert (listing.title, listing.price) == ("Xiaomi 14 Pro deep", "499.00")
    assert not any("layer failed" in problem for problem in listing.problems), listing.problems


def test_one_stray_byte_costs_only_itself():
    listing = fetch("/stray-byte.html")
    assert listing.title == STRAY_TITLE  # not "GrÃ¶ÃŸe"
    assert any("invalid UTF-8" in problem for problem in listing.problems), listing.problems
    # while a Windows-1252 page declared UTF-8 (no valid UTF-8 sequence at all) is still read so
    page = product_page("Xiaomi 14 Pro édition €", "Café Store", None).encode("cp1252")
    listing = extract_listing(BASE + "/x.html", page, {"Content-Type": "text/html; charset=utf-8"})
    assert listing.title == "Xiaomi 14 Pro édition €"


def test_a_header_lying_about_utf16_still_yields_the_listing():
    listing = fetch("/utf16-lie.html")
    assert listing.is_product and listing.title == "Xiaomi 14 Pro liar edition"
    assert any("utf-16" in problem for problem in listing.problems), listing.problems
    # while real UTF-16 (with its byte order mark) is still read as UTF-16
    page = product_page("Xiaomi 14 Pro wide edition", "Wide Store", None)
    body = page.replace('<meta charset="utf-8">', "").encode("utf-16")
    listing = extract_listing(BASE + "/w.html", body, {"Content-Type": "text/html; charset=utf-16"})
    assert listing.title == "Xiaomi 14 Pro wide edition"
