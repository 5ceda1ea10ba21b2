"""OpenGraph and product meta tags: og:title, og:type, product:price:amount and its cousins,
and stray <meta itemprop="price"> outside any itemscope (which microdata parsers skip)."""

from __future__ import annotations

from crawler.pages.condition import schema_condition
from crawler.pages.document import Page, clean_text
from crawler.pages.money import format_price, normalize_currency, parse_amount
from crawler.pages.titles import strip_site_name

# Keys in order of preference: a sale price is what the buyer pays over the regular one.
PRICE_KEYS = (
    "product:sale_price:amount",
    "product:price:amount",
    "og:price:amount",
    "product:price",
    "price",
    "twitter:data1",
)
CURRENCY_KEYS = (
    "product:sale_price:currency",
    "product:price:currency",
    "og:price:currency",
    "pricecurrency",
    "product:currency",
)
CONDITION_KEYS = ("product:condition", "og:condition", "itemcondition")
AVAILABILITY_KEYS = ("product:availability", "og:availability", "availability")
PRODUCT_OG_TYPES = frozenset({"product", "product.item", "og:product", "product.group"})


def meta_fields(page: Page) -> dict:
    """Fields from <meta> tags; 'is_product' when og:type says so or a price tag exists."""
    meta = page.meta()
    price_key = _first_key(meta, PRICE_KEYS)
    price_raw = meta.get(price_key) if price_key else None
    amount = parse_amount(price_raw)
    og_type = meta.get("og:type", "").lower()
    condition_raw = _first(meta, CONDITION_KEYS)
    site_name = clean_text(meta.get("og:site_name")) or None
    return {
        "title": strip_site_name(clean_text(meta.get("og:title")), site_name, page.url),
        "price": format_price(amount),
        "currency": normalize_currency(_first(meta, CURRENCY_KEYS)),
        "currency_hint": price_raw if amount is not None else None,
        "condition": schema_condition(condition_raw),
        "condition_raw": condition_raw,
        "availability": _first(meta, AVAILABILITY_KEYS),
        "brand": meta.get("product:brand") or meta.get("og:brand"),
        "sku": meta.get("product:retailer_item_id") or meta.get("sku"),
        "image": page.absolute(meta.get("og:image")),
        "description": (meta.get("og:description") or "")[:1000] or None,
        "is_product": og_type in PRODUCT_OG_TYPES or amount is not None,
        "og_type": og_type or None,
        "price_tag": price_key if amount is not None else None,  # which tag gave the price
        "site_name": site_name,
    }


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    key = _first_key(meta, keys)
    return meta[key] if key else None


def _first_key(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if meta.get(key):
            if key == "twitter:data1" and meta.get("twitter:label1", "").lower() != "price":
                continue
            return key
    return None
