"""The last layer: what a reader sees. Title from the h1 (or the <title> without its site
suffix), price from the scored candidates, condition and seller from labelled fields ("Sold by
X", "Condition: Pre-owned") and seller-profile links near the buy box."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import lxml.html

from crawler.pages._data import PRICE_ON_REQUEST
from crawler.pages._seller_data import (
    GENERIC_LINK_TEXT,
    PROFILE_LINK_TOKENS,
    SELLER_PATH,
    SHOP_NAME_END,
    WEBSITE_LABEL,
)
from crawler.pages.anchors import Layout
from crawler.pages.condition import (
    condition_from_field,
    condition_from_title,
    condition_in_block,
)
from crawler.pages.document import SKIP_TAGS, Page, clean_text, hint_tokens, is_hidden, visible_text
from crawler.pages.labels import CONDITION, SELLER_LABELS, clean_name, first_line, labelled_value
from crawler.pages.money import format_price, unambiguous_currency
from crawler.pages.prices import MONEY_OR_MARKER, best_price, cached_candidates
from crawler.pages.titles import page_title

# A product page shows this many priced cards linking elsewhere only when it is a list.
MANY_CARDS = 4
# A link naming a product beside a price has at least this many characters.
MIN_CARD_NAME = 12
# A shop's name is longer than the bare word for a shop ("实体店", a physical store).
MIN_SHOP_NAME = 4
# The product summary around the title; beyond this it is the whole page, reviews and all.
MAX_BLOCK_TEXT = 1500
# How much of that block is kept as the listing's summary.
MAX_SUMMARY = 1000
# How much of the page's text is searched for a currency when the price shows none.
MAX_PAGE_TEXT = 20_000


def visible_fields(page: Page, layout: Layout, site_name: str | None, prices=True) -> dict:
    """`prices=False` skips the price candidates and the page currency: the caller's
    structured data already settled price, currency and the offer, and ignores those keys."""
    candidates = cached_candidates(layout) if prices else []
    best = best_price(candidates)
    title = _title(layout) or page_title(page, site_name)
    seller, seller_url, seller_domain = _seller(page, layout)
    condition_raw = labelled_value(layout, CONDITION)[0]
    condition = condition_from_field(condition_raw) or condition_from_title(title)
    if condition is None:
        condition_raw = _product_block_text(layout)
        condition = condition_in_block(condition_raw)
    list_page = _looks_like_list_page(layout, candidates)
    page_currency = _page_currency(layout) if prices else None
    # "Price on request": still a product offer, recorded with no price.
    on_request = best is None and bool(PRICE_ON_REQUEST.search(_product_block_text(layout) or ""))
    return {
        "title": title,
        "price": format_price(best.amount) if best else None,
        "currency_hint": best.text if best else None,  # settled in listing._resolve_currency
        "condition": condition,
        "condition_raw": (condition_raw or title)[:200] if condition else None,
        "seller": seller,
        "seller_url": seller_url,
        "seller_domain": seller_domain,
        "is_product": bool((best or on_request) and layout.title is not None and not list_page),
        "price_on_request": on_request,
        "summary": _summary(layout),
        "is_list_page": list_page,
        "page_currency": page_currency,
    }


def _page_currency(layout: Layout) -> str | None:
    """The one unambiguous currency the page's text names ("Preise in €"), if only one."""
    root = layout.elements[0] if layout.elements else None
    text = visible_text(root, MAX_PAGE_TEXT) if root is not None else ""
    codes = {
        unambiguous_currency(text[max(0, m.start() - 2) : m.end()])  # "1,000円", not "販売元"
        for m in MONEY_OR_MARKER.finditer(text)
    }
    codes.discard(None)
    return codes.pop() if len(codes) == 1 else None


def _title(layout: Layout) -> str | None:
    if layout.title is None:
        return None
    return visible_text(layout.title, 400)[:300] or None


def _summary(layout: Layout) -> str | None:
    """The product's own block as text ("Import, keine EU-Garantie"), for the detectors:
    the title's nearest ancestors, leaving out recommendation blocks and links elsewhere."""
    if layout.title is None:
        return None
    found = None
    for block in list(layout.title.iterancestors())[:4]:
        if layout.in_blocked(block):
            break
        text = clean_text(" ".join(_own_text(block, layout.blocked)))
        if len(text) > MAX_SUMMARY:
            break
        found = text
    return found or None


def _own_text(
    element: lxml.html.HtmlElement, blocked: set, *, links: bool = False
) -> Iterator[str]:
    """Visible text of `element` without blocked blocks (and without link texts unless
    `links`)."""
    if not isinstance(element.tag, str) or element.tag in SKIP_TAGS or is_hidden(element):
        return
    if element in blocked or (element.tag == "a" and not links):
        return
    if element.text:
        yield element.text
    for child in element:
        yield from _own_text(child, blocked, links=links)
        if child.tail:
            yield child.tail


def _product_block_text(layout: Layout) -> str | None:
    """Text of the smallest block around the title that is still short enough to be the
    product's own summary ("Brand new, factory sealed")."""
    found = None
    ancestors = list(layout.title.iterancestors())[:4] if layout.title is not None else []
    for block in ancestors:
        text = _unblocked_text(block, layout.blocked, MAX_BLOCK_TEXT + 1)
        if len(text) > MAX_BLOCK_TEXT or layout.in_blocked(block):
            break
        found = text
    return found


def _unblocked_text(element: lxml.html.HtmlElement, blocked: set, limit: int) -> str:
    """`visible_text` without the blocked blocks inside (other products, other sellers' offer
    rows): their "Condition: Used" is not the product's."""
    if not blocked:
        return visible_text(element, limit)
    parts: list[str] = []
    size = 0
    for piece in _own_text(element, blocked, links=True):
        parts.append(piece)
        size += len(piece)
        if size > limit:
            break
    return clean_text(" ".join(parts))


def _seller(page: Page, layout: Layout) -> tuple[str | None, str | None, str | None]:
    name, node = None, None
    for label in SELLER_LABELS:
        name, node = labelled_value(layout, label)
        if name:
            break
    link = _profile_link(page, node) if node is not None else None
    if link is None:
        link, link_name = _nearest_profile_link(page, layout)
        name = name or link_name
    url = page.absolute(link.get("href")) if link is not None else None
    return name, url, _website(node)


def _profile_link(page: Page, node: lxml.html.HtmlElement):
    for link in node.iter("a"):
        if link.get("href") and page.absolute(link.get("href")):
            return link
    return None


def _nearest_profile_link(page: Page, layout: Layout) -> tuple:
    """The link nearest the title that leads to a seller's page — by its URL ("/seller/…"),
    by its class ("shop-name"), or else by a name that says it is a shop
    ("Apple产品京东自营旗舰店") — and the seller's name from it or from another link to the
    same page ("17 ads online" beside the user's name)."""
    buttons = {id(button) for button in layout.buy_buttons}  # "/shop/cart/add/…" is no shop
    links = [e for e in layout.elements if e.tag == "a" and e.get("href") and id(e) not in buttons]
    profiles = [e for e in links if _leads_to_seller(e)]
    placed = [e for e in profiles if not layout.in_blocked(e)]
    placed = placed or [e for e in profiles if _in_side_column(layout, e)]
    placed = placed or [e for e in links if _names_a_shop(page, e) and not layout.in_blocked(e)]
    if not placed:
        return None, None
    placed.sort(key=lambda link: layout.distance(link) or 0)
    href = placed[0].get("href")
    names = (_link_name(link) for link in placed if link.get("href") == href)
    return placed[0], next((name for name in names if name), None)


def _leads_to_seller(link: lxml.html.HtmlElement) -> bool:
    return bool(SELLER_PATH.search(link.get("href")) or hint_tokens(link) & PROFILE_LINK_TOKENS)


def _in_side_column(layout: Layout, element: lxml.html.HtmlElement) -> bool:
    """In an <aside> or sidebar (a classified ad's seller box) and in no other blocked block:
    not in the site's header, menu or footer, nor among other products."""
    blocked = [node for node in (element, *element.iterancestors()) if node in layout.blocked]
    return bool(blocked) and all(
        node.tag == "aside" or "sidebar" in hint_tokens(node) for node in blocked
    )


def _names_a_shop(page: Page, link: lxml.html.HtmlElement) -> bool:
    """A link named like a shop that stands on its own: in running text ("到<a>附近的…专卖店</a>
    体验真机", visit a store near you) a store's name is prose, not the seller."""
    text = link.text_content().strip()
    if not text.endswith(SHOP_NAME_END) or len(text) < MIN_SHOP_NAME:
        return False
    if (link.tail or "").strip():
        return False
    return page.absolute(link.get("href")) is not None


def _link_name(link: lxml.html.HtmlElement) -> str | None:
    """The link's first line: a seller card's link also holds its rating and badges."""
    text = first_line(link)
    if text and not GENERIC_LINK_TEXT.match(text):
        return clean_name(text)
    return None


def _website(node: lxml.html.HtmlElement | None) -> str | None:
    if node is None:
        return None
    scope = node.getparent() if node.getparent() is not None else node
    match = WEBSITE_LABEL.search(visible_text(scope, 600))
    if not match:
        return None
    host = urlsplit(match.group(1) if "//" in match.group(1) else "//" + match.group(1)).hostname
    return host.removeprefix("www.") if host else None


def _looks_like_list_page(layout: Layout, candidates: list) -> bool:
    """Many priced cards, each linking to its own page, and no single buy box; or, with no
    buy button at all, a few prices that every one sits in a card linking elsewhere (a home
    page's teasers, a small category)."""
    if 0 < len(layout.buy_buttons) < 3:
        return False
    hrefs = set()
    for candidate in candidates:
        for ancestor in list(candidate.element.iterancestors())[:5]:
            link = next((a for a in ancestor.iter("a") if a.get("href")), None)
            if link is not None:
                hrefs.add(link.get("href"))
                break
    if len(hrefs) >= MANY_CARDS or len(layout.buy_buttons) >= MANY_CARDS:
        return True
    if layout.buy_buttons or len(candidates) < 2:
        return False
    title = clean_text(visible_text(layout.title, 300)) if layout.title is not None else ""
    cards = [_card_link(c.element, title) for c in candidates]
    return all(cards) and len(set(cards)) >= 2


def _card_link(element: lxml.html.HtmlElement, title: str) -> str | None:
    """The href of a product-named link beside this price (within its card), if any."""
    for ancestor in list(element.iterancestors())[:2]:
        for link in ancestor.iter("a"):
            text = clean_text(visible_text(link, 200))
            if link.get("href") and len(text) >= MIN_CARD_NAME and text != title:
                return link.get("href")
    return None
