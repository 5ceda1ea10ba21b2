"""`extract_listing`: one fetched page → one `Listing`, by layers in a fixed order
(JSON-LD → microdata → OpenGraph/meta → per-source selectors → script state → visible text). For each field
the first layer that has it wins, and `field_sources` says which one that was."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from crawler.pages._seller_data import PRIVATE_SELLER
from crawler.pages.anchors import Layout, read_layout
from crawler.pages.category import page_category
from crawler.pages.condition import condition_from_title
from crawler.pages.document import Page, load_page, visible_text
from crawler.pages.jsonld import index_by_id, jsonld_nodes
from crawler.pages.meta import meta_fields
from crawler.pages.money import amount_in, format_price, parse_amount, resolve_currency
from crawler.pages.offers import offer_rows, read_offers, structured_offers
from crawler.pages.recognition import Evidence, Recognition, recognize
from crawler.pages.schema import SchemaRead, microdata_nodes, read_nodes
from crawler.pages.script_state import script_state_fields
from crawler.pages.selectors import selector_fields
from crawler.pages.struck import sale_below_struck
from crawler.pages.titles import page_title, title_price, wraps
from crawler.pages.visible import visible_fields
from grayhound.models import Listing, Offer

logger = logging.getLogger(__name__)

CONTRACT_FIELDS = ("title", "price", "currency", "seller", "condition")
UNRECOGNIZED = Recognition(False, "error", "the page could not be judged (see problems)")
MERGED_FIELDS = (
    "title",
    "price",
    "currency",
    "condition",
    "condition_raw",
    "availability",
    "brand",
    "sku",
    "gtin",
    "image",
    "description",
    "seller",
    "seller_url",
    "seller_domain",
)
# Layers whose price a page can contradict by showing it struck through.
STRUCTURED_LAYERS = ("json-ld", "microdata", "opengraph", "script_state")
# Text-layer keys only the price candidates give. Nothing reads them once structured data
# has an offer with a price and a currency (see _read_text), so they are not computed then.
PRICE_TEXT_KEYS = (
    "price",
    "currency_hint",
    "is_product",
    "price_on_request",
    "is_list_page",
    "page_currency",
)


def extract_listing(
    url: str,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    default_currency: str | None = None,
    selectors: Mapping[str, str] | None = None,
) -> Listing:
    """Never raises: a page that cannot be read yields a Listing naming what is missing."""
    try:
        return _extract(str(url), body, headers, default_currency, selectors)
    except Exception as exc:  # the layers are guarded; this is the last line of defence
        logger.exception("extraction failed for %s", url)
        return Listing(
            url=str(url),
            missing=CONTRACT_FIELDS,
            problems=(f"extraction failed: {type(exc).__name__}: {exc}",),
        )


def guarded(page: Page, layer: str, function: Callable[..., Any], *args: Any) -> Any:
    """Run one layer; a bug or a hostile page in it becomes a `problems` entry."""
    try:
        return function(*args)
    except Exception as exc:
        logger.warning("%s layer failed on %s: %r", layer, page.url, exc)
        page.problems.append(f"{layer} layer failed: {type(exc).__name__}: {exc}"[:300])
        return None


def _extract(url, body, headers, default_currency, selectors) -> Listing:
    page = load_page(url, body, headers)
    layout = guarded(page, "layout", read_layout, page) or Layout()
    hint = visible_text(layout.title, 300) if layout.title is not None else None
    jsonld = guarded(page, "json-ld", _read_jsonld, page, hint) or SchemaRead()
    microdata = guarded(page, "microdata", _read_microdata, page, hint) or SchemaRead()
    meta = guarded(page, "opengraph", meta_fields, page) or {}
    chosen = guarded(page, "selector", selector_fields, page, selectors) or {}
    state = {}
    if not _offer_priced(jsonld.fields, microdata.fields, jsonld.has_offer or microdata.has_offer):
        titles = [hint, meta.get("title"), page_title(page, meta.get("site_name"))]
        state = guarded(page, "script_state", script_state_fields, page, titles) or {}
    layers = [
        ("json-ld", jsonld.fields),
        ("microdata", microdata.fields),
        ("opengraph", meta),
        ("selector", chosen),
        ("script_state", state),
    ]
    offer = jsonld.has_offer or microdata.has_offer
    text = guarded(page, "text", _read_text, page, layout, meta.get("site_name"), layers, offer)
    text = text or {}
    settle = (page, layout, layers, meta, jsonld, microdata, default_currency)
    problems_before = len(page.problems)
    values, sources, identifiers = _settle(*settle, text)
    evidence = Evidence(
        page, layout, jsonld, microdata, meta, bool(chosen.get("price")),
        bool(state.get("price")), text, hint or values.get("title"), jsonld.nodes,
    )  # fmt: skip
    recognition = guarded(page, "recognition", recognize, evidence) or UNRECOGNIZED
    offers: tuple[Offer, ...] = ()
    rows = []
    if recognition.is_product and not structured_offers(page, jsonld, microdata):
        rows = guarded(page, "offers", offer_rows, layout) or []
    if rows:  # the page's own offer is what it shows outside other sellers' offer rows
        own_layout = replace(layout, blocked=layout.blocked | {row for row, _ in rows}, memo={})
        own = guarded(
            page, "text", _read_text, page, own_layout, meta.get("site_name"), layers, offer
        )
        if own is not None:
            del page.problems[problems_before:]
            text = own
            values, sources, identifiers = _settle(*settle, text)
    values["is_product"], sources["is_product"] = recognition.is_product, recognition.signal
    if recognition.is_product:
        main = _page_offer(values, sources)
        offers = (
            guarded(page, "offers", read_offers, page, layout, jsonld, microdata, main, rows) or ()
        )
    if text.get("price_on_request") and values.get("price") is None:
        page.problems.append("price on request: no price shown")
    return Listing(
        url=url,
        canonical_url=guarded(page, "canonical", _canonical, page),
        summary=text.get("summary"),
        seller_identifiers=identifiers or (),
        field_sources=sources,
        missing=tuple(f for f in CONTRACT_FIELDS if values.get(f) in (None, "unknown")),
        problems=tuple(dict.fromkeys(page.problems)),
        product_reason=recognition.reason,
        offers=offers,
        currency_source=values.get("currency_source"),
        category=guarded(page, "category", page_category, page),
        **{k: v for k, v in values.items() if k in MERGED_FIELDS or k == "is_product"},
    )


def _settle(page, layout, layers, meta, jsonld, microdata, default_currency, text):
    """(values, field sources, seller identifiers) from the layers and the text layer: the
    merge, then the fixes that read the page again (title, currency, sale, seller)."""
    layers = [*layers, ("text", text)]
    values, sources = _merge(layers)
    _prefer_shown_title(values, sources, layout, text)
    if values.get("price") is None and meta.get("is_product"):
        _price_from_title(values, sources, page, meta)
    _resolve_currency(values, sources, layers, default_currency, page)
    guarded(page, "text", _prefer_visible_sale, values, sources, layout, page.problems)
    _fill_condition(values, sources)
    _fill_seller(values, sources, jsonld, meta, page, text.get("summary"))
    identifiers = guarded(
        page, "seller", seller_identifiers, values, sources, jsonld, microdata, page
    )
    return values, sources, identifiers


def _read_jsonld(page: Page, hint: str | None) -> SchemaRead:
    nodes = jsonld_nodes(page)
    return read_nodes(nodes, index_by_id(nodes), hint) if nodes else SchemaRead()


def _read_microdata(page: Page, hint: str | None) -> SchemaRead:
    nodes = microdata_nodes(page)
    return read_nodes(nodes, {}, hint) if nodes else SchemaRead()


def _read_text(page: Page, layout: Layout, site_name, layers, offer: bool) -> dict:
    """The visible layer, without its price candidates (most of its cost) when an earlier
    layer already gave an offer with price and currency: then the merge, the currency and
    the product decision never read them. Title, seller, condition and summary still come."""
    settled = offer and all(
        any(fields.get(key) not in (None, "") for _, fields in layers)
        for key in ("price", "currency")
    )
    if not settled:
        return visible_fields(page, layout, site_name)
    text = visible_fields(page, layout, site_name, prices=False)
    return {key: value for key, value in text.items() if key not in PRICE_TEXT_KEYS}


def _merge(layers: list[tuple[str, dict]]) -> tuple[dict, dict[str, str]]:
    values: dict = {}
    sources: dict[str, str] = {}
    for name, fields in layers:
        for key in MERGED_FIELDS:
            value = fields.get(key)
            if value not in (None, "") and key not in values:
                values[key] = value
                sources[key] = name
    if values.get("condition") is None:
        values.pop("condition_raw", None)
        sources.pop("condition_raw", None)
    sources.pop("condition_raw", None)
    return values, sources


def _offer_priced(jsonld: dict, microdata: dict, offer: bool) -> bool:
    """A structured offer with a price and a currency: those layers win every field the script
    state could give (and make the page a product), so reading the state would be wasted."""
    layers = (jsonld, microdata)
    return offer and any(f.get("price") for f in layers) and any(f.get("currency") for f in layers)


def _prefer_shown_title(values: dict, sources: dict, layout: Layout, text: dict) -> None:
    """The page's visible title over an og:title that only wraps it in the site's words."""
    shown = text.get("title") if layout.title is not None else None
    if sources.get("title") == "opengraph" and shown and wraps(values["title"], shown):
        values["title"], sources["title"] = shown, "text"


def _price_from_title(values: dict, sources: dict, page: Page, meta: dict) -> None:
    """A product page that prints its price nowhere but ahead of its title ("23.99€ 50% OFF|
    Name", the price box filled by script): the title's price, as the last resort."""
    printed = title_price(page)
    amount = parse_amount(printed)
    if amount is not None:
        values["price"], sources["price"] = format_price(amount), "opengraph"
        meta["currency_hint"] = printed  # the opengraph layer's, read by _resolve_currency


def _resolve_currency(values, sources, layers, default, page: Page) -> None:
    """Structured priceCurrency first; else the printed price of each layer in order, a shared
    sign ('$', '¥', 'kr') settled by the source's default, the page's language and the site's
    country (money.resolve_currency); else the default. The deciding evidence is kept."""
    if values.get("price") is None:
        return
    if values.get("currency"):
        layer = sources.get("currency")
        values["currency_source"] = f"{layer} data gives {values['currency']}"
        return
    context = {
        "default": default,
        "lang": page.root.get("lang"),
        "host": urlsplit(page.url).hostname,
        "page_currency": layers[-1][1].get("page_currency"),
    }
    ambiguity = None
    for name, fields in layers:
        hint = fields.get("currency_hint") or ""
        found = resolve_currency(hint, **context) if hint else None
        if found and found.code and found.printed:
            values["currency"], sources["currency"] = found.code, name
            values["currency_source"] = found.source
            _reread_price(values, sources, layers)
            return
        ambiguity = ambiguity or (found.problem if found else None)
    if ambiguity:
        page.problems.append(ambiguity)
    elif default:
        values["currency"], sources["currency"] = default.upper(), "default"
        values["currency_source"] = f"no currency printed: the source's currency {default.upper()}"
        _reread_price(values, sources, layers)
    elif layers[-1][1].get("page_currency"):
        values["currency"], sources["currency"] = layers[-1][1]["page_currency"], "text"
        values["currency_source"] = f"the page prints {values['currency']} elsewhere"
        _reread_price(values, sources, layers)


def _reread_price(values: dict, sources: dict, layers) -> None:
    """The price read again from the text it was printed as, now that its currency is known:
    "12.500" yen or rupiah is 12500 (no minor units), not 12.5."""
    printed = dict(layers).get(sources.get("price"), {}).get("currency_hint")
    if not printed or format_price(parse_amount(printed)) != values["price"]:
        return  # the hint is more than the price ('5年間 … 2,475円'): nothing to re-read
    amount = amount_in(printed, values["currency"])
    if amount is not None:
        values["price"] = format_price(amount)


def _prefer_visible_sale(values: dict, sources: dict, layout: Layout, problems: list) -> None:
    """A structured price the page shows only struck through (Magento's JSON-LD still on the
    regular price beside its Special Price) gives way to the visible current price."""
    layer = sources.get("price")
    if layer not in STRUCTURED_LAYERS:
        return
    structured = Decimal(values["price"])
    sale = sale_below_struck(layout, structured, values.get("currency"))
    if sale is not None:
        values["price"], sources["price"] = format_price(sale.amount), "text"
        problems.append(
            f"{layer} price {structured} is shown struck through on the page;"
            f" its current price {values['price']} is used"
        )


def _fill_condition(values: dict, sources: dict) -> None:
    if values.get("condition"):
        return
    condition = condition_from_title(values.get("title"))
    if condition:
        values["condition"], values["condition_raw"] = condition, values["title"]
        sources["condition"] = sources.get("title", "text")
    else:
        values["condition"] = "unknown"


def _fill_seller(values, sources, jsonld: SchemaRead, meta: dict, page: Page, summary) -> None:
    """The site itself (its JSON-LD Organization, its og:site_name) as a last resort, marked
    'site' so a marketplace's own name is never mistaken for a found third-party seller; not
    on a private person's ad ("by owner", "Privater Nutzer"), which the site does not sell."""
    seller_url = values.get("seller_url")
    host = urlsplit(page.url).hostname or ""
    if seller_url and not values.get("seller_domain") and sources.get("seller_url") == "json-ld":
        seller_host = (urlsplit(seller_url).hostname or "").removeprefix("www.")
        if seller_host and seller_host != host.removeprefix("www."):
            values["seller_domain"], sources["seller_domain"] = seller_host, "json-ld"
    if values.get("seller") or seller_url or _private_party(page, summary):
        return
    names = [n.get("name") for n in jsonld.sellers if isinstance(n.get("name"), str)]
    site = (names[0].strip() if names else None) or meta.get("site_name")
    if site:
        values["seller"], sources["seller"] = site, "site"


def seller_identifiers(values, sources, jsonld, microdata, page: Page) -> tuple:
    """Every way the page names its seller, as (kind, value, via): the name, the seller URL
    (a profile or the seller's own website: the spider tells them apart), a JSON-LD @id and
    sameAs links. The site's own name (the 'site' fallback) names nobody."""
    found: list[tuple[str, str, str]] = []
    if values.get("seller") and sources.get("seller") != "site":
        found.append(("name", values["seller"], f"listing {sources['seller']} seller name"))
    if values.get("seller_url"):
        url = page.absolute(values["seller_url"])
        if url:
            found.append(("seller_url", url, f"listing {sources['seller_url']} seller URL"))
    for layer, read in (("json-ld", jsonld), ("microdata", microdata)):
        ld_id = page.absolute(read.fields.get("seller_ld_id")) if read.fields else None
        if ld_id and ld_id.split("#")[0] != page.url.split("#")[0]:  # not a page-local node
            found.append(("ld_id", ld_id, f"listing {layer} offers.seller @id"))
        for same in (read.fields or {}).get("seller_same_as") or ():
            url = page.absolute(same)
            if url:
                found.append(("seller_url", url, f"listing {layer} offers.seller sameAs"))
    if values.get("seller_domain") and sources.get("seller_domain") == "text":
        found.append(("website", values["seller_domain"], "listing text 'Website:'"))
    return tuple(dict.fromkeys(found))


def _private_party(page: Page, summary: str | None) -> bool:
    title = page.root.find(".//title")
    text = (title.text_content() if title is not None else "") + " " + (summary or "")
    return bool(PRIVATE_SELLER.search(text))


def _page_offer(values: dict, sources: dict) -> Offer:
    """The page's own offer (its buy box), as the layers read it; the site's own name is no
    seller found on the page."""
    own_seller = sources.get("seller") != "site"
    return Offer(
        seller=values.get("seller") if own_seller else None,
        price=values.get("price"),
        currency=values.get("currency"),
        condition=values.get("condition") or "unknown",
        seller_url=values.get("seller_url") if own_seller else None,
        availability=values.get("availability"),
        source=sources.get("price", ""),
        buy_box=True,
        currency_source=values.get("currency_source"),
    )


def _canonical(page: Page) -> str | None:
    for link in page.root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel:
            return page.absolute(link.get("href"))
    return None
