"""Product titles without the site's name: "Xiaomi 14 Pro | Gadget Hub" → "Xiaomi 14 Pro",
"Amazon.com: Xiaomi 14 Pro : Electronics" → "Xiaomi 14 Pro"."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import lxml.html

from crawler.pages._data import BLOCK_TAGS, BLOCK_TOKENS, LAYOUT_TOKENS
from crawler.pages.document import Page, clean_text, hint_tokens
from crawler.pages.money import CURRENCY, NUMBER

# Separators shops put between a product name and their own name, strongest first.
SEPARATORS = (" | ", " || ", " :: ", " – ", " — ", " - ", " : ", ": ")
# A trailing segment this short after " | " is a site name even when we cannot match it.
MAX_SITE_WORDS = 4
# On a page without <h1>, an element names the product when its own text is at least this
# share of the <title> or og:title (decorations left out): a search page's query echo or a
# card's name is a smaller part of its <title>.
MIN_TITLE_SHARE = 0.6
MIN_TITLE_CHARS = 6
# The visible title (the h1) names the product when the og:title is it with more words around
# ("Jual <h1> - Black - Jakarta - Shop", "<h1> by Mercari") and it is at least this share of
# it; a shorter h1 ("Galaxy S24" in "Samsung Galaxy S24 256GB Black") is a part of the name.
MIN_SHOWN_SHARE = 0.4
# Bracketed shop slogans around a title: "【楽天市場】", "【行情 报价 价格 评测】".
_DECORATION = re.compile(r"【[^】]*】")
# A price leading a title as its own segment, maybe with its discount: "23.99€ 50% OFF|Name",
# "US $12.34 | Name". The price is the page's; the segment is not part of the product's name.
_PRICE_PREFIX = re.compile(
    rf"^\s*(?P<price>(?:{CURRENCY})\.?\s*(?:{NUMBER})|(?:{NUMBER})\s*(?:{CURRENCY}))"
    r"(?:\s*-?\d{1,3}\s*[%％]\s*(?:off|rabatt|de réduction|de descuento|di sconto)?)?"
    r"\s*(?:[|｜]|\s[-–—:]\s)\s*",
    re.I,
)
# A price segment is read in a title's first characters only ("US $1,299.99 15% OFF | ").
MAX_PRICE_PREFIX = 60
# Recommendation and listing blocks: their product names are other products'.
_OTHER_PRODUCTS = BLOCK_TOKENS - LAYOUT_TOKENS


def page_title(page: Page, site_name: str | None) -> str | None:
    element = page.root.find(".//title")
    if element is None:
        return None
    return strip_site_name(clean_text(element.text_content()), site_name, page.url, guess=True)


def strip_site_name(
    title: str | None, site_name: str | None, url: str, *, guess: bool = False
) -> str | None:
    """Drop leading or trailing segments that name the site (its og:site_name or its host);
    with `guess`, also a short last segment after " | " (a <title>'s usual site suffix)."""
    if not title:
        return None
    prefix = _price_prefix(title)
    title = title[prefix.end() :] if prefix else title
    names = _site_names(site_name, url)
    for separator in SEPARATORS:
        parts = [p.strip() for p in title.split(separator)]
        if len(parts) < 2:
            continue
        kept = [p for p in parts if not _is_site(p, names)]
        if (
            guess
            and separator == " | "
            and len(kept) == len(parts)
            and len(parts[-1].split()) <= MAX_SITE_WORDS
        ):
            kept = parts[:-1]
        if kept and len(kept) < len(parts):
            return separator.join(kept).strip() or title
    return title


def wraps(outer: str, inner: str) -> bool:
    """Whether `outer` holds `inner` with other words around it, at word boundaries."""
    outer_key, inner_key = outer.lower(), inner.lower()
    if len(inner_key) < MIN_SHOWN_SHARE * len(outer_key) or inner_key == outer_key:
        return False
    at = outer_key.find(inner_key)
    end = at + len(inner_key)
    return (
        at >= 0 and not outer_key[at - 1 : at].isalnum() and not outer_key[end : end + 1].isalnum()
    )


def title_price(page: Page) -> str | None:
    """The price a page's og:title or <title> leads with ("23.99€ 50% OFF|Name"), as printed."""
    element = page.root.find(".//title")
    titles = (page.meta().get("og:title"), element.text_content() if element is not None else None)
    for title in titles:
        prefix = _price_prefix(clean_text(title))
        if prefix:
            return prefix.group("price")
    return None


def _price_prefix(title: str) -> re.Match | None:
    """The price segment a title starts with, if a name follows it."""
    match = _PRICE_PREFIX.match(title[:MAX_PRICE_PREFIX])
    return match if match and title[match.end() :].strip() else None


def _site_names(site_name: str | None, url: str) -> set[str]:
    names = {_key(site_name)} if site_name else set()
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    if host:
        names.add(_key(host))
        names.add(_key(host.split(".")[0]))
    return {n for n in names if n}


def _is_site(part: str, names: set[str]) -> bool:
    key = _key(part)
    return bool(key) and any(key == n or (len(n) > 3 and key.startswith(n)) for n in names)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def element_named_by_title(
    page: Page, texts: list[tuple[lxml.html.HtmlElement, list[str]]], elements: list
) -> lxml.html.HtmlElement | None:
    """For a page without <h1>: the element whose own text is most of what the <title> or
    og:title says (JD's div.sku-name, Rakuten's item name), unless it is one of several alike
    (a card of a list), the site's own name, or in site chrome or another product's block."""
    references = _title_references(page)
    if not references:
        return None
    found = []
    for element, chunks in texts:
        text = _bare(" ".join(chunks))
        if len(text) < MIN_TITLE_CHARS:
            continue
        share = max((len(text) / len(ref) for ref in references if text in ref), default=0.0)
        if share >= MIN_TITLE_SHARE:
            found.append((len(text), element, text))
    names = _site_names(clean_text(page.meta().get("og:site_name")) or None, page.url)
    for _, element, text in sorted(found, key=lambda f: -f[0]):
        if not _is_site(text, names) and _stands_alone(element, elements):
            return element
    return None


def _title_references(page: Page) -> list[str]:
    element = page.root.find(".//title")
    title = clean_text(element.text_content()) if element is not None else ""
    og_title = clean_text(page.meta().get("og:title"))
    stripped = strip_site_name(title, None, page.url, guess=True) if title else ""
    return [ref for ref in {_bare(title), _bare(stripped or ""), _bare(og_title)} if ref]


def _bare(text: str) -> str:
    if "【" in text:
        text = clean_text(_DECORATION.sub(" ", text))
    return text.lower()


def _stands_alone(element: lxml.html.HtmlElement, elements: list) -> bool:
    chain = [element, *element.iterancestors()]
    if any(node.tag in BLOCK_TAGS or hint_tokens(node) & _OTHER_PRODUCTS for node in chain):
        return False
    shape = _shape(element)
    return sum(1 for other in elements if other.tag == element.tag and _shape(other) == shape) == 1


def _shape(element: lxml.html.HtmlElement) -> tuple:
    parent = element.getparent()
    parent_shape = (parent.tag, parent.get("class")) if parent is not None else None
    return element.tag, element.get("class"), parent_shape
