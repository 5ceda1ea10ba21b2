"""Per-source CSS selectors from the config (`selectors = { price = ".price", ... }`), run with
parsel on the already-parsed tree. `::text` and `::attr(name)` work as in Scrapy; a selector
without them yields the element's visible text."""

from __future__ import annotations

from collections.abc import Mapping

from parsel import Selector

from crawler.pages.condition import condition_from_field
from crawler.pages.document import Page, clean_text, visible_text
from crawler.pages.money import format_price, normalize_currency, parse_amount


def selector_fields(page: Page, selectors: Mapping[str, str] | None) -> dict:
    if not selectors:
        return {}
    document = Selector(root=page.root, type="html")
    values: dict = {}
    for name, css in selectors.items():
        try:
            values[name] = _select(document, css)
        except Exception as exc:  # cssselect raises several types on a bad expression
            page.problems.append(f"selector {name}={css!r} failed: {type(exc).__name__}")
    return _as_fields(page, values)


def _select(document: Selector, css: str) -> str | None:
    matches = document.css(css)
    if not matches:
        return None
    if "::" in css:
        return clean_text(" ".join(m.get() for m in matches if isinstance(m.get(), str))) or None
    return visible_text(matches[0].root) or None


def _as_fields(page: Page, values: dict) -> dict:
    fields = {k: v for k, v in values.items() if k not in ("price", "seller_url", "condition")}
    price_text = values.get("price")
    if price_text:
        fields["price"] = format_price(parse_amount(price_text))
        fields["currency_hint"] = price_text
    if values.get("seller_url"):
        fields["seller_url"] = page.absolute(values["seller_url"])
    if values.get("condition"):
        fields["condition"] = condition_from_field(values["condition"])
        fields["condition_raw"] = values["condition"]
    if fields.get("currency"):
        fields["currency"] = normalize_currency(fields["currency"])
    return fields
