"""Extraction on hostile input: arbitrary bytes, broken markup, arbitrary JSON in JSON-LD and
/products.json, lying headers. It returns a record of the contract's shape and never needs its
last-resort exception handler (which would hide a bug as "extraction failed")."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.pages import extract_listing, extract_seller, extract_shopify_products, shopify_shop
from grayhound.models import CONDITIONS

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
URL = "http://127.0.0.1:8301/item/1.html"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
SCHEMA_KEYS = st.sampled_from(
    [
        "@type",
        "@id",
        "@graph",
        "name",
        "offers",
        "price",
        "priceCurrency",
        "seller",
        "itemCondition",
        "availability",
        "brand",
        "sku",
        "lowPrice",
        "priceSpecification",
        "url",
    ]
)
SCHEMA_VALUES = st.recursive(
    JSON_VALUES
    | st.sampled_from(["Product", "Offer", "AggregateOffer", "Organization", "€1,299.00"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SCHEMA_KEYS, inner, max_size=6),
    max_leaves=30,
)
TAGS = st.sampled_from(["h1", "span", "div", "meta", "a", "script", "title", "p", "td", "b"])
ATTRS = st.sampled_from(
    [
        'class="price"',
        'itemprop="price"',
        'property="og:title"',
        'itemprop="name"',
        'content="9.99"',
        'href="/seller/x"',
        'itemscope itemtype="https://schema.org/Product"',
        'type="application/ld+json"',
        'charset="latin-1"',
        "",
    ]
)
HEADERS = st.dictionaries(
    st.sampled_from(["Content-Type", "Content-Language", "Link", "X-Weird"]),
    st.text(max_size=40),
    max_size=3,
)


@st.composite
def html_soup(draw) -> bytes:
    """Tag soup: random tags, attributes and text, unbalanced on purpose, with a JSON-LD block."""
    parts = ["<!doctype html><html><head>"]
    for _ in range(draw(st.integers(0, 12))):
        tag, attr = draw(TAGS), draw(ATTRS)
        parts.append(f"<{tag} {attr}>{draw(st.text(max_size=40))}")
        if draw(st.booleans()):
            parts.append(f"</{tag}>")
    ld = json.dumps(draw(SCHEMA_VALUES))
    parts.append(f'<script type="application/ld+json">{ld}</script>')
    text = "".join(parts)
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1252"]))
    return text.encode(encoding, errors="replace")


def _well_formed(listing) -> None:
    assert not any(p.startswith("extraction failed") for p in listing.problems), listing.problems
    assert listing.condition in CONDITIONS
    assert listing.currency is None or (len(listing.currency) == 3 and listing.currency.isupper())
    if listing.price is not None:
        try:
            Decimal(listing.price)
        except InvalidOperation:
            raise AssertionError(f"price is not a decimal string: {listing.price!r}") from None
    for value in (listing.title, listing.seller, listing.seller_url):
        assert value is None or isinstance(value, str)


@SETTINGS
@given(body=st.binary(max_size=3000), headers=HEADERS)
def test_arbitrary_bytes(body, headers):
    _well_formed(extract_listing(URL, body, headers, default_currency="USD"))
    assert extract_seller(URL, body, headers) is not None


@SETTINGS
@given(body=html_soup(), headers=HEADERS, currency=st.sampled_from([None, "USD", "EUR"]))
def test_tag_soup_with_arbitrary_json_ld(body, headers, currency):
    _well_formed(extract_listing(URL, body, headers, default_currency=currency))
    extract_seller(URL, body, headers)


@SETTINGS
@given(text=st.text(max_size=2000))
def test_arbitrary_unicode_text(text):
    body = text.encode("utf-8", errors="surrogatepass")
    _well_formed(extract_listing(URL, body, {"Content-Type": "text/html; charset=utf-8"}))


@SETTINGS
@given(
    selector=st.text(max_size=30),
    body=html_soup(),
)
def test_configured_selectors_of_any_shape(selector, body):
    listing = extract_listing(URL, body, {}, selectors={"title": selector, "price": selector})
    _well_formed(listing)


@SETTINGS
@given(
    data=st.one_of(
        JSON_VALUES,
        st.fixed_dictionaries({"products": st.lists(SCHEMA_VALUES, max_size=4)}),
        st.fixed_dictionaries(
            {
                "products": st.lists(
                    st.fixed_dictionaries(
                        {"title": JSON_VALUES, "handle": JSON_VALUES, "variants": JSON_VALUES}
                    ),
                    max_size=3,
                )
            }
        ),
    )
)
def test_shopify_json_of_any_shape(data):
    body = json.dumps(data).encode()
    for listing in extract_shopify_products(URL, body, default_currency="USD"):
        _well_formed(listing)
    assert isinstance(shopify_shop(URL, body), dict)


@SETTINGS
@given(body=st.binary(max_size=2000))
def test_shopify_arbitrary_bytes(body):
    assert isinstance(extract_shopify_products(URL, body), list)
    assert isinstance(shopify_shop(URL, body), dict)
