"""Only http(s) URLs become links, in every output: `reports.links.safe_href` decides on the
scheme a browser would read, and the digest (HTML, Markdown, email) and the prices page use it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from grayhound.models import Listing, Seller
from reports.links import safe_href

REFUSED = [
    "JavaScript:alert(1)",
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "\x00javascript:alert(1)",
    "\x01\x1fjavascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\rscript:alert(1)",
    "jav&#x61;script:alert(1)",
    "&#106;avascript:alert(1)",
    "javascript&colon;alert(1)",
    "javascript&#58;alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
    "//evil.test/x",
    "/seller/12",
    "https:javascript:alert(1)",
    "http:",
    "http://",
    "http://[::1",
    "",
    None,
    "x" * 10_000,
]
ALLOWED = [
    ("http://127.0.0.1:8301/seller/12", "http://127.0.0.1:8301/seller/12"),
    ("HTTPS://Shop.example/a?b=1&c=2", "HTTPS://Shop.example/a?b=1&c=2"),
    ("  https://shop.example/x  ", "https://shop.example/x"),
    ('https://shop.example/a b"<c>', "https://shop.example/a%20b%22%3Cc%3E"),
    ("https://bücher.example/straße", "https://bücher.example/straße"),
]


@pytest.mark.parametrize("value", REFUSED)
def test_not_a_web_url_is_never_a_link(value):
    assert safe_href(value) is None


@pytest.mark.parametrize(("value", "expected"), ALLOWED)
def test_a_web_url_is_a_link(value, expected):
    assert safe_href(value) == expected


HREF = re.compile(r"""(?:href|src)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
MD_LINK = re.compile(r"<([a-z][a-z0-9+.-]*:[^>]*)>", re.IGNORECASE)


def _finding(kind: str, subject_id: int, **more) -> dict:
    return {
        "subject_kind": kind,
        "subject_id": subject_id,
        "brand": "xiaomi",
        "score": 0.9,
        "verdict": "impersonation",
        "flags": ["impersonation"],
        "reasons": ["seller name claims to be the official store"],
        **more,
    }


def _hostile_store(store) -> None:
    """A seller and a listing whose URLs are javascript: in disguise, judged and priced."""
    seen = "2026-11-20T06:00:00.000Z"
    run_id = store.start_run(["bazaar"], seen)
    seller = Seller(name="Xiaomi Official Store", url="JavaScript:alert(document.cookie)")
    seller_id = store.record_seller(run_id, "bazaar", "seller:x", seller, seen)
    # the store no longer keeps such a profile link; one written by an older version may
    store.db["sellers"].update(seller_id, {"profile_url": seller.url})
    url = "https:javascript:alert(2)"  # no host: not a web URL either
    listing = Listing(
        url=url,
        canonical_url=url,
        is_product=True,
        title="Xiaomi 14 Pro 12/512GB",
        price="499.00",
        currency="USD",
        condition="new",
        seller="Xiaomi Official Store",
        seller_url="JavaScript:alert(document.cookie)",
    )
    listing_id, _ = store.record_listing(run_id, "bazaar", listing, "seller:x", seen)
    store.finish_run(run_id, seen, "finished", {"sources": {}})
    findings = [
        _finding("listing", listing_id, model="Xiaomi 14 Pro", is_accessory=0, condition="new"),
        _finding("seller", seller_id),
    ]
    store.record_findings(findings, run_id, seen)


def test_digest_html_markdown_and_email_link_only_web_urls(store, example_config):
    from grayhound.pipeline import produce_digest
    from reports.digest.deliver import digest_email
    from reports.digest.render import render_html, render_markdown

    _hostile_store(store)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    digest = produce_digest(store, example_config, now, record=False)
    assert digest.counts["total"] == 2
    html, markdown = render_html(digest), render_markdown(digest)
    assert "alert(document.cookie)" in html  # the URL is shown as text, never as a link
    for link in HREF.findall(html) + MD_LINK.findall(markdown):
        assert re.match(r"(https?|file):", link) and "script:" not in link, link
    email = digest_email(digest, {"from": "a@b.test", "to": ["c@d.test"]})
    for part in email.walk():
        if part.get_content_type() in ("text/html", "text/plain"):
            assert not re.search(r"(href\s*=\s*[\"']?|<)\s*java", part.get_content(), re.I)


def test_prices_html_links_only_web_urls(store, example_config):
    from reports.pricing.build import price_report
    from reports.pricing.render import render_html

    _hostile_store(store)
    report = price_report(list(store.price_observations()), store.runs(), example_config)
    html = render_html(report)
    assert "Xiaomi Official Store" in html
    assert not any("alert" in link for link in HREF.findall(html))
