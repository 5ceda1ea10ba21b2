"""Offers on one page → one listing each, with an identity that survives other sellers coming
and going; product-shaped URLs."""

from __future__ import annotations

import pytest

from crawler.pages import offer_listings, product_url
from crawler.pages.offers import offer_keys
from grayhound.models import Listing, Offer


def _offer(seller, price="10.00", condition="new", buy_box=False):
    return Offer(seller=seller, price=price, currency="EUR", condition=condition, buy_box=buy_box)


def test_buy_box_keeps_the_page_identity_and_others_are_keyed_by_seller() -> None:
    offers = (_offer("Shop A", buy_box=True), _offer("Shop B"), _offer("shop  b", condition="used"))
    assert offer_keys(offers) == ["", "seller:shop b|new", "seller:shop b|used"]


def test_a_comparison_page_without_buy_box_keys_every_offer() -> None:
    offers = (_offer("NetOnNet"), _offer("Proshop"), _offer(None), _offer(None))
    assert offer_keys(offers) == ["seller:netonnet", "seller:proshop", "offer|new", "offer|new#2"]


def test_each_offer_becomes_a_listing_with_its_own_seller_price_and_condition() -> None:
    page = Listing(
        url="https://m.example/p/1",
        is_product=True,
        title="Phone",
        price="10.00",
        currency="EUR",
        seller="Shop A",
        seller_domain="shop-a.example",
        field_sources={"price": "text", "seller": "text"},
        offers=(_offer("Shop A", buy_box=True), _offer("Shop B", "9.50", "refurbished")),
    )
    first, second = offer_listings(page)
    assert (first.offer_key, first.seller, first.seller_domain) == ("", "Shop A", "shop-a.example")
    assert (second.offer_key, second.seller, second.price) == ("seller:shop b", "Shop B", "9.50")
    assert second.condition == "refurbished" and second.seller_domain is None
    assert second.title == "Phone" and second.url == page.url and second.offers == ()


def test_a_page_with_one_offer_is_one_listing() -> None:
    page = Listing(url="https://m.example/p/1", is_product=True, price="1.00")
    assert offer_listings(page) == [page]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.amazon.de/Sony-WH-1000XM5/dp/B09Y2MYL5C", True),
        ("https://www.walmart.com/ip/Apple-AirPods-Pro/1752657021", True),
        ("https://www.sklep.pl/pl/p/Trenazer-rowerowy-Elite-Suito-T/4821", True),
        ("https://shop.example/products/blue-vase", True),
        ("https://www.emag.ro/telefon-apple-iphone-15/pd/D7Q6L3MBM/", True),
        ("https://shopee.ph/Redmi-Note-13-Pro-i.123456.7890123", True),
        ("https://www.zalando.de/nike-pegasus-41-laufschuh-ni112a0kx-q11.html", False),
        ("https://shop.example/item.html?id=81234", True),
        ("https://www.argos.co.uk/browse/technology/headphones/c:30231/", False),
        ("https://www.trendyol.com/sr?q=kulaklik", False),
        ("https://shop.example/collections/sale", False),
        ("https://www.chip.de/test/Sony-WH-1000XM5-im-Test_184012345.html", False),
        ("https://shop.example/", False),
    ],
)
def test_product_shaped_urls(url: str, expected: bool) -> None:
    assert product_url(url) is expected


def test_a_page_of_thousands_of_offers_keeps_the_first_hundred() -> None:
    from crawler.pages import extract_listing
    from crawler.pages.offers import MAX_KEY_NAME, MAX_OFFERS

    rows = "".join(
        f'<div class="offer-row"><span class="price">{n},00 €</span>'
        f'<p>Sold by <a href="/seller/s{n}">Seller {n}</a></p></div>'
        for n in range(100, 3100)
    )
    page = (
        '<html><body><h1>Phone X</h1><span class="price">99,00 €</span>'
        '<p>Sold by <a href="/seller/main">Main Shop</a></p><button>Add to cart</button>'
        f"<section>{rows}</section></body></html>"
    )
    listings = offer_listings(extract_listing("https://m.example/p/1", page.encode()))
    assert len(listings) == MAX_OFFERS
    assert listings[0].seller == "Main Shop" and listings[0].offer_key == ""
    assert all(len(o.offer_key) <= len("seller:") + MAX_KEY_NAME for o in listings)


def test_structured_offers_give_absolute_seller_urls_so_each_seller_is_profiled() -> None:
    """JSON-LD offers name their sellers by relative URLs: each offer's seller is its profile
    on the site (keyed by it, fetched), not a bare name."""
    import json

    from crawler.pages import extract_listing
    from crawler.spiders.identity import listing_reference

    product = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Xiaomi 14 Pro 512GB",
        "offers": [
            {"@type": "Offer", "price": "899.00", "priceCurrency": "EUR",
             "seller": {"@type": "Organization", "name": "Good Shop", "url": "/seller/good.html"}},
            {"@type": "Offer", "price": "420.00", "priceCurrency": "EUR",
             "seller": {"@type": "Organization", "name": "Evil", "url": "../../seller/evil.html"}},
        ],
    }  # fmt: skip
    page = (
        '<html><body><h1>Xiaomi 14 Pro 512GB</h1><script type="application/ld+json">'
        f"{json.dumps(product)}</script></body></html>"
    )
    listing = extract_listing("http://127.0.0.1:8301/p/xiaomi/14.html", page.encode())
    offers = offer_listings(listing)
    assert [o.seller_url for o in offers] == [
        "http://127.0.0.1:8301/seller/good.html",
        "http://127.0.0.1:8301/seller/evil.html",
    ]
    for offer in offers:
        key, _, profile = listing_reference(offer, ("127.0.0.1:8301",), lambda url: url)
        assert key == profile == offer.seller_url


def test_each_offer_says_what_decided_its_own_currency() -> None:
    """An offer in GBP on a page whose own offer is in EUR says why it is GBP, not the page's
    'json-ld data gives EUR'; a row printing no currency takes the page's, and says so."""
    import json

    from crawler.pages import extract_listing

    product = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Xiaomi 14 Pro 512GB",
        "offers": [
            {"@type": "Offer", "price": "949.00", "priceCurrency": "EUR",
             "seller": {"@type": "Organization", "name": "Shop A"}},
            {"@type": "Offer", "price": "899.00", "priceCurrency": "GBP",
             "seller": {"@type": "Organization", "name": "Shop B"}},
        ],
    }  # fmt: skip
    page = (
        '<html><body><h1>Xiaomi 14 Pro 512GB</h1><script type="application/ld+json">'
        f"{json.dumps(product)}</script></body></html>"
    )
    listing = extract_listing("https://m.example/p/xiaomi-14-pro/1", page.encode())
    found = [(o.seller, o.currency, o.currency_source) for o in offer_listings(listing)]
    assert found == [
        ("Shop A", "EUR", "json-ld data gives EUR"),
        ("Shop B", "GBP", "json-ld data gives GBP"),
    ]

    rows = "".join(
        f'<div class="offer-row"><span class="price">{price}</span>'
        f'<p>Sold by <a href="/seller/{name}">{name}</a></p></div>'
        for name, price in (("north", "£870.00"), ("south", "880.00"))
    )
    page = (
        '<html lang="en-GB"><body><h1>Phone X</h1><span class="price">£899.00</span>'
        '<p>Sold by <a href="/seller/main">Main Shop</a></p><button>Add to basket</button>'
        f"<section>{rows}</section></body></html>"
    )
    listing = extract_listing("https://m.example/p/1", page.encode())
    found = [(o.seller, o.price, o.currency, o.currency_source) for o in offer_listings(listing)]
    assert found == [
        ("Main Shop", "899.00", "GBP", "printed '£' names GBP"),
        ("north", "870.00", "GBP", "the offer's row: printed '£' names GBP"),
        ("south", "880.00", "GBP", "as the page's own price: printed '£' names GBP"),
    ]
