"""Saved pages, field by field: every folder under fixtures/pages/<kind>/<case>/ is a case.

A folder holds page.html (or page.json for Shopify feeds), url.txt, expected.json (the fields
a person reading the page would state; only those are asserted), and optionally options.json
(default_currency, selectors) and headers.json (response headers)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from crawler.pages import (
    extract_listing,
    extract_seller,
    extract_shopify_products,
    offer_listings,
    shopify_shop,
)

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"
CASES = sorted(p for p in PAGES.glob("*/*") if (p / "expected.json").exists())
LISTING_FIELDS = (
    "title",
    "price",
    "currency",
    "condition",
    "seller",
    "seller_url",
    "seller_domain",
    "canonical_url",
    "is_product",
    "brand",
    "sku",
    "currency_source",
)


def load_case(folder: Path) -> dict:
    body_file = next(folder.glob("page.*"))
    read = lambda name: json.loads((folder / name).read_text()) if (folder / name).exists() else {}  # noqa: E731
    return {
        "url": (folder / "url.txt").read_text().strip(),
        "body": body_file.read_bytes(),
        "is_json": body_file.suffix == ".json",
        "expected": read("expected.json"),
        "options": read("options.json"),
        "headers": read("headers.json") or None,
    }


def run_listing(case: dict):
    return extract_listing(case["url"], case["body"], case["headers"], **case["options"])


def same(name: str, got, want) -> bool:
    """Prices compare as decimals: "49500" (a whole currency) equals "49500.00"."""
    if name == "price" and got is not None and want is not None:
        return Decimal(got) == Decimal(want)
    return got == want


def assert_listing(listing, expected: dict) -> None:
    for name in LISTING_FIELDS:
        if name not in expected:
            continue
        got = getattr(listing, name)
        if expected.get("is_product") is False and name != "is_product":
            got = None if not listing.is_product else got  # a non-product yields no listing
        assert same(name, got, expected[name]), f"{name}: {listing.to_dict()}"
    if "offers" in expected:
        assert_offers(listing, expected["offers"])
    elif listing.is_product:
        assert len(offer_listings(listing)) == 1, f"offers on a one-offer page: {listing.offers}"
    for name, layer in expected.get("field_sources", {}).items():
        assert listing.field_sources.get(name) == layer, (
            f"source of {name}: {listing.field_sources}"
        )
    for fragment in expected.get("problems_include", []):
        assert any(fragment in p for p in listing.problems), listing.problems
    for name in expected.get("missing_include", []):
        assert name in listing.missing, listing.missing


def assert_offers(listing, wanted: list[dict]) -> None:
    """One listing per seller offer, buy box first, each with its own seller and price."""
    got = offer_listings(listing)
    summary = [(o.seller, o.price, o.currency, o.condition) for o in got]
    assert len(got) == len(wanted), summary
    for offer, want in zip(got, wanted, strict=True):
        for name, value in want.items():
            assert same(name, getattr(offer, name), value), f"{name} of {summary}"
    assert len({o.offer_key for o in got}) == len(got), [o.offer_key for o in got]


def _case_param(folder: Path):
    """A case whose expected.json names a `known_miss` is xfail(strict): fixing it is noticed."""
    miss = json.loads((folder / "expected.json").read_text()).get("known_miss")
    marks = [pytest.mark.xfail(strict=True, reason=miss)] if miss else []
    return pytest.param(folder, marks=marks, id=f"{folder.parent.name}/{folder.name}")


@pytest.mark.parametrize("folder", [_case_param(p) for p in CASES])
def test_saved_page(folder: Path) -> None:
    case = load_case(folder)
    expected = case["expected"]
    if folder.parent.name == "seller":
        seller = extract_seller(case["url"], case["body"], case["headers"], **case["options"])
        for name in ("name", "url", "domain", "claimed_domain", "is_seller_page"):
            if name in expected:
                assert getattr(seller, name) == expected[name], f"{name}: {seller.to_dict()}"
    elif case["is_json"] and case["url"].endswith("meta.json"):
        assert shopify_shop(case["url"], case["body"]) == expected["shop"]
    elif case["is_json"]:
        listings = extract_shopify_products(case["url"], case["body"], **case["options"])
        assert len(listings) == len(expected["listings"])
        for listing, wanted in zip(listings, expected["listings"], strict=True):
            assert listing.url == wanted["url"]
            assert_listing(listing, wanted)
    else:
        assert_listing(run_listing(case), expected)


def test_there_are_enough_cases_of_every_kind() -> None:
    kinds = {p.parent.name for p in CASES}
    assert {"jsonld", "microdata", "opengraph", "text", "shopify", "seller", "broken"} <= kinds
    assert len(CASES) >= 40
