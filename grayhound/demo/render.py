"""Render the bundled fixture sites (fixtures/sites/) into HTTP responses.

Content lives in data files (`<site>/site.json`) and jinja2 templates (`templates/<site>/`);
this module holds what every site's handlers share (requests, responses, templates, money);
the handlers are in `demo_bazaar` and `demo_storefronts`, and `demo_routes.ROUTES` maps each
site to its (path pattern, handler) table, which `grayhound.demo.sites` serves."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

import grayhound

FIXTURES_DIR = Path(grayhound.__file__).parent.parent / "fixtures" / "sites"
SCHEMA_CONDITION = {
    "new": "https://schema.org/NewCondition",
    "used": "https://schema.org/UsedCondition",
    "refurbished": "https://schema.org/RefurbishedCondition",
}


@dataclass(frozen=True)
class Request:
    site: str
    method: str
    path: str
    query: dict[str, list[str]]
    base_url: str  # e.g. "http://127.0.0.1:8301", for absolute links (sitemaps, canonicals)
    price_set: int = 0

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request, re.Match], Response]
NOT_FOUND = Response(404, b"<!doctype html><title>Not found</title><h1>404 Not found</h1>")


@cache
def load_site(site: str) -> dict:
    return json.loads((FIXTURES_DIR / site / "site.json").read_text(encoding="utf-8"))


@cache
def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(FIXTURES_DIR / "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_money
    return env


def format_money(amount: str | None, style: str) -> str:
    """A decimal string as a local price label: "US $1,299.00", "1.299,00 €", "£749", "¥2,999"."""
    if amount is None:
        return "Price on request"
    value = Decimal(amount)
    grouped = f"{value:,.2f}"
    whole = value == value.to_integral_value()
    labels = {
        "us": f"US ${grouped}",
        "dollar": f"${grouped}",
        "shopify": f"${grouped} USD",
        "gbp": f"£{grouped}",
        "gbp_short": f"£{value:,.0f}" if whole else f"£{grouped}",
        "yen": f"¥{value:,.0f}",
        "eur": grouped.replace(",", " ").replace(".", ",").replace(" ", ".") + " €",
    }
    return labels[style]


def present(entry: dict, price_set: int) -> bool:
    return price_set in entry.get("sets", (0, 1, 2))


def price_at(entry: dict, price_set: int) -> str | None:
    """The entry's price in a price set: the latest `price_by_set` change at or before it."""
    price = entry["price"]
    for set_number in range(1, price_set + 1):
        price = entry.get("price_by_set", {}).get(str(set_number), price)
    return price


def live(entries: list[dict], price_set: int) -> list[dict]:
    """Entries present in the price set, each with its price for that set."""
    return [dict(e, price=price_at(e, price_set)) for e in entries if present(e, price_set)]


def render(template: str, content_type: str = "text/html; charset=utf-8", **context) -> Response:
    body = _templates().get_template(template).render(**context)
    return Response(200, body.encode("utf-8"), content_type)


def text(body: str, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(200, body.encode("utf-8"), content_type)


def as_json(data: object) -> Response:
    return Response(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json")


def jsonld(data: dict, *, trailing_comma: bool = False) -> Markup:
    """A JSON-LD block body; `trailing_comma` breaks it the way hand-edited templates do."""
    body = json.dumps(data, indent=2, ensure_ascii=False).replace("</", "<\\/")
    if trailing_comma:
        cut = body.rfind("\n}")
        body = body[:cut] + ",\n}"
    return Markup(body)


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def int_arg(req: Request, name: str, default: int) -> int:
    value = req.arg(name)
    return int(value) if value.isdigit() and int(value) > 0 else default
