"""Saved pages, field by field: every folder under fixtures/pages/<kind>/<case>/ is a case.

A folder holds page.html (or page.json for Shopify feeds), url.txt, expected.json (the fields
a person reading the page would state; only those are asserted), and optionally options.json
(default_currency, selectors) and headers.json (response headers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.pages import extract_listing, extract_seller, extract_shopify_products, shopify_shop

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


def assert_listing(listing, expected: dict) -> None:
    for name in LISTING_FIELDS:
        if name in expected:
            assert getattr(listing, name) == expected[name], f"{name}: {listing.to_dict()}"
    for name, layer in expected.get("field_sources", {}).items():
        assert listing.field_sources.get(name) == layer, (
            f"source of {name}: {listing.field_sources}"
        )
    for fragment in expected.get("problems_include", []):
        assert any(fragment in p for p in listing.problems), listing.problems
    for name in expected.get("missing_include", []):
        assert name in listing.missing, listing.missing


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
