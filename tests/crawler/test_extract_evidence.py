"""What a page says beyond the price itself: the evidence that settled its currency
(`currency_source`) and the category it files the product under (`category`)."""

from __future__ import annotations

import json

from crawler.pages.listing import extract_listing


def page(body: str, lang: str = "en") -> bytes:
    return f'<html lang="{lang}"><head><title>x</title></head><body>{body}</body></html>'.encode()


PRODUCT = '<h1>{title}</h1><div class="product-price"><span class="price">{price}</span></div><button>Add to cart</button>'


def test_a_shared_sign_is_settled_by_the_page_and_the_reason_kept():
    body = page(PRODUCT.format(title="vivo X100 12+256 星迹蓝", price="¥ 2,999"), "zh-CN")
    listing = extract_listing("https://item.jd.com/1.html", body)
    assert (listing.price, listing.currency) == ("2999.00", "CNY")
    assert "page language zh-CN" in listing.currency_source


def test_a_zero_decimal_currency_reads_a_lone_dot_as_thousands():
    body = page(PRODUCT.format(title="OPPO A58 6/128", price="12.500"), "ja")
    listing = extract_listing("https://shop.example.jp/a58", body, default_currency="JPY")
    assert (listing.price, listing.currency) == ("12500.00", "JPY")
    assert "source's currency JPY" in listing.currency_source


def test_structured_currency_says_where_it_came_from():
    ld = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Pixel 8 Case",
        "category": "Cell Phone Accessories > Cases",
        "offers": {"@type": "Offer", "price": "19.99", "priceCurrency": "USD"},
    }
    body = page(
        f'<script type="application/ld+json">{json.dumps(ld)}</script><h1>Pixel 8 Case</h1>'
    )
    listing = extract_listing("https://shop.example.com/case", body)
    assert listing.currency == "USD" and listing.currency_source == "json-ld data gives USD"
    assert listing.category == "Cell Phone Accessories > Cases"


def test_breadcrumbs_from_json_ld_or_the_visible_trail():
    crumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": 2, "name": "Ersatzteile"},
            {"@type": "ListItem", "position": 1, "name": "Handys"},
        ],
    }
    body = page(f'<script type="application/ld+json">{json.dumps(crumbs)}</script><h1>Akku</h1>')
    assert extract_listing("https://x.example.de/p", body).category == "Handys > Ersatzteile"
    trail = '<nav aria-label="Breadcrumb"><a href="/">Home</a><a href="/c">Phone Cases</a></nav>'
    body = page(trail + PRODUCT.format(title="Case", price="$9.99"))
    assert extract_listing("https://x.example.com/p", body).category == "Home > Phone Cases"
    assert extract_listing("https://x.example.com/p", page("<h1>x</h1>")).category is None
