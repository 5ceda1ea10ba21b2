"""Is this page one product on offer? The evidence a page gives, strongest first, and the one
signal that decided, so a reader (and a `pages` source's failure report) can check it.

For a product: a structured offer (JSON-LD, microdata); OpenGraph's product type or price
tags; an `itemprop="price"` outside any Product scope; a price found by the source's
selectors or in the page's script state; else a price near the title together with a buy
button, an add-to-cart form or a product-shaped URL, or alone.
Against: a schema.org list, an article, a title comparing products ("A vs B"), or many priced
cards none of which is the title's own. Structured offers win over every counter-sign; claims
that carry the page's own price (OpenGraph price tags, itemprop price, selectors, script state)
over all but a schema.org list (a theme may mark a shop's page as an Article; a blog post
carries no price tags) and over the visible list heuristic, which misreads product pages whose
related items carry buy buttons; a bare og:type product does not (a discontinued product's
page lists alternatives)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.html

from crawler.pages._recognition_data import (
    ARTICLE_OG_TYPES,
    ARTICLE_TYPES,
    CART_FORM_ACTION,
    CART_FORM_FIELDS,
    COMPARISON_TITLE,
    LIST_PATH,
    PRODUCT_PATH,
)
from crawler.pages._seller_data import SELLER_PATH
from crawler.pages.anchors import Layout, tree_distance
from crawler.pages.document import Page, clean_text
from crawler.pages.meta import PRODUCT_OG_TYPES
from crawler.pages.money import parse_amount
from crawler.pages.prices import cached_candidates
from crawler.pages.schema import SchemaRead, types_of

# The box around the title and its price holds at most this many buy buttons when the price is
# the title's own (a buy button and a "buy now" beside it); a grid or a table holds more.
MAX_OWN_BUY_BUTTONS = 2
# A link naming a product (not "Buy now", not a brand) has at least this many characters.
MIN_PRODUCT_NAME = 8


@dataclass(frozen=True)
class Recognition:
    """The decision, the signal that made it (recorded in field_sources["is_product"]) and a
    sentence saying why (the failure reason when a listed URL yields no listing)."""

    is_product: bool
    signal: str
    reason: str


@dataclass
class Evidence:
    """What the extraction layers found, as the recognizer reads it."""

    page: Page
    layout: Layout
    jsonld: SchemaRead
    microdata: SchemaRead
    meta: dict
    selected_price: bool
    state_price: bool
    text: dict
    title: str | None
    nodes: list[dict]


def recognize(e: Evidence) -> Recognition:
    rules = (_structured, _schema_list, _priced_claims, _editorial, _list_page, _type_claim)
    for rule in (*rules, _visible):
        found = rule(e)
        if found is not None:
            return found
    if e.layout.title is not None:
        return Recognition(False, "no price", "a title but no price near it")
    return Recognition(False, "no price", "neither a product title nor a price")


def product_url(url: str) -> bool:
    """A URL shaped like a product page's on the common platforms (and not like a list's)."""
    parts = urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    return bool(PRODUCT_PATH.search(target)) and not LIST_PATH.search(target)


def _structured(e: Evidence) -> Recognition | None:
    for name, read in (("json-ld", e.jsonld), ("microdata", e.microdata)):
        if read.has_offer:
            return Recognition(True, f"{name} offer", f"a schema.org Product offer in {name}")
    return None


def _schema_list(e: Evidence) -> Recognition | None:
    if e.jsonld.is_list_page or e.microdata.is_list_page:
        return Recognition(False, "schema.org list", "a list of products (schema.org ItemList)")
    return None


def _editorial(e: Evidence) -> Recognition | None:
    """An article, or products set side by side: a price there is quoted, not offered."""
    article = _article_type(e)
    if article:
        return Recognition(False, "article", f"an article ({article}), not an offer")
    if e.title and COMPARISON_TITLE.search(e.title):
        return Recognition(False, "comparison", f"a comparison of products ({e.title[:80]!r})")
    compared = _product_table(e.layout)
    if compared:
        return Recognition(False, "comparison", f"a table comparing {compared} products")
    return None


def _priced_claims(e: Evidence) -> Recognition | None:
    """Page-level claims that carry the product's own price: they outweigh the visible list
    heuristic (a product page whose related items carry buy buttons)."""
    if not e.title:
        return None
    if e.meta.get("price_tag"):
        return Recognition(True, "product price tags", f"a {e.meta['price_tag']} tag")
    if _itemprop_price(e.page, e.layout):
        return Recognition(True, "itemprop price", 'one itemprop="price" outside a Product')
    if e.selected_price:
        return Recognition(True, "selector price", "the source's price selector matched")
    if e.state_price:
        return Recognition(True, "script state price", "the product's price in script state")
    return None


def _list_page(e: Evidence) -> Recognition | None:
    """Many priced cards or buy buttons, none of them the title's own."""
    if not e.text.get("is_list_page") or _title_owns_offer(e.layout):
        return None
    count = len({c.amount for c in cached_candidates(e.layout)})
    buttons = len(e.layout.buy_buttons)
    return Recognition(False, "list page", f"a list page: {count} prices and {buttons} buy buttons")


def _type_claim(e: Evidence) -> Recognition | None:
    og_type = e.meta.get("og_type") or ""
    if e.title and og_type in PRODUCT_OG_TYPES:
        return Recognition(True, "og:type product", f"og:type {og_type}")
    return None


def _visible(e: Evidence) -> Recognition | None:
    text = e.text
    has_title = e.layout.title is not None
    if text.get("price_on_request") and has_title:
        return Recognition(True, "price on request", "a product title and 'price on request'")
    if not (text.get("price") and has_title):
        return None
    if e.layout.buy_buttons:
        return Recognition(True, "buy button", "a price near the title and a buy button")
    if _cart_form(e.layout):
        return Recognition(True, "add-to-cart form", "a price near the title and a cart form")
    if product_url(e.page.url):
        return Recognition(True, "product URL", "a price near the title and a product URL")
    return Recognition(True, "price near title", "a price near the title")


def _article_type(e: Evidence) -> str | None:
    """An editorial page: a JSON-LD article or review, or og:type article with nothing to buy."""
    reviews = sum(1 for node in e.nodes if "review" in types_of(node))
    for node in e.nodes:
        found = types_of(node) & ARTICLE_TYPES
        if not found or (found == {"review"} and reviews > 1):
            continue  # shoppers' reviews of the product on its own page are no article
        raw = node.get("@type")
        names = raw if isinstance(raw, list) else [raw]
        shown = [n for n in names if isinstance(n, str) and types_of({"@type": n}) & ARTICLE_TYPES]
        return f"JSON-LD {shown[0].rsplit('/', 1)[-1] if shown else 'Article'}"
    og_type = e.meta.get("og_type") or ""
    if og_type in ARTICLE_OG_TYPES and not e.layout.buy_buttons and not _cart_form(e.layout):
        return f"og:type {og_type}"
    return None


def _product_table(layout: Layout) -> int:
    """The price nearest the title is a cell of a table whose header row names several products
    by links (a comparison table): how many; 0 when it is not. An offer table's header names
    columns ("Seller", "Price"), not products."""
    nearest = _nearest_price(layout)
    table = next((a for a in nearest.element.iterancestors("table")), None) if nearest else None
    if table is None:
        return 0
    inside = {c.amount for c in cached_candidates(layout) if _within(c.element, table)}
    if len(inside) < 2:
        return 0  # one price in a layout table (an old shop's page) is the product's own
    header = next(table.iter("tr"), None)
    names = set()
    for link in header.iter("a") if header is not None else ():
        name = clean_text(link.text_content())
        if (
            len(name) >= MIN_PRODUCT_NAME
            and link.get("href")
            and not SELLER_PATH.search(link.get("href"))
        ):
            names.add(name.lower())
    return len(names) if len(names) >= 2 else 0


def _within(element: lxml.html.HtmlElement, block: lxml.html.HtmlElement) -> bool:
    return any(a is block for a in element.iterancestors())


def _nearest_price(layout: Layout):
    """The shown price nearest the title, outside other products' blocks."""
    title = layout.title
    candidates = [c for c in cached_candidates(layout) if c.text]
    if title is None or not candidates:
        return None
    return min(candidates, key=lambda c: tree_distance(c.element, title))


def _itemprop_price(page: Page, layout: Layout) -> bool:
    """Shown prices marked itemprop="price" outside any itemscope (microdata readers skip
    them), all of one amount and outside other products' blocks."""
    amounts = set()
    for element in page.root.iter():
        if not isinstance(element.tag, str) or element.get("itemprop") != "price":
            continue
        if element.tag == "meta" or _in_scope(element) or layout.in_blocked(element):
            continue
        amount = parse_amount(element.get("content") or clean_text(element.text_content()))
        if amount is not None:
            amounts.add(amount)
    return len(amounts) == 1


def _in_scope(element: lxml.html.HtmlElement) -> bool:
    return any(a.get("itemscope") is not None for a in element.iterancestors())


def _cart_form(layout: Layout) -> bool:
    for element in layout.elements:
        if element.tag != "form" or layout.in_blocked(element):
            continue
        if CART_FORM_ACTION.search(element.get("action") or ""):
            return True
        names = {(field.get("name") or "").lower() for field in element.iter("input", "button")}
        if names & CART_FORM_FIELDS:
            return True
    return False


def _title_owns_offer(layout: Layout) -> bool:
    """The price nearest the title is the title's own: the smallest box holding both has at
    least one way to buy (a button or a cart form) and no more buy buttons than one product
    shows. A category grid's or a comparison table's nearest price is one card among many."""
    nearest = _nearest_price(layout)
    if nearest is None:
        return False
    above = {id(a) for a in layout.title.iterancestors()}
    box = next((a for a in nearest.element.iterancestors() if id(a) in above), None)
    if box is None or box.tag in ("body", "html"):
        return False
    buttons = [b for b in layout.buy_buttons if any(a is box for a in b.iterancestors())]
    forms = [f for f in box.iter("form") if CART_FORM_ACTION.search(f.get("action") or "")]
    return len(buttons) <= MAX_OWN_BUY_BUTTONS and bool(buttons or forms)
