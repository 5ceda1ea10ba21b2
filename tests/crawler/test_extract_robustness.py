"""Extraction never raises: arbitrary bytes, odd headers, hostile pages and huge pages all
come back as a Listing (or Seller, or a list) with what was found and what went wrong."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.pages import extract_listing, extract_seller, extract_shopify_products, shopify_shop
from grayhound.models import Listing, Seller

HTML_PIECES = st.sampled_from(
    [
        "<html>",
        "<head>",
        "<body>",
        "<h1>",
        "</h1>",
        "<div class='price'>",
        "</div>",
        "<script type='application/ld+json'>",
        "</script>",
        '{"@type":"Product",',
        '"offers":',
        '{"price":"12.5"',
        "[",
        "]",
        "}",
        ",",
        "<meta property='og:price:amount' content='x'>",
        "$",
        "€",
        "¥",
        "1.299,00",
        "US $",
        "<del>",
        "<s>",
        "itemscope",
        "itemprop='price'",
        "<sup>99</sup>",
        "Sold by ",
        "<a href='/seller/x'>",
        "&#0;",
        "\x00",
        "<!--",
        "-->",
        "<?xml encoding='latin-1'?>",
        "<meta charset='bogus-charset'>",
        "<base href='::'>",
        "<title>23.99€ 50% OFF|",
        "<meta property='og:type' content='product'>",
        "<aside>",
        "<a href='/u?userId=1' class='user-profile'>",
        "Zustand<span>",
        "Privater Nutzer",
        "中古品",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=3000), content_type=st.one_of(st.none(), st.text(max_size=40)))
def test_arbitrary_bytes_never_raise(body: bytes, content_type: str | None) -> None:
    headers = None if content_type is None else {"Content-Type": content_type}
    listing = extract_listing("https://shop.example/p/1", body, headers, default_currency="USD")
    assert isinstance(listing, Listing)
    assert set(listing.missing) <= {"title", "price", "currency", "seller", "condition"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.one_of(HTML_PIECES, st.text(max_size=20)), max_size=60))
def test_html_like_soup_never_raises(pieces: list[str]) -> None:
    body = "".join(pieces).encode("utf-8", "surrogatepass")
    listing = extract_listing("https://shop.example/p/1", body, selectors={"price": "div::text"})
    assert isinstance(listing, Listing)
    assert listing.condition in ("new", "used", "refurbished", "unknown")
    assert listing.price is None or listing.price.replace(".", "").isdigit()
    assert isinstance(extract_seller("https://shop.example/u/1", body), Seller)
    assert isinstance(extract_shopify_products("https://shop.example/products.json", body), list)
    assert isinstance(shopify_shop("https://shop.example/meta.json", body), dict)


def test_bad_selector_becomes_a_problem() -> None:
    body = b"<html><body><h1>Phone</h1><span class='p'>$5</span></body></html>"
    listing = extract_listing("https://shop.example/p", body, selectors={"price": "span[["})
    assert any("selector price" in p for p in listing.problems)


def test_gigantic_page_is_fast_enough() -> None:
    card = (
        "<div class='card'><a href='/p/{i}'>Phone {i}</a><span class='price'>${i}.99</span></div>"
    )
    filler = "".join(card.format(i=i) for i in range(4000))
    body = (
        "<html><head><title>Big</title></head><body><h1>Xiaomi 14</h1>"
        f"<span class='price'>$999.00</span><button>Add to cart</button>{filler}</body></html>"
    ).encode()
    started = time.perf_counter()
    listing = extract_listing("https://shop.example/p", body, default_currency="USD")
    assert time.perf_counter() - started < 10
    assert listing.price == "999.00"


def test_price_like_title_is_fast_enough() -> None:
    """A title that is one long run of digits and currency signs (the price prefix a title may
    lead with is read in its first characters only)."""
    title = "1 €" * 30_000
    body = (
        f"<html><head><title>{title}</title><meta property='og:title' content='{title}'>"
        "<meta property='og:type' content='product'></head><body><h1>x</h1></body></html>"
    ).encode()
    started = time.perf_counter()
    assert isinstance(extract_listing("https://shop.example/p", body), Listing)
    assert time.perf_counter() - started < 5


def test_deeply_nested_page_does_not_crash() -> None:
    body = (
        "<div>" * 5000 + "<h1>Deep</h1><span class='price'>£5</span>" + "</div>" * 5000
    ).encode()
    assert isinstance(extract_listing("https://shop.example/p", body), Listing)


@pytest.mark.parametrize(
    "org_url, claimed",
    [
        ("JavaScript:alert(document.cookie)", None),
        (" data:text/html,<script>alert(1)</script>", None),
        ("https://cheap-phones-direct.example/", "cheap-phones-direct.example"),
    ],
)
def test_the_profile_url_is_where_the_seller_was_seen_not_the_organizations_url(
    org_url, claimed
) -> None:
    """An Organization block's `url` is the website the seller claims (recorded as
    claimed_domain when it is off-site), never its profile URL; a non-http(s) one is no link."""
    import json

    org = {"@context": "https://schema.org", "@type": "Organization", "name": "Cheap Phones",
           "url": org_url}  # fmt: skip
    body = (
        "<html><body><h1>Cheap Phones</h1><p>Seller since 2019 · 98% positive</p>"
        f'<script type="application/ld+json">{json.dumps(org)}</script></body></html>'
    ).encode()
    profile = "https://bazaar.example/seller/cheap-phones"
    seller = extract_seller(profile, body, site_is_seller=False)
    assert seller.name == "Cheap Phones"
    assert seller.url == profile
    assert seller.claimed_domain == claimed
    links = [value for kind, value, _ in seller.identifiers if "://" in value or ":" in kind]
    assert not any(v.lower().lstrip().startswith(("javascript:", "data:")) for v in links)
