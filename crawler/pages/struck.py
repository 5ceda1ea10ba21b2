"""Structured prices the page itself shows struck through: a JSON-LD or microdata offer still
carrying the regular price (a stale cache, a plugin reading the wrong field) beside a visible
sale price. The buyer pays what the page shows as current, so that price wins."""

from __future__ import annotations

import re
from decimal import Decimal

from crawler.pages._data import OLD_PRICE_TOKENS, REGULAR_TOKENS, STRUCK_TAGS
from crawler.pages.anchors import Layout
from crawler.pages.document import hint_tokens
from crawler.pages.money import unambiguous_currency
from crawler.pages.prices import Candidate, best_price, cached_candidates, read_candidate

# Class words of a price shown for comparison, the regular price beside a sale included.
_OLD_OR_REGULAR = OLD_PRICE_TOKENS | REGULAR_TOKENS
# Class fragments of old-price elements. Only a gate: pages without any of them (most item
# pages, whose structured price is current) skip the rest; a false alarm only costs time.
_OLD_CLASS = re.compile(
    r"old|was|strike|regular|rrp|msrp|uvp|compare|origin|crossed|before|previous|list.?price"
)


def sale_below_struck(
    layout: Layout, structured: Decimal, currency: str | None
) -> Candidate | None:
    """The page's current price when the structured price appears on it only struck through
    (or as the old/regular price), and the current price is lower, in no other printed
    currency; None otherwise."""
    if not any(_may_be_struck(element) for element in layout.elements):
        return None
    if structured not in _struck_amounts(layout):
        return None
    # Printed prices only: a <meta itemprop="price"> is the structured price itself.
    shown = [candidate for candidate in cached_candidates(layout) if candidate.text]
    best = best_price(shown)
    if best is None or best.amount >= structured:
        return None
    if any(candidate.amount == structured for candidate in shown):
        return None  # the page also prints it as a plain price: it is current somewhere
    printed = unambiguous_currency(best.text)
    if printed and currency and printed != currency:
        return None
    return best


def _struck_amounts(layout: Layout) -> set[Decimal]:
    amounts = set()
    for element in layout.elements:
        if not _looks_struck(element) or layout.in_blocked(element):
            continue
        candidate = read_candidate(element)
        if candidate is not None:
            amounts.add(candidate.amount)
    return amounts


def _may_be_struck(element) -> bool:
    """A cheap first look (a plain loop: an XPath with the same tests costs 20 times more)."""
    if element.tag in STRUCK_TAGS:
        return True
    attributes = element.attrib
    if not attributes:
        return False
    names = attributes.get("class")
    if names and _OLD_CLASS.search(names.lower()):
        return True
    return "data-a-strike" in attributes or "line-through" in (attributes.get("style") or "")


def _looks_struck(element) -> bool:
    if element.tag in STRUCK_TAGS or element.get("data-a-strike") == "true":
        return True
    if "line-through" in (element.get("style") or ""):
        return True
    return bool(element.get("class")) and bool(hint_tokens(element) & _OLD_OR_REGULAR)
