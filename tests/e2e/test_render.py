"""`render = true`: a storefront whose price appears only after its script fetches it from a
JSON endpoint is read when rendered and missed without; the WARC keeps both original responses
(the HTML as served, the JSON), and the browser's other requests obey robots.txt and
allowed_hosts (a forbidden path and a pixel on another host are never fetched)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.render import chromium_path
from grayhound.demo.jsshop import OFFER_PATH, PRODUCT_PATH, jsshop_router
from grayhound.demo.render import Response
from grayhound.demo.sites import Router, serve_sites

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None, reason="Chromium not installed (apt-get install chromium)"
    ),
]
pytest.importorskip("scrapy_playwright", reason="scrapy-playwright not installed")

CONFIG = """
[storage]
database = "grayhound.db"
evidence_dir = "evidence"

[brands.xiaomi]
name = "Xiaomi"
terms = ["xiaomi", "redmi"]

[[sources]]
name = "volt"
kind = "pages"
start_urls = ["{url}"]
render = {render}

[crawl]
autothrottle = false
"""


@pytest.fixture(scope="module")
def shop():
    pixel = Router()
    pixel.add(r".*", lambda req, match: Response(200, b"GIF89a", "image/gif"))
    with serve_sites({"tracker": 0}, sites={"tracker": pixel}) as tracker:
        router = jsshop_router(tracker.urls["tracker"])
        with serve_sites({"jsshop": 0}, sites={"jsshop": router}) as sites:
            yield sites, tracker


def _crawl(shop, directory: Path, run_cli, render: bool):
    sites, tracker = shop
    sites.clear_requests()
    url = sites.urls["jsshop"] + PRODUCT_PATH
    config = directory / "grayhound.toml"
    config.write_text(CONFIG.format(url=url, render="true" if render else "false"))
    result = run_cli(config, "crawl")
    with sqlite3.connect(directory / "grayhound.db") as conn:
        conn.row_factory = sqlite3.Row
        listings = [dict(r) for r in conn.execute("SELECT * FROM listings")]
        failures = [dict(r) for r in conn.execute("SELECT * FROM crawl_failures")]
    served = [path for _site, _method, path in sites.requests]
    return result, listings, failures, served, list(tracker.requests)


def test_without_rendering_the_price_is_missed_and_said_so(shop, tmp_path, run_cli) -> None:
    result, listings, failures, served, _ = _crawl(shop, tmp_path, run_cli, render=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert listings == []
    (failure,) = failures
    assert failure["reason"].startswith("no price found") and "render = true" in failure["reason"]
    assert OFFER_PATH not in served


def test_rendered_the_price_is_read_and_both_responses_are_evidence(shop, tmp_path, run_cli):
    result, listings, failures, served, pixels = _crawl(shop, tmp_path, run_cli, render=True)
    assert result.returncode == 0, result.stderr[-3000:]
    (listing,) = listings
    assert (listing["price"], listing["currency"]) == ("329.00", "EUR")
    assert listing["title"] == "Xiaomi Redmi Note 13 Pro 5G 256GB Midnight Black"
    assert failures == []

    records = {}
    for path in sorted((tmp_path / "evidence").rglob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    records[url.split("/", 3)[3]] = record.content_stream().read()
    page, offer = records[PRODUCT_PATH.lstrip("/")], records[OFFER_PATH.lstrip("/")]
    # as served, not the DOM: the placeholder, and no price anywhere but in the tracker's URL,
    # whose port is any number the system gave (one with "329" in it failed this line once)
    served_text = re.sub(rb'data-tracker="[^"]*"', b"", page)
    assert b'id="price">Preis wird geladen' in page and b"329" not in served_text
    assert b'"price": "329.00"' in offer

    # every request the browser made went through the crawler's rules
    assert not any(path.startswith("/private/") for path in served)  # robots.txt
    assert not any(path.startswith("/img/") for path in served)  # images change no text
    assert pixels == []  # another host: outside allowed_hosts
    assert served.count(PRODUCT_PATH) == 1 and served.count(OFFER_PATH) == 1
