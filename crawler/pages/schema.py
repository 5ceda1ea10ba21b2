"""schema.org nodes (from JSON-LD or from microdata, same shape) read as a product offer:
which node is the page's product, which offer is its price, and who sells it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import extruct

from crawler.pages.condition import schema_condition
from crawler.pages.document import Page, clean_text
from crawler.pages.money import format_price, normalize_currency, parse_amount

PRODUCT_TYPES = frozenset(
    {
        "product",
        "productgroup",
        "individualproduct",
        "productmodel",
        "somproducts",
        "vehicle",
        "car",
        "motorcycle",
    }
)
LIST_PAGE_TYPES = frozenset({"searchresultspage", "collectionpage"})
LIST_TYPES = frozenset({"itemlist", "offercatalog"})
SELLER_TYPES = frozenset(
    {
        "organization",
        "store",
        "onlinestore",
        "onlinebusiness",
        "localbusiness",
        "person",
        "corporation",
    }
)
# Offer price types that are not what the buyer pays.
NOT_SELLING_PRICE = frozenset({"listprice", "strikethroughprice", "msrp", "srp", "invoiceprice"})
IN_STOCK = frozenset({"instock", "limitedavailability", "onlineonly", "instoreonly", "presale"})
# A page that lists this many distinct products (and none is the page's title) is a list.
MANY_PRODUCTS = 3
_LAST_SEGMENT = re.compile(r"[/#:]")


@dataclass
class SchemaRead:
    """What the schema.org nodes of one syntax say about the page."""

    fields: dict = field(default_factory=dict)
    has_offer: bool = False
    is_list_page: bool = False
    sellers: list[dict] = field(default_factory=list)
    nodes: list[dict] = field(default_factory=list)  # every node, for the page's other types
    product: dict | None = None  # the page's product node, for all of its offers
    index: dict = field(default_factory=dict)


def types_of(node: object) -> set[str]:
    """'http://schema.org/Product', ['Product', 'Thing'], 'schema:Product' → {'product', ...}."""
    if not isinstance(node, dict):
        return set()
    raw = node.get("@type", node.get("type"))
    values = raw if isinstance(raw, list) else [raw]
    return {_LAST_SEGMENT.split(v.strip())[-1].lower() for v in values if isinstance(v, str)}


def microdata_nodes(page: Page) -> list[dict]:
    """Microdata items in the same shape as JSON-LD nodes, read by extruct from the shared tree."""
    if page.root.find(".//*[@itemscope]") is None:
        return []
    found = extruct.extract(
        page.root, base_url=page.base_url, syntaxes=["microdata"], uniform=True, errors="strict"
    )
    return [node for node in found.get("microdata", []) if isinstance(node, dict)]


def read_nodes(nodes: list[dict], index: dict[str, dict], title_hint: str | None) -> SchemaRead:
    products = _product_candidates(nodes, index)
    listed = _listed_items(nodes, index)
    sellers = [n for n in nodes if _is_seller_node(n)]
    main = _main_product(products, title_hint)
    read = SchemaRead(sellers=sellers, nodes=nodes, product=main, index=index)
    if main is None:
        read.is_list_page = listed >= 2 or len(products) >= MANY_PRODUCTS
        return read
    read.fields = product_fields(main, index)
    read.has_offer = read.fields.get("price") is not None or bool(main.get("offers"))
    return read


def product_fields(product: dict, index: dict[str, dict]) -> dict:
    variant = _chosen_variant(product, index)
    offer = _chosen_offer(_offers(variant, index) or _offers(product, index), index)
    price, currency, hint = _offer_price(offer, index)
    condition_raw = _text(offer.get("itemCondition")) or _text(product.get("itemCondition"))
    seller = _resolve(offer.get("seller") or offer.get("offeredBy"), index)
    return {
        "title": _text(product.get("name")) or _text(variant.get("name")),
        "price": price,
        "currency": currency,
        "currency_hint": hint,
        "condition": schema_condition(condition_raw),
        "condition_raw": condition_raw,
        "availability": _short(offer.get("availability")),
        "brand": _name(_resolve(product.get("brand"), index)),
        "sku": _text(variant.get("sku")) or _text(product.get("sku")),
        "gtin": _gtin(variant) or _gtin(product),
        "image": _image(product.get("image") or variant.get("image")),
        "description": (_text(product.get("description")) or "")[:1000] or None,
        "seller": _name(seller),
        "seller_url": _text(seller.get("url")) if isinstance(seller, dict) else None,
        "seller_ld_id": _text(seller.get("@id")) if isinstance(seller, dict) else None,
        "seller_same_as": _texts(seller.get("sameAs")) if isinstance(seller, dict) else (),
    }


def _product_candidates(nodes: list[dict], index: dict[str, dict]) -> list[dict]:
    found: list[dict] = []
    for node in nodes:
        types = types_of(node)
        if types & PRODUCT_TYPES:
            found.append(node)
        elif "offer" in types and isinstance(_resolve(node.get("itemOffered"), index), dict):
            found.append({**_resolve(node["itemOffered"], index), "offers": node})
        else:
            for key in ("mainEntity", "mainEntityOfPage", "about"):
                inner = _resolve(node.get(key), index)
                if types_of(inner) & PRODUCT_TYPES:
                    found.append(inner)
    unique = {id(node): node for node in found}
    return list(unique.values())


def _listed_items(nodes: list[dict], index: dict[str, dict]) -> int:
    count = 0
    for node in nodes:
        types = types_of(node)
        if types & LIST_PAGE_TYPES:
            node = _resolve(node.get("mainEntity"), index) or {}
            types = types_of(node) | {"itemlist"}
        if types & LIST_TYPES and "breadcrumblist" not in types:
            elements = node.get("itemListElement") or node.get("numberOfItems") or []
            count = max(count, len(elements) if isinstance(elements, list) else 0)
    return count


def _main_product(products: list[dict], title_hint: str | None) -> dict | None:
    if not products:
        return None
    names = {(_text(p.get("name")) or "").lower() for p in products}
    hint = (title_hint or "").lower().strip()
    if hint:
        for product in products:
            name = (_text(product.get("name")) or "").lower()
            if name and (name in hint or (hint in name and len(hint) >= 0.8 * len(name))):
                return product
    if len(names) >= MANY_PRODUCTS and not any(types_of(p) & {"productgroup"} for p in products):
        return None
    with_offer = [p for p in products if p.get("offers") or p.get("hasVariant")]
    return (with_offer or products)[0]


def _chosen_variant(product: dict, index: dict[str, dict]) -> dict:
    variants = [_resolve(v, index) for v in _as_list(product.get("hasVariant"))]
    variants = [v for v in variants if isinstance(v, dict)]
    for variant in variants:
        if any(_short(o.get("availability")) in IN_STOCK for o in _offers(variant, index)):
            return variant
    return next((v for v in variants if _offers(v, index)), variants[0] if variants else {})


def _offers(node: dict, index: dict[str, dict]) -> list[dict]:
    found = []
    for offer in _as_list(node.get("offers")):
        offer = _resolve(offer, index)
        if isinstance(offer, dict):
            found.append(offer)
            found.extend(o for o in _as_list(offer.get("offers")) if isinstance(o, dict))
    return found


def _chosen_offer(offers: list[dict], index: dict[str, dict]) -> dict:
    priced = [o for o in offers if _offer_price(o, index)[0] is not None]
    for offer in priced:
        if _short(offer.get("availability")) in IN_STOCK:
            return offer
    return (priced or offers or [{}])[0]


def _offer_price(offer: dict, index: dict[str, dict]) -> tuple[str | None, str | None, str | None]:
    """(price, ISO currency, printed price text for currency evidence)."""
    if not offer:
        return None, None, None
    currency = normalize_currency(_text(offer.get("priceCurrency")))
    keys = ("lowPrice", "price") if "aggregateoffer" in types_of(offer) else ("price", "lowPrice")
    for key in keys:
        raw = _first(offer.get(key))
        if parse_amount(raw) is not None:
            return format_price(parse_amount(raw)), currency, _hint(raw)
    for spec in _as_list(offer.get("priceSpecification")):
        spec = _resolve(spec, index)
        if not isinstance(spec, dict) or _short(spec.get("priceType")) in NOT_SELLING_PRICE:
            continue
        amount = parse_amount(_first(spec.get("price")))
        if amount is not None:
            spec_currency = normalize_currency(_text(spec.get("priceCurrency")))
            return format_price(amount), spec_currency or currency, _hint(spec.get("price"))
    return None, currency, None


def _is_seller_node(node: dict) -> bool:
    types = types_of(node)
    return bool(types & SELLER_TYPES or any(t.endswith("store") for t in types))


def _resolve(value: object, index: dict[str, dict]) -> object:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict) and set(value) <= {"@id", "@type"} and "@id" in value:
        return index.get(value["@id"], value)
    if isinstance(value, str) and value in index:
        return index[value]
    return value


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _first(value: object) -> object:
    return value[0] if isinstance(value, list) and value else value


def _hint(raw: object) -> str | None:
    return raw if isinstance(raw, str) and not raw.strip().replace(".", "").isdigit() else None


def _text(value: object) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("@value", value.get("name"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    text = clean_text(html.unescape(value)) if isinstance(value, str) else ""
    return text or None


def _texts(value: object) -> tuple[str, ...]:
    return tuple(t for t in (_text(v) for v in _as_list(value)) if t)


def _name(value: object) -> str | None:
    if isinstance(value, dict):
        return _text(value.get("name")) or _text(value.get("legalName"))
    return _text(value)


def _short(value: object) -> str | None:
    text = _text(value)
    return _LAST_SEGMENT.split(text)[-1].lower() if text else None


def _gtin(node: dict) -> str | None:
    for key in ("gtin13", "gtin", "gtin12", "gtin14", "gtin8", "isbn"):
        if _text(node.get(key)):
            return _text(node.get(key))
    return None


def _image(value: object) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl")
    return _text(value)


def offer_records(product: dict, index: dict[str, dict]) -> list[dict]:
    """Every priced single offer of the product (of its chosen variant when it has variants),
    each read as the page's one offer is: an AggregateOffer's summary is not an offer."""
    variant = _chosen_variant(product, index)
    records = []
    for offer in _offers(variant, index) or _offers(product, index):
        price, currency, _ = _offer_price(offer, index)
        if price is None or "aggregateoffer" in types_of(offer):
            continue
        seller = _resolve(offer.get("seller") or offer.get("offeredBy"), index)
        condition = _text(offer.get("itemCondition")) or _text(product.get("itemCondition"))
        records.append(
            {
                "price": price,
                "currency": currency,
                "seller": _name(seller),
                "seller_url": _text(seller.get("url")) if isinstance(seller, dict) else None,
                "condition": schema_condition(condition),
                "availability": _short(offer.get("availability")),
            }
        )
    return records
