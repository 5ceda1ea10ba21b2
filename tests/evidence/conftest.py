"""Evidence fixtures: simulated crawl runs that go through the real capture middleware, spider
middleware and store batch writer with Scrapy Request/Response objects (no network, no reactor)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from grayhound.models import Listing, Seller

CONFIG = """
[storage]
database = "grayhound.db"
evidence_dir = "evidence"

[brands.xiaomi]
name = "Xiaomi"
terms = ["xiaomi"]
"""


@dataclass(frozen=True)
class Page:
    url: str
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    listing: Listing | None = None
    seller: Seller | None = None


def product_page(title: str, price: str, seller: str = "Shady Phones") -> bytes:
    offer = {"@type": "Offer", "price": price, "priceCurrency": "USD"}
    ld = json.dumps(
        {"@context": "https://schema.org", "@type": "Product", "name": title, "offers": offer}
    )
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>"
        f'<script type="application/ld+json">{ld}</script>'
        '<script>fetch("http://tracker.example/x")</script>'
        '<link rel="stylesheet" href="http://cdn.example/site.css"></head>'
        f'<body onload="steal()"><h1>{title}</h1><p class="price">${price}</p>'
        f'<img src="http://cdn.example/phone.jpg"><p>Sold by {seller}</p>'
        + "<p>Filler so the page is large enough to be stored once per payload.</p>" * 12
        + "</body></html>"
    ).encode()


@pytest.fixture
def config(tmp_path: Path):
    from grayhound.config import load_config

    path = tmp_path / "grayhound.toml"
    path.write_text(CONFIG)
    return load_config(path)


@pytest.fixture
def crawl(config):
    """crawl(pages, source="bazaar") -> run id: one simulated crawl run of these pages."""
    return lambda pages, source="bazaar": simulate_run(config, pages, source)


def simulate_run(config, pages: list[Page], source: str = "bazaar") -> int:
    from scrapy import Request, Spider
    from scrapy.http import HtmlResponse, TextResponse
    from scrapy.utils.test import get_crawler

    from crawler.capture.middleware import CaptureMiddleware, capture_written
    from grayhound.store import open_store, utc_now

    with open_store(config.storage.database) as store:
        run_id = store.start_run([source], utc_now())
    crawler = get_crawler(
        Spider,
        {
            "GRAYHOUND_RUN_ID": run_id,
            "GRAYHOUND_DATABASE": str(config.storage.database),
            "GRAYHOUND_EVIDENCE_DIR": str(config.storage.evidence_dir),
        },
    )
    crawler.spider = Spider(name=source)
    batch: list[dict] = []
    crawler.signals.connect(
        lambda capture: batch.append({"type": "capture", "capture": capture}),
        signal=capture_written,
        weak=False,
    )
    downloader = CaptureMiddleware(crawler)
    for page in pages:
        request = Request(page.url, headers={"User-Agent": "grayhound-test"})
        cls = HtmlResponse if "html" in page.content_type else TextResponse
        response = cls(
            page.url,
            status=page.status,
            body=page.body,
            headers={"Content-Type": page.content_type},
            request=request,
        )
        record_id = downloader.capture_now(request, response)["record_id"]
        batch.extend({**item, "capture": record_id} for item in _items(page, source))
    downloader.spider_closed()
    with open_store(config.storage.database) as store:
        store.write_batch(run_id, batch)
        store.finish_run(run_id, utc_now(), "finished", {})
    return run_id


def _items(page: Page, source: str) -> list[dict]:
    from grayhound.store import utc_now

    items = []
    seller_key = None
    if page.seller is not None:
        seller_key = "name:" + page.seller.name.lower()
        items.append(
            {
                "type": "seller",
                "source": source,
                "key": seller_key,
                "seller": page.seller,
                "seen_at": utc_now(),
            }
        )
    if page.listing is not None:
        items.append(
            {
                "type": "listing",
                "source": source,
                "listing": page.listing,
                "seller_key": seller_key,
                "seen_at": utc_now(),
            }
        )
    return items


def listing_page(path: str, title: str, price: str, origin="http://127.0.0.1:8301") -> Page:
    url = origin + path
    return Page(
        url=url,
        body=product_page(title, price),
        listing=Listing(
            url=url,
            canonical_url=url,
            is_product=True,
            title=title,
            price=price,
            currency="USD",
            seller="Shady Phones",
        ),
        seller=Seller(name="Shady Phones"),
    )


@pytest.fixture(name="listing_page")
def listing_page_fixture():
    """listing_page(path, title, price) -> Page of a product offered by "Shady Phones"."""
    return listing_page


@pytest.fixture(name="page")
def page_fixture():
    """page(url, body, status=200, content_type=...) -> Page without items."""
    return Page


@pytest.fixture
def store(config):
    """The config's own store (the one the simulated crawls write to)."""
    from grayhound.store import open_store

    with open_store(config.storage.database) as opened:
        yield opened
