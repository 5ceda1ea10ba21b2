"""The product a storefront ships as state inside its scripts (Next.js __NEXT_DATA__, Nuxt
__NUXT_DATA__, `window.runParams = {...}`, Redux/Apollo state, Shopify's `var meta`): the
price and currency of the object that is this page's product, never a related one's, and the
condition the object holding that price states (an offer's `"condition": "new"`)."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from crawler.pages.condition import condition_from_field
from crawler.pages.document import Page, clean_text
from crawler.pages.money import format_price, normalize_currency, parse_amount
from crawler.pages.script_json import MAX_NODES, state_roots

MAX_LIST_ITEMS = 100  # a page's own product is not deep in a long list
MAX_ANCHORS = 12  # objects named like the page: its product, its variants, a few copies
MAX_SEARCH_DEPTH = 8  # a price sits at most this deep below its product (commercetools: 6)
# A bare integer this large in a currency with cents is as likely minor units (Shopee's
# ×100000, an unnamed cents field) as a price: unclear, so not taken.
BARE_INTEGER_LIMIT = 100_000
# Currencies whose everyday prices are large integers.
LARGE_UNIT_CURRENCIES = frozenset({"JPY", "KRW", "VND", "IDR", "CLP", "COP", "HUF", "ISK"})
# A name in state is the page's when it is at least this share of the page's title.
MIN_NAME_SHARE = 0.8
NAME_KEYS = ("name", "title", "subject", "productName", "productTitle")
NAME_KEYS += ("product_name", "product_title")
URL_KEYS = ("url", "canonicalUrl", "canonical_url", "href", "link", "productUrl")
CURRENCY_KEYS = frozenset({"currency", "currencycode", "currency_code", "pricecurrency"})
AMOUNT_KEYS = frozenset({"amount", "value", "centamount", "cents", "raw", "number"})
PRECISION_KEYS = ("fractionDigits", "precision", "decimalPlaces", "decimals", "exponent")
FORMATTED_KEYS = ("formatedAmount", "formattedAmount", "formatted", "formattedPrice", "text")
# Words of a key (camelCase and snake_case split) that mark someone else's products.
OTHER_PRODUCT_WORDS = frozenset(
    "related recommend recommendation recommendations similar recent recently viewed cart"
    " basket upsell upsells crosssell cross alternative alternatives accessories bundle"
    " wishlist history suggestions suggested bestsellers also more sponsored ads".split()
)
# Words of a price's path that make it not what the buyer pays now.
NOT_PAID_WORDS = frozenset(
    "orig original regular was old before compare strike strikethrough msrp rrp uvp market"
    " max high installment instalment monthly shipping freight delivery fee tax deposit"
    " coupon voucher saving savings save bonus points total subtotal unit per".split()
)
SALE_WORDS = frozenset(
    "sale activity discount discounted special current final offer promo promotion deal now"
    " selling".split()
)
# Words of the key holding an {"amount"|"value": …} object that make it money.
MONEY_WORDS = frozenset({"price", "prices", "amount", "money", "cost"})
VARIANT_WORDS = frozenset("variant variants sku skus option options model models".split())
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_CURRENCY_ASSIGNMENT = re.compile(r"\.currency\s*=\s*['\"]([A-Za-z]{3})['\"]")


def script_state_fields(page: Page, titles: list[str | None]) -> dict:
    """{'price', 'currency', 'currency_hint'} of the page's product in script state (and
    'condition', 'condition_raw' when the object holding the price states one), or {}."""
    roots, texts = state_roots(page)
    if not roots:
        return {}
    walk = _Walk([_key(t) for t in titles if t and _key(t)], page.url)
    for root in roots:
        walk.visit(root)
    found = walk.offer()
    if found is None:
        return {}
    amount, currency, hint, holder = found
    currency = currency or walk.page_currency(texts)
    fields = {"price": format_price(amount), "currency": currency, "currency_hint": hint}
    raw = _stated_condition(holder)
    if raw and condition_from_field(raw):
        fields["condition"], fields["condition_raw"] = condition_from_field(raw), raw
    return fields


def _stated_condition(node: dict) -> str | None:
    """The `condition` / `itemCondition` / `item_condition` string of the object holding
    the price: the condition of that offer, not of another seller's."""
    for key, value in node.items():
        if key.lower().replace("_", "").endswith("condition") and isinstance(value, str):
            return clean_text(value)[:100]
    return None


class _Walk:
    """One pass over every state value: the objects naming this page's product (anchors),
    each one's parent, and every currency code the state names."""

    def __init__(self, titles: list[str], url: str) -> None:
        self.titles, self.url = titles, url.split("?")[0].rstrip("/")
        self.anchors: list[tuple[dict, object]] = []  # (object, the list holding it or None)
        self.parent: dict[int, tuple[object, object]] = {}
        self.currencies: set[str] = set()
        self.seen: set[int] = set()

    def visit(self, root: object) -> None:
        stack = [(root, None)]
        while stack and len(self.seen) < MAX_NODES:
            node, holder = stack.pop()
            if id(node) in self.seen:
                continue  # a value shared or cyclic (Nuxt's payload) is walked once
            self.seen.add(id(node))
            items = node.items() if isinstance(node, dict) else enumerate(node[:MAX_LIST_ITEMS])
            if isinstance(node, dict):
                self._note(node, holder)
            children = []
            for key, value in items:
                if isinstance(value, dict | list) and not _others(key):
                    self.parent[id(value)] = (node, key)
                    children.append((value, node if isinstance(node, list) else None))
            stack.extend(reversed(children))

    def _note(self, node: dict, holder: object) -> None:
        for key in CURRENCY_KEYS & {k.lower() for k in node}:
            code = normalize_currency(next(v for k, v in node.items() if k.lower() == key))
            if code:
                self.currencies.add(code)
        if len(self.anchors) < MAX_ANCHORS and self._names_page(node):
            self.anchors.append((node, holder))

    def _names_page(self, node: dict) -> bool:
        for key in NAME_KEYS:
            name = _key(node.get(key))
            if name and any(_same_product(name, title) for title in self.titles):
                return True
        urls = (node.get(key) for key in URL_KEYS)
        return any(isinstance(u, str) and len(u) > 8 and self.url.endswith(u) for u in urls)

    def offer(self) -> tuple[Decimal, str | None, str | None, dict] | None:
        """The first anchor's price (the first of a variant list); nothing when anchors in
        different places disagree."""
        found, lists = [], set()
        for anchor, holder in self.anchors:
            if holder is not None:
                if id(holder) in lists:
                    continue
                lists.add(id(holder))
            priced = self._price_of(anchor)
            if priced is not None:
                found.append(priced)
        if len({priced[0] for priced in found}) != 1:
            return None
        return found[0]

    def _price_of(self, anchor: dict):
        chain = self._ancestors(anchor)
        best = _best(_candidates(anchor, (), chain, anchor))
        parent = self.parent.get(id(anchor))
        if best is None and parent and isinstance(parent[0], dict):
            siblings = {k: v for k, v in parent[0].items() if k != parent[1]}
            best = _best(_candidates(siblings, (), chain[1:], None))
        if best is None:
            return None
        amount, currency, hint, holder = best
        for node in chain:  # the nearest enclosing object that names a currency
            code = currency or normalize_currency(_currency_of(node))
            if code:
                return amount, code, hint, holder
        return amount, None, hint, holder

    def _ancestors(self, node: object) -> list:
        chain = [node]
        while id(chain[-1]) in self.parent and len(chain) < 64:
            chain.append(self.parent[id(chain[-1])][0])
        return chain

    def page_currency(self, texts: list[str]) -> str | None:
        codes = set(self.currencies)
        for text in texts:
            codes.update(m.group(1).upper() for m in _CURRENCY_ASSIGNMENT.finditer(text))
        return codes.pop() if len(codes) == 1 else None


def _candidates(node: object, path: tuple, chain: list, anchor: dict | None, depth: int = 0):
    """(tier, depth, amount, currency, hint, holder) of each price below `node` (`holder`: the
    object the price is a key of): tier 0 a sale price,
    1 a plain one; prices not paid now (original, shipping, max of a range) are left out."""
    if depth > MAX_SEARCH_DEPTH:
        return
    if isinstance(node, list):
        if node:
            yield from _candidates(node[0], path, chain, anchor, depth + 1)
        return
    if not isinstance(node, dict):
        return
    is_variant = bool(path) and bool(VARIANT_WORDS & _words(path[-1]))
    if node is not anchor and any(_key(node.get(k)) for k in NAME_KEYS) and not is_variant:
        return  # another product (or a seller): its prices are not this page's
    for key, value in node.items():
        words = _words(key)
        if _others(key) or words & NOT_PAID_WORDS or "listprice" in key.lower():
            continue
        tier = 0 if any(SALE_WORDS & _words(p) for p in (*path, key)) else 1
        if isinstance(value, dict | list):
            yield from _candidates(value, (*path, key), chain, anchor, depth + 1)
        elif "price" in words or key.lower() in AMOUNT_KEYS and _in_money(node, path):
            amount = _amount(node, key, value, chain)
            if amount is not None:
                hint = value if isinstance(value, str) else _formatted(node)
                yield tier, depth, amount, normalize_currency(_currency_of(node)), hint, node


def _in_money(node: dict, path: tuple) -> bool:
    """A bare "value" or "amount" is money inside a price object, not in a rating."""
    return bool(path) and bool(_words(path[-1]) & MONEY_WORDS or _currency_of(node))


def _best(candidates) -> tuple | None:
    ranked = sorted(candidates, key=lambda c: (c[0], c[1]))  # stable: document order
    return ranked[0][2:] if ranked else None


def _amount(node: dict, key: str, value: object, chain: list) -> Decimal | None:
    """The amount in major units, or None when its units are unclear."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    raw = parse_amount(value)
    if raw is None:
        return None
    words = _words(key)
    digits = next((node[k] for k in PRECISION_KEYS if isinstance(node.get(k), int)), None)
    if words & {"cent", "cents", "minor"} or (digits is not None and isinstance(value, int)):
        return parse_amount(raw.scaleb(-(digits if digits in range(5) else 2)))
    if isinstance(value, int) and any(_is_shopify_product(n) for n in chain):
        return parse_amount(raw / 100)  # Shopify's product JSON counts in cents
    formatted = parse_amount(_formatted(node))
    if formatted is not None:
        return raw if formatted == raw else formatted if formatted == raw / 100 else None
    currency = normalize_currency(_currency_of(node))
    large = currency in LARGE_UNIT_CURRENCIES
    if isinstance(value, int) and raw >= BARE_INTEGER_LIMIT and not large:
        return None
    return raw


def _is_shopify_product(node: object) -> bool:
    if not isinstance(node, dict):
        return False
    gid = node.get("gid") or node.get("id")
    is_gid = isinstance(gid, str) and gid.startswith("gid://shopify/Product")
    return is_gid or ("handle" in node and "variants" in node)


def _formatted(node: dict) -> str | None:
    return next((node[k] for k in FORMATTED_KEYS if isinstance(node.get(k), str)), None)


def _currency_of(node: object) -> object:
    if not isinstance(node, dict):
        return None
    return next((v for k, v in node.items() if k.lower() in CURRENCY_KEYS), None)


def _others(key: object) -> bool:
    return bool(OTHER_PRODUCT_WORDS & _words(key))


def _words(key: object) -> frozenset[str]:
    return _key_words(key[:100]) if isinstance(key, str) else frozenset()


@lru_cache(maxsize=4096)
def _key_words(key: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(key))


def _same_product(name: str, title: str) -> bool:
    """Equal; or the name is the title with a variant after it ("Title - Black"); or the
    title is the name with few words around it (a <title> with the shop's words)."""
    if name == title:
        return True
    if name.startswith(title) and name[len(title) :].startswith((" - ", " – ", " / ", " (")):
        return True
    return name in title and len(name) >= MIN_NAME_SHARE * len(title)


def _key(value: object) -> str:
    return clean_text(value).casefold() if isinstance(value, str) else ""
