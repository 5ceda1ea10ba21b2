"""What kind of goods the page files the product under: schema.org `category` and
`additionalType` of its Product, its BreadcrumbList, or a visible breadcrumb trail
("Phones & Accessories > Cases"). Evidence for the detectors' device-or-not judgement; the
crawler only reads it, never judges it."""

from __future__ import annotations

from crawler.pages.document import Page, clean_text, visible_text
from crawler.pages.jsonld import jsonld_nodes
from crawler.pages.schema import types_of

# Longest category text kept: a breadcrumb trail, not a page.
MAX_CATEGORY = 300
# Elements whose class or aria-label says they hold the breadcrumb trail.
BREADCRUMB_MARKS = ("breadcrumb", "crumbs")


def page_category(page: Page) -> str | None:
    """'Handys & Smartphones > Zubehör > Hüllen', or None when the page says nothing."""
    parts = _structured(page) or _visible_trail(page)
    text = " > ".join(dict.fromkeys(p for p in parts if p))
    return text[:MAX_CATEGORY] or None


def _structured(page: Page) -> list[str]:
    if not any("ld+json" in (s.get("type") or "").lower() for s in page.root.iter("script")):
        return []
    parts: list[str] = []
    for node in jsonld_nodes(page):
        kinds = types_of(node)
        if "breadcrumblist" in kinds:
            parts.extend(_crumbs(node.get("itemListElement")))
        elif "product" in kinds:
            for key in ("category", "additionalType"):
                parts.extend(_texts(node.get(key)))
    return parts


def _crumbs(elements: object) -> list[str]:
    items = elements if isinstance(elements, list) else [elements]
    ordered = sorted(
        (i for i in items if isinstance(i, dict)),
        key=lambda i: i.get("position") if isinstance(i.get("position"), int) else 0,
    )
    names = []
    for item in ordered:
        inner = item.get("item")
        name = item.get("name") or (inner.get("name") if isinstance(inner, dict) else None)
        names.extend(_texts(name))
    return names


def _texts(value: object) -> list[str]:
    values = value if isinstance(value, list) else [value]
    out = []
    for item in values:
        if isinstance(item, dict):
            item = item.get("name")
        text = clean_text(item)
        if text:
            out.append(text.rsplit("/", 1)[-1] if text.startswith("http") else text)
    return out


def _visible_trail(page: Page) -> list[str]:
    for element in page.root.iter("nav", "ol", "ul", "div"):
        marks = f"{element.get('class') or ''} {element.get('aria-label') or ''}".lower()
        if any(mark in marks for mark in BREADCRUMB_MARKS):
            links = [clean_text(a.text_content()) for a in element.iter("a")]
            return [t for t in links if t] or [visible_text(element, MAX_CATEGORY)]
    return []
