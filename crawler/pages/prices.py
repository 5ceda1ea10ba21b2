"""The product's price from visible text, when structured data has none: every element that
looks like a price is a candidate; struck-through, instalment, unit, shipping and saving
amounts and prices of other products are dropped; the rest are scored by price-ish class
names, a printed currency, and closeness to the title and buy button."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

import lxml.html

from crawler.pages._data import (
    CURRENT_LABEL,
    CURRENT_TOKENS,
    NOT_CURRENT_AFTER,
    NOT_CURRENT_BEFORE,
    PRICE_TOKENS,
    REGULAR_LABEL,
    REGULAR_TOKENS,
    STRUCK_TAGS,
    STRUCK_TOKENS,
)
from crawler.pages.anchors import Layout
from crawler.pages.document import SKIP_TAGS, clean_text, hint_tokens, is_hidden, visible_text
from crawler.pages.money import MONEY, MONEY_OR_MARKER, NUMBER, join_symbol_decimals, parse_amount

# Score a candidate needs to count as the page's price (a printed currency plus some
# closeness to the title, or a price class name alone).
MIN_SCORE = 3.0
# Longest text an element may have and still be "a price" rather than a block containing one.
MAX_PRICE_TEXT = 48
# A page with more prices than this is a list; the product's own price comes early.
MAX_CANDIDATES = 300
SPLIT_PART_TOKENS = frozenset(
    {"whole", "fraction", "decimal", "cents", "integer", "symbol", "currency", "dec", "int"}
)
FRACTION_TOKENS = frozenset({"fraction", "cents", "decimals", "decimal", "dec"})
_NUMBERS = re.compile(NUMBER)
_PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s*%")


@dataclass
class Candidate:
    element: lxml.html.HtmlElement
    text: str
    amount: Decimal
    score: float = 0.0
    before: str = ""  # the words printed just before the amount ("Your Price", "Regular price")
    reasons: list[str] = field(default_factory=list)


def price_candidates(layout: Layout) -> list[Candidate]:
    """Candidates that survived the exclusions, best first."""
    seen: dict[int, Candidate] = {}
    texts: dict = {}  # price_text by element: on a list page every row climbs to one parent
    for seed in _seeds(layout.elements):
        element = _price_element(seed, texts)
        if element is not seed and _excluded(element, layout):
            element = seed  # the climb reached a box that also holds the struck price
        if id(element) in seen or _excluded(element, layout):
            continue
        candidate = _read(element, seed, texts)
        if candidate is None and element is not seed and id(seed) not in seen:
            candidate = _read(seed, seed, texts)  # the climb reached a block with several prices
        if candidate is not None and not _not_current_by_context(candidate):
            _score(candidate, layout)
            seen[id(candidate.element)] = candidate
            if len(seen) >= MAX_CANDIDATES:
                break
    _drop_outer_duplicates(seen)
    return sorted(seen.values(), key=lambda c: -c.score)


def cached_candidates(layout: Layout) -> list[Candidate]:
    """`price_candidates`, computed once per layout (the text layer and the struck-price check
    both read them)."""
    if "candidates" not in layout.memo:
        layout.memo["candidates"] = price_candidates(layout)
    return layout.memo["candidates"]


def read_candidate(element: lxml.html.HtmlElement) -> Candidate | None:
    """The one amount an element prints (unscored), or None."""
    return _read(element, element)


def best_price(candidates: list[Candidate]) -> Candidate | None:
    return candidates[0] if candidates and candidates[0].score >= MIN_SCORE else None


def _seeds(elements: list) -> list[lxml.html.HtmlElement]:
    seeds = []
    for element in elements:
        attrs = " ".join(element.attrib.values()).lower() + " ".join(element.attrib).lower()
        if any(word in attrs for word in ("price", "amount", "preis", "prix", "precio")):
            if hint_tokens(element) & PRICE_TOKENS or element.get("data-price-amount"):
                seeds.append(element)
                continue
        own = (element.text or "") + " ".join(child.tail or "" for child in element)
        if own and MONEY.search(own):
            seeds.append(element)
    return seeds


def _price_element(seed: lxml.html.HtmlElement, texts: dict) -> lxml.html.HtmlElement:
    """Climb from a fragment ('1,299' in a-price-whole) to the element holding the whole
    price, but never into a parent that adds other numbers."""
    element = seed
    if hint_tokens(seed) & SPLIT_PART_TOKENS and seed.getparent() is not None:
        element = seed.getparent()
    for _ in range(3):
        parent = element.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        inner, outer = _known_text(element, texts), _known_text(parent, texts)
        if len(outer) > MAX_PRICE_TEXT or _digits(outer) != _digits(inner):
            break
        if inner and not MONEY_OR_MARKER.search(inner) and MONEY_OR_MARKER.search(outer):
            element = parent
        elif hint_tokens(parent) & PRICE_TOKENS and not hint_tokens(element) & PRICE_TOKENS:
            element = parent
        else:
            break
    return element


def _known_text(element: lxml.html.HtmlElement, texts: dict) -> str:
    if element not in texts:
        texts[element] = price_text(element)
    return texts[element]


def price_text(element: lxml.html.HtmlElement) -> str:
    """Visible text with split prices joined: a-offscreen wins over its aria-hidden twin,
    and a cents part ('<sup>99</sup>', 'a-price-fraction') gets its decimal point."""
    parts: list[str] = []
    skip_hidden = _has_offscreen_twin(element)
    _collect(element, parts, skip_hidden, top=True)
    return join_symbol_decimals(clean_text("".join(parts)))[:200]


def _collect(element, parts: list[str], skip_hidden: bool, top: bool = False) -> None:
    if not isinstance(element.tag, str) or element.tag in SKIP_TAGS:
        return
    if not top and (is_hidden(element) or (skip_hidden and element.get("aria-hidden") == "true")):
        return
    text = element.text or ""
    if not top and _is_fraction(element, text):
        joined = "".join(parts).rstrip()  # only here: joining at every element is quadratic
        if joined[-1:].isdigit():
            whole = re.search(r"[\d.,]+$", joined).group()
            parts.append("," if re.fullmatch(r"\d{1,3}(\.\d{3})+", whole) else ".")
    parts.append(text)
    for child in element:
        _collect(child, parts, skip_hidden)
        parts.append(child.tail or "")


def _is_fraction(element, text: str) -> bool:
    if element.tag != "sup" and not hint_tokens(element) & FRACTION_TOKENS:
        return False  # the cheap test first: most elements are not cents parts
    digits = re.sub(r"\s", "", "".join(element.itertext()))
    return bool(re.fullmatch(r"\d{1,2}", digits))


def _has_offscreen_twin(element) -> bool:
    # Most elements hold no aria-hidden part: a plain walk is far cheaper than an XPath call.
    if not any(node.get("aria-hidden") == "true" for node in element.iterdescendants()):
        return False
    outside = [t for t in element.xpath(".//text()[not(ancestor::*[@aria-hidden='true'])]")]
    return bool(re.search(r"\d", "".join(outside)))


def _read(element, seed, texts: dict | None = None) -> Candidate | None:
    text = _known_text(element, texts) if texts is not None else price_text(element)
    if len(text) > MAX_PRICE_TEXT:
        return None
    money = [m.group() for m in MONEY.finditer(text)]
    if len({_digits(m) for m in money}) > 1:
        return None
    numbers = _NUMBERS.findall(_PERCENT.sub(" ", text))
    source = money[0] if money else (numbers[0] if len(numbers) == 1 else "")
    amount = parse_amount(source) if source else None
    for node in (element, seed):
        attribute = node.get("data-price-amount") or node.get("data-price")
        if amount is None and attribute:
            amount = parse_amount(attribute)
        if amount is None and node.get("itemprop") == "price":
            amount = parse_amount(node.get("content"))
    if amount is None:
        return None
    return Candidate(element=element, text=text, amount=amount)


def _excluded(element, layout: Layout) -> bool:
    chain = [element, *list(element.iterancestors())[:6]]
    if any(node.tag in STRUCK_TAGS for node in chain):
        return True
    if any("line-through" in (node.get("style") or "") for node in chain[:3]):
        return True
    near = set().union(*(hint_tokens(node) for node in chain[:3]))
    if near & STRUCK_TOKENS or next(element.iterdescendants(*STRUCK_TAGS), None) is not None:
        return True
    return layout.in_blocked(element)


def _not_current_by_context(candidate: Candidate) -> bool:
    """'Was $1,099', 'de R$ 1.599', '$37/mo', '$4.99 shipping', 'Save $100', '$2.10 / 100 g'.
    The words may sit inside the candidate's own text or in its parent's."""
    text = candidate.text
    money = MONEY.search(text) or _NUMBERS.search(text)
    lead, trail = (text[: money.start()], text[money.end() :]) if money else ("", "")
    before, after = lead, trail
    node = candidate.element
    for _ in range(3):
        parent = node.getparent()
        if parent is None:
            break
        context = visible_text(parent, 300)
        at = context.find(text)
        if at < 0:
            break  # beyond the window (a list's later row): every larger block puts it later
        if len(context) > len(text):
            before = context[:at][-40:] + lead
            after = trail + context[at + len(text) :][:40]
            break
        node = parent
    candidate.before = before
    return bool(NOT_CURRENT_BEFORE.search(before) or NOT_CURRENT_AFTER.search(after))


def _score(candidate: Candidate, layout: Layout) -> None:
    element = candidate.element
    own = hint_tokens(element).union(*(hint_tokens(d) for d in element.iterdescendants()))
    above = set().union(*(hint_tokens(a) for a in list(element.iterancestors())[:3]))
    weights = (
        (3.0, bool(own & PRICE_TOKENS), "price class"),
        (1.0, bool(above & PRICE_TOKENS) and not own & PRICE_TOKENS, "inside a price block"),
        (1.0, bool((own | above) & CURRENT_TOKENS), "current-price class"),
        (2.0, bool(MONEY_OR_MARKER.search(candidate.text)), "printed currency"),
        (1.0, element.get("itemprop") == "price", "itemprop=price"),
        (1.5, bool(CURRENT_LABEL.search(candidate.before)), "current-price label"),
        (-2.0, _regular(candidate, own), "regular-price label"),
    )
    for weight, applies, reason in weights:
        if applies:
            candidate.score += weight
            candidate.reasons.append(reason)
    distance = layout.distance(element)
    if distance is not None:
        candidate.score += 4.0 / (1 + distance / 3)
        candidate.reasons.append(f"{distance} steps from title/buy button")


def _regular(candidate: Candidate, own: set[str]) -> bool:
    """'Regular price £180' beside a sale price: shown, but not what the buyer pays. Only a
    penalty, since a page without a sale labels its one price the same way."""
    return bool(hint_tokens(candidate.element) & REGULAR_TOKENS) or bool(
        REGULAR_LABEL.search(candidate.before)
    )


def _drop_outer_duplicates(seen: dict[int, Candidate]) -> None:
    """Drop an outer element when a better-scored inner one holds the same price."""
    for candidate in list(seen.values()):
        for ancestor in list(candidate.element.iterancestors())[:6]:
            outer = seen.get(id(ancestor))
            if outer and outer.amount == candidate.amount and outer.score <= candidate.score:
                del seen[id(ancestor)]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", _PERCENT.sub("", text))
