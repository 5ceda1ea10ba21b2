"""Every seller's offer on a page that shows several: a marketplace's buy box and its "other
sellers", an AggregateOffer's or an offers list's sellers, a comparison site's shop list.

Structured offers (JSON-LD, microdata) are taken when they name at least two sellers. Else the
visible page is read for offer rows: repeated sibling blocks (list items, table rows, cards),
each naming one seller (a "sold by" label, a link to a seller's page, a seller-name element)
beside one price, and linking to no other product. The page's own offer (its buy box) comes
first; an offer row from the buy box's own seller is that same offer shown again.

`offer_listings` turns a listing with offers into one listing per offer, each with its own
seller, price, currency and condition and an offer key: the page's URL plus the key is the
offer's identity ("" for the buy box, so a page's history continues when other sellers come
and go)."""

from __future__ import annotations

import copy
import re
from dataclasses import replace

import lxml.html

from crawler.pages._data import PRICE_TOKENS
from crawler.pages._seller_data import GENERIC_LINK_TEXT, PROFILE_LINK_TOKENS, SELLER_PATH
from crawler.pages.anchors import Layout
from crawler.pages.condition import condition_from_field, condition_in_block
from crawler.pages.document import SKIP_TAGS, Page, clean_text, hint_tokens, is_hidden, visible_text
from crawler.pages.labels import CONDITION, SELLER_LABELS, clean_name, first_line, labelled_value
from crawler.pages.money import MONEY, format_price, resolve_currency, unambiguous_currency
from crawler.pages.prices import price_candidates
from crawler.pages.schema import SchemaRead, offer_records
from grayhound.models import Listing, Offer

# A page showing more sellers' offers than this is junk or an attack: the first ones are kept.
MAX_OFFERS = 100
# Seller words found beyond this many elements are not read (a page of thousands of names).
MAX_SELLER_SPOTS = 500
# An offer key holds at most this much of the seller's name.
MAX_KEY_NAME = 120
# An offer row is short: a seller, a price, a condition, a delivery note and a button.
MAX_ROW_TEXT = 600
# How far above a seller's name its row may start (name → cell → row → table body).
MAX_ROW_DEPTH = 6
# A price in a row needs a printed currency (2) or a price class (3); see prices._score.
MIN_ROW_PRICE_SCORE = 2.0
# A link naming a product has at least this many characters (a card of another product).
MIN_PRODUCT_LINK_TEXT = 12
# Class words of an element that holds a seller's name.
SELLER_NAME_TOKENS = PROFILE_LINK_TOKENS | frozenset(
    {"seller", "merchant", "vendor", "shopname", "storename", "merchantname", "retailer"}
)
# A cheap first look at an element's attributes before its class words are split.
_SELLER_WORD = re.compile(r"seller|merchant|vendor|shop|store|retailer")
# A "sold by" label with its name is a short text.
MAX_LABEL_CHUNK = 120
# Class words of an element that holds an offer's condition.
CONDITION_TOKENS = frozenset({"condition", "cond", "state", "zustand", "etat", "stan", "stare"})
# Class words of a block of offers (which may sit in a drawer or a side column).
OFFER_BLOCK_TOKENS = frozenset({"offer", "offers", "seller", "sellers", "merchant", "merchants"})


def read_offers(
    page: Page,
    layout: Layout,
    jsonld: SchemaRead,
    microdata: SchemaRead,
    main: Offer,
    rows: list[tuple[lxml.html.HtmlElement, Offer]] | None = None,
) -> tuple[Offer, ...]:
    """The page's offers, its own (buy box) first, when it shows more than one seller; else ().
    `rows`: the visible offer rows (`offer_rows`), when the caller has read them already.

    `main` is the page's own offer, read with the offer rows left out; without a seller of its
    own it is the site's offer (a shop that also lists marketplace sellers) and still comes
    first when it has a price."""
    structured = structured_offers(page, jsonld, microdata)
    if structured:
        return _buy_box_first(structured, main)
    rows = offer_rows(layout) if rows is None else rows
    found = [
        replace(
            offer,
            seller_url=page.absolute(offer.seller_url),
            currency=offer.currency or main.currency,
            currency_source=offer.currency_source
            if offer.currency
            else _as_page(main.currency_source),
        )
        for _, offer in rows
        if _seller_key(offer.seller) != _key_of(main)
    ][: MAX_OFFERS - 1]
    if not found:
        return ()
    if main.price:
        return (main, *found)
    return tuple(found) if len(found) >= 2 else ()


def structured_offers(page: Page, jsonld: SchemaRead, microdata: SchemaRead) -> list[Offer]:
    """JSON-LD's (else microdata's) offers when they name at least two sellers; else []."""
    for read, source in ((jsonld, "json-ld"), (microdata, "microdata")):
        structured = _structured(read, source)[:MAX_OFFERS]
        if len({_seller_key(o.seller) for o in structured if o.seller}) >= 2:
            # "/seller/evil.html" is the seller's profile on this site, as in a visible row
            return [replace(o, seller_url=page.absolute(o.seller_url)) for o in structured]
    return []


def _as_page(source: str | None) -> str | None:
    return f"as the page's own price: {source}" if source else None


def offer_listings(listing: Listing) -> list[Listing]:
    """One listing per offer on the page (the listing itself when it has no offers)."""
    if not listing.offers:
        return [listing]
    found = []
    for offer, key in zip(listing.offers, offer_keys(listing.offers), strict=True):
        sources = dict(listing.field_sources)
        for name in ("seller", "price", "currency", "condition"):
            if getattr(offer, name) not in (None, "unknown"):
                sources[name] = offer.source or sources.get(name, "text")
        # the page's own offer naming no seller is the site's: the listing's seller stays
        sites = offer.buy_box and offer.seller is None
        same_seller = sites or offer.seller == listing.seller
        found.append(
            replace(
                listing,
                seller=listing.seller if sites else offer.seller,
                seller_url=offer.seller_url or (listing.seller_url if same_seller else None),
                seller_domain=listing.seller_domain if same_seller else None,
                # the page's seller identifiers name the buy-box seller, not another offer's
                seller_identifiers=listing.seller_identifiers if same_seller else (),
                price=offer.price,
                currency=offer.currency,
                currency_source=offer.currency_source if offer.currency else None,
                condition=offer.condition,
                condition_raw=listing.condition_raw if offer.buy_box else None,
                availability=offer.availability
                or (listing.availability if offer.buy_box else None),
                field_sources=sources,
                missing=tuple(
                    n for n in listing.missing if getattr(offer, n, None) in (None, "unknown")
                ),
                offers=(),
                offer_key=key,
            )
        )
    return found


def offer_keys(offers: tuple[Offer, ...]) -> list[str]:
    """ "" for the buy box; else the seller ("seller:gsm pro center"), with the condition when
    one seller has several offers, and a number when even that repeats."""
    keys: list[str] = []
    sellers = [_seller_key(o.seller) for o in offers]
    for offer, seller in zip(offers, sellers, strict=True):
        if offer.buy_box:
            keys.append("")
            continue
        key = f"seller:{seller}" if seller else "offer"
        if not seller or sellers.count(seller) > 1:
            key += f"|{offer.condition}"
        base, number = key, 2
        while key in keys:
            key, number = f"{base}#{number}", number + 1
        keys.append(key)
    return keys


def offer_rows(layout: Layout) -> list[tuple[lxml.html.HtmlElement, Offer]]:
    """Offer rows, each with its offer: sibling blocks of one shape, at least two of which
    name a seller beside one price. A row's currency is None unless it prints one."""
    groups: dict[int, list[lxml.html.HtmlElement]] = {}
    for spot in _seller_spots(layout)[:MAX_SELLER_SPOTS]:
        row = _row_of(spot, layout)
        if row is not None:
            rows = groups.setdefault(id(row.getparent()), [])
            if row not in rows:
                rows.append(row)
    found = []
    for rows in groups.values():
        read = [(row, offer) for row in rows if (offer := _read_row(row)) is not None]
        if len(read) >= 2:
            found.extend(read)
    return found


def _structured(read: SchemaRead, source: str) -> list[Offer]:
    if read.product is None:
        return []
    return [
        Offer(
            seller=record["seller"],
            price=record["price"],
            currency=record["currency"],
            condition=record["condition"] or "unknown",
            seller_url=record["seller_url"],
            availability=record["availability"],
            source=source,
            currency_source=f"{source} data gives {record['currency']}"
            if record["currency"]
            else None,
        )
        for record in offer_records(read.product, read.index)
    ]


def _buy_box_first(offers: list[Offer], main: Offer) -> tuple[Offer, ...]:
    """The offer of the page's own seller is its buy box; a comparison page has none."""
    own = _key_of(main)
    for position, offer in enumerate(offers):
        if own and _seller_key(offer.seller) == own:
            rest = offers[:position] + offers[position + 1 :]
            return (replace(offer, buy_box=True), *rest)
    return tuple(offers)


def _seller_spots(layout: Layout) -> list[lxml.html.HtmlElement]:
    """Elements that name a seller: a link to a seller's page, an element whose class says
    seller, a "sold by" label. The class test runs only on elements whose attributes mention
    a seller word at all (most elements have none)."""
    spots = []
    for element in layout.elements:
        href = element.get("href") if element.tag == "a" else None
        if href and SELLER_PATH.search(href):
            spots.append(element)
            continue
        attributes = " ".join(element.attrib.values()).lower()
        if _SELLER_WORD.search(attributes) and hint_tokens(element) & SELLER_NAME_TOKENS:
            spots.append(element)
    for element, chunks in layout.own_texts():
        for chunk in chunks:
            if len(chunk) <= MAX_LABEL_CHUNK and _starts_with_seller_label(chunk):
                spots.append(element)
                break
    return spots


def _starts_with_seller_label(chunk: str) -> bool:
    return any(label.pattern.match(chunk) for label in SELLER_LABELS[:2])


def _row_of(spot: lxml.html.HtmlElement, layout: Layout) -> lxml.html.HtmlElement | None:
    """The nearest block above the seller's name that repeats among its siblings and holds a
    price: the offer's row."""
    for node in [spot, *list(spot.iterancestors())[:MAX_ROW_DEPTH]]:
        parent = node.getparent()
        if parent is None or node.tag in ("body", "html", "main"):
            return None
        shape = (node.tag, node.get("class"))
        if not any((s.tag, s.get("class")) == shape for s in parent if s is not node):
            continue
        text = visible_text(node, MAX_ROW_TEXT + 1)
        if len(text) > MAX_ROW_TEXT:
            return None
        if _holds_price(node, text):
            return node if _may_hold_offers(node, layout) else None
    return None


def _holds_price(node: lxml.html.HtmlElement, text: str) -> bool:
    """A printed amount with its currency, or digits in an element whose class says price
    ("3.749<sup>00</sup> Lei": not every currency word is a marker)."""
    if MONEY.search(text):
        return True
    return any(
        hint_tokens(element) & PRICE_TOKENS and any(ch.isdigit() for ch in element.text_content())
        for element in node.iter()
        if isinstance(element.tag, str)
    )


def _may_hold_offers(row: lxml.html.HtmlElement, layout: Layout) -> bool:
    """Not the product's own title block, and not among other products (related items,
    sponsored cards) unless the block says it holds offers or sellers."""
    if next(row.iter("h1"), None) is not None or layout.title in set(row.iter()):
        return False
    if not layout.in_blocked(row):
        return True
    chain = [row, *row.iterancestors()]
    return any(hint_tokens(node) & OFFER_BLOCK_TOKENS for node in chain)


def _read_row(row: lxml.html.HtmlElement) -> Offer | None:
    """The row read on its own: a detached copy, so no reading climbs out of it."""
    row = copy.deepcopy(row)
    row.tail = None
    mini = Layout(elements=_visible_elements(row))
    seller, seller_url = _row_seller(mini)
    if seller is None or _names_other_product(mini, seller):
        return None
    scored = [c for c in price_candidates(mini) if c.score >= MIN_ROW_PRICE_SCORE]
    if not scored:
        return None
    best = scored[0]
    printed = resolve_currency(best.text) if unambiguous_currency(best.text) else None
    return Offer(
        seller=seller,
        price=format_price(best.amount),
        currency=printed.code if printed else None,
        condition=_row_condition(mini, row) or "unknown",
        seller_url=seller_url,
        source="text",
        currency_source=f"the offer's row: {printed.source}" if printed else None,
    )


def _row_seller(mini: Layout) -> tuple[str | None, str | None]:
    for label in SELLER_LABELS:
        name, node = labelled_value(mini, label)
        if name:
            link = next((a for a in node.iter("a") if a.get("href")), None)
            return name, link.get("href") if link is not None else None
    for element in mini.elements:
        tokens = hint_tokens(element)
        is_link = element.tag == "a" and bool(element.get("href"))
        if is_link and (SELLER_PATH.search(element.get("href")) or tokens & PROFILE_LINK_TOKENS):
            name = _name_in(element)
            if name:
                return name, element.get("href")
        elif tokens & SELLER_NAME_TOKENS:
            link = next((a for a in element.iter("a") if a.get("href")), None)
            name = _name_in(link if link is not None else element)
            if name:
                return name, link.get("href") if link is not None else None
    return None, None


def _name_in(element: lxml.html.HtmlElement) -> str | None:
    text = first_line(element)
    if not text:
        image = next(element.iter("img"), None)
        text = clean_text(image.get("alt")) if image is not None else ""
    if not text or GENERIC_LINK_TEXT.match(text) or MONEY.search(text):
        return None
    return clean_name(text)


def _names_other_product(mini: Layout, seller: str) -> bool:
    """A link with a long name that is neither the seller nor a seller's page: a product card."""
    for element in mini.elements:
        if element.tag != "a" or not element.get("href"):
            continue
        text = clean_text(visible_text(element, 200))
        if len(text) < MIN_PRODUCT_LINK_TEXT or seller.lower() in text.lower():
            continue
        if not SELLER_PATH.search(element.get("href")) and not MONEY.search(text):
            return True
    return False


def _row_condition(mini: Layout, row: lxml.html.HtmlElement) -> str | None:
    raw, _ = labelled_value(mini, CONDITION)
    found = condition_from_field(raw)
    if found:
        return found
    for element in mini.elements:
        if hint_tokens(element) & CONDITION_TOKENS:
            found = condition_from_field(first_line(element))
            if found:
                return found
    return condition_in_block(visible_text(row, MAX_ROW_TEXT))


def _visible_elements(root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    found, stack = [], [root]
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str) or element.tag in SKIP_TAGS or is_hidden(element):
            continue
        found.append(element)
        stack.extend(reversed(element))
    return found


def _seller_key(name: str | None) -> str:
    return re.sub(r"\s+", " ", (name or "")[: MAX_KEY_NAME * 2]).strip().casefold()[:MAX_KEY_NAME]


def _key_of(offer: Offer) -> str:
    return _seller_key(offer.seller)
