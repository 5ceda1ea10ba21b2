"""Shopify's public JSON: /products.json (a page of products), /products/<handle>.json and
/products/<handle>.js (one product; the .js flavour counts money in cents), and /meta.json
(the shop's name, domains and currency)."""

from __future__ import annotations

import html
import json
import logging
import re
from decimal import Decimal
from urllib.parse import urlsplit

from crawler.pages.condition import condition_from_title
from crawler.pages.document import clean_text
from crawler.pages.money import format_price, normalize_currency, parse_amount
from grayhound.models import Listing

logger = logging.getLogger(__name__)
CONTRACT_FIELDS = ("title", "price", "currency", "seller", "condition")
_TAGS = re.compile(r"<[^>]+>")
# Tags shops use to state condition: "used", "condition:refurbished", "Condition_Used".
_CONDITION_TAG = re.compile(
    r"^(?:condition[\s:_-]*)?(new|used|refurbished|renewed|pre-?owned)$", re.I
)


def extract_shopify_products(
    url: str, body: bytes, *, default_currency: str | None = None, shop_name: str | None = None
) -> list[Listing]:
    """One Listing per product; the price is the first available variant's (else the first
    variant's). The feed carries no currency: it is the source's default, or missing."""
    data = _load_json(body)
    if isinstance(data, dict) and isinstance(data.get("products"), list):
        products = data["products"]
    elif isinstance(data, dict) and isinstance(data.get("product"), dict):
        products = [data["product"]]
    elif isinstance(data, dict) and "handle" in data:
        products = [data]
    else:
        logger.warning("no Shopify products in %s", url)
        return []
    in_cents = urlsplit(str(url)).path.endswith(".js")
    listings = []
    for product in products:
        try:
            listing = _listing(str(url), product, in_cents, default_currency, shop_name)
        except Exception as exc:  # one odd product must not cost the others
            logger.warning("skipped a Shopify product in %s: %r", url, exc)
            continue
        if listing is not None:
            listings.append(listing)
    return listings


def shopify_shop(url: str, body: bytes) -> dict:
    """/meta.json → {name, domain, myshopify_domain, currency}; absent or odd values are None."""
    data = _load_json(body)
    data = data if isinstance(data, dict) else {}
    return {
        "name": _str(data.get("name")),
        "domain": (_str(data.get("domain")) or "").lower() or None,
        "myshopify_domain": (_str(data.get("myshopify_domain")) or "").lower() or None,
        "currency": normalize_currency(data.get("currency")),
    }


def _listing(url, product, in_cents, default_currency, shop_name) -> Listing | None:
    if not isinstance(product, dict) or not _str(product.get("handle")):
        return None
    parts = urlsplit(url)
    product_url = f"{parts.scheme or 'https'}://{parts.netloc}/products/{product['handle']}"
    variant = _chosen_variant(product)
    price = _price(variant.get("price", product.get("price")), in_cents)
    title = _str(product.get("title"))
    condition = _condition(product, title)
    values = {
        "title": title,
        "price": format_price(price),
        "currency": normalize_currency(default_currency),
        "condition": condition,
        "condition_raw": ", ".join(_tags(product)) or None if condition else None,
        "availability": None if "available" not in variant else _availability(variant),
        "brand": _str(product.get("vendor")),
        "sku": _str(variant.get("sku")),
        "gtin": _str(variant.get("barcode")),
        "image": _image(product),
        "description": _description(product),
        "seller": _str(shop_name),
    }
    sources = {k: "shopify" for k, v in values.items() if v is not None and k != "condition_raw"}
    if values["currency"]:
        sources["currency"] = "default"
        values["currency_source"] = (
            f"no currency in the Shopify feed: the source's currency {values['currency']}"
        )
    values["condition"] = condition or "unknown"
    problems = () if values["currency"] else ("currency not in Shopify feed and no default",)
    return Listing(
        url=product_url,
        canonical_url=product_url,
        is_product=price is not None,
        field_sources=sources,
        missing=tuple(f for f in CONTRACT_FIELDS if values.get(f) in (None, "unknown")),
        problems=problems,
        **values,
    )


def _chosen_variant(product: dict) -> dict:
    variants = [v for v in product.get("variants") or [] if isinstance(v, dict)]
    available = [v for v in variants if v.get("available") is True]
    return (available or variants or [{}])[0]


def _price(raw: object, in_cents: bool) -> Decimal | None:
    amount = parse_amount(raw)
    if amount is not None and in_cents and isinstance(raw, int):
        amount = amount / 100
    return amount


def _condition(product: dict, title: str | None) -> str | None:
    for tag in _tags(product):
        match = _CONDITION_TAG.match(tag.strip())
        if match:
            word = match.group(1).lower()
            return {"renewed": "refurbished", "preowned": "used", "pre-owned": "used"}.get(
                word, word
            )
    return condition_from_title(title) or condition_from_title(" ".join(_tags(product)))


def _tags(product: dict) -> list[str]:
    tags = product.get("tags")
    if isinstance(tags, str):
        tags = tags.split(",")
    return [t.strip() for t in tags or [] if isinstance(t, str) and t.strip()]


def _availability(variant: dict) -> str:
    return "InStock" if variant.get("available") else "OutOfStock"


def _image(product: dict) -> str | None:
    images = product.get("images") or []
    first = images[0] if isinstance(images, list) and images else None
    if isinstance(first, dict):
        first = first.get("src")
    if isinstance(first, str):
        return "https:" + first if first.startswith("//") else first
    return _str(product.get("featured_image"))


def _description(product: dict) -> str | None:
    raw = product.get("body_html") or product.get("description")
    if not isinstance(raw, str):
        return None
    return clean_text(html.unescape(_TAGS.sub(" ", raw)))[:1000] or None


def _load_json(body: bytes) -> object:
    try:
        text = body.decode("utf-8-sig", "replace") if isinstance(body, bytes | bytearray) else body
        return json.loads(text)
    except (ValueError, TypeError, AttributeError):
        return None


def _str(value: object) -> str | None:
    return clean_text(value) or None
