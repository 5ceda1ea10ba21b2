"""Render the bundled fixture sites (fixtures/sites/) into HTTP responses.

Content lives in data files (`<site>/site.json`) and jinja2 templates (`templates/<site>/`);
this module only turns a (site, path, price set) into a Response. `ROUTES` maps each site to
its (path pattern, handler) table, which `grayhound.demo_sites` serves."""

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
SHOPIFY_DEFAULT_LIMIT = 30  # what Shopify's /products.json returns without ?limit=
SHOPIFY_MAX_LIMIT = 250  # Shopify caps ?limit= at 250


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


# ---------------------------------------------------------------- bazaar (marketplace)


def _bazaar_results(req: Request) -> list[dict]:
    site = load_site("bazaar")
    items = {i["id"]: i for i in live(site["items"], req.price_set)}
    results = []
    for result in site["search_results"]:
        if result.get("trap"):
            results.append({"trap": True, "item": site["trap"]})
        elif result["id"] in items:
            results.append({**result, "item": items[result["id"]]})
    return results


def bazaar_search(req: Request, match: re.Match) -> Response:
    site = load_site("bazaar")
    results = _bazaar_results(req)
    pages = page_count(len(results), site["per_page"])
    page = int(match.group(1))
    if not 1 <= page <= pages:
        return NOT_FOUND
    start = (page - 1) * site["per_page"]
    sellers = {s["slug"]: s for s in site["sellers"]}
    return render(
        "bazaar/search.html",
        site=site,
        base=req.base_url,
        page=page,
        pages=pages,
        results=results[start : start + site["per_page"]],
        sellers=sellers,
    )


def _bazaar_product_ld(item: dict, seller: dict, canonical: str) -> dict:
    offer = {
        "@type": "Offer",
        "url": canonical,
        "priceCurrency": item["currency"],
        "price": item["price"],
        "availability": "https://schema.org/InStock",
        "seller": {"@type": "Organization", "name": seller["name"]},
    }
    if item["condition"] in SCHEMA_CONDITION:
        offer["itemCondition"] = SCHEMA_CONDITION[item["condition"]]
    if item["markup"] == "jsonld_graph":  # graph pages publish numbers, not strings
        offer["price"] = float(item["price"])
    return {
        "@type": "Product",
        "name": item["title"],
        "sku": item["id"],
        "brand": {"@type": "Brand", "name": item["brand"]},
        "description": item["description"],
        "offers": offer,
    }


def _bazaar_jsonld(item: dict, seller: dict, canonical: str) -> Markup | None:
    if not item["markup"].startswith("jsonld"):
        return None
    product = _bazaar_product_ld(item, seller, canonical)
    if item["markup"] == "jsonld_graph":
        crumbs = [("Home", "/"), ("Phones", "/search/phones/page-1.html")]
        graph = [
            {"@type": "WebPage", "@id": canonical, "name": item["title"]},
            {
                "@type": "BreadcrumbList",
                "itemListElement": [
                    {"@type": "ListItem", "position": n, "name": name, "item": url}
                    for n, (name, url) in enumerate(crumbs, 1)
                ],
            },
            product,
        ]
        return jsonld({"@context": "https://schema.org", "@graph": graph})
    data = {"@context": "https://schema.org", **product}
    return jsonld(data, trailing_comma=item["markup"] == "jsonld_malformed")


def bazaar_item(req: Request, match: re.Match) -> Response:
    site = load_site("bazaar")
    items = {i["id"]: i for i in live(site["items"], req.price_set)}
    item = items.get(match.group(1))
    if item is None:
        return NOT_FOUND
    seller = next(s for s in site["sellers"] if s["slug"] == item["seller"])
    canonical = f"{req.base_url}/item/{item['id']}.html"
    similar = [items[i] for i in item["similar"] if i in items]
    return render(
        "bazaar/item.html",
        site=site,
        base=req.base_url,
        item=item,
        seller=seller,
        canonical=canonical,
        ld=_bazaar_jsonld(item, seller, canonical),
        similar=similar,
    )


def bazaar_trap(req: Request, match: re.Match) -> Response:
    site = load_site("bazaar")
    trap = site["trap"]
    if match.group(1) != trap["id"]:
        return NOT_FOUND
    seller = next(s for s in site["sellers"] if s["slug"] == trap["seller"])
    return render("bazaar/trap.html", site=site, base=req.base_url, item=trap, seller=seller)


def bazaar_seller(req: Request, match: re.Match) -> Response:
    site = load_site("bazaar")
    seller = next((s for s in site["sellers"] if s["slug"] == match.group(1)), None)
    if seller is None:
        return NOT_FOUND
    items = [i for i in live(site["items"], req.price_set) if i["seller"] == seller["slug"]]
    return render("bazaar/seller.html", site=site, base=req.base_url, seller=seller, items=items)


def bazaar_home(req: Request, match: re.Match) -> Response:
    return render("bazaar/home.html", site=load_site("bazaar"), base=req.base_url)


def bazaar_sitemap(req: Request, match: re.Match) -> Response:
    site = load_site("bazaar")
    pages = page_count(len(_bazaar_results(req)), site["per_page"])
    paths = [f"/search/phones/page-{n}.html" for n in range(1, pages + 1)]
    paths += [f"/item/{i['id']}.html" for i in live(site["items"], req.price_set)]
    paths += [f"/seller/{s['slug']}.html" for s in site["sellers"]]
    return render("sitemap.xml", "application/xml", base=req.base_url, paths=paths)


# ---------------------------------------------------------------- mi-official-store (Shopify)


def _shopify_products(price_set: int) -> list[dict]:
    """The store's products in a price set, exactly in Shopify's /products.json shape."""
    products = []
    for product in load_site("mi-official-store")["products"]:
        if present(product, price_set):
            price = price_at({**product, "price": product["variants"][0]["price"]}, price_set)
            variants = [dict(variant, price=price) for variant in product["variants"]]
            shaped = {key: value for key, value in product.items() if key != "price_by_set"}
            products.append(dict(shaped, variants=variants))
    return products


def _int_arg(req: Request, name: str, default: int) -> int:
    value = req.arg(name)
    return int(value) if value.isdigit() and int(value) > 0 else default


def shopify_products_json(req: Request, match: re.Match) -> Response:
    products = _shopify_products(req.price_set)
    limit = min(_int_arg(req, "limit", SHOPIFY_DEFAULT_LIMIT), SHOPIFY_MAX_LIMIT)
    start = (_int_arg(req, "page", 1) - 1) * limit
    return as_json({"products": products[start : start + limit]})


def shopify_meta(req: Request, match: re.Match) -> Response:
    return as_json(load_site("mi-official-store")["meta"])


def _shopify_product_ld(product: dict, canonical: str) -> Markup:
    available = "http://schema.org/InStock"
    offers = [
        {
            "@type": "Offer",
            "sku": variant["sku"],
            "availability": available if variant["available"] else "http://schema.org/OutOfStock",
            "price": float(variant["price"]),
            "priceCurrency": "USD",
            "url": f"{canonical}?variant={variant['id']}",
        }
        for variant in product["variants"]
    ]
    description = re.sub(r"<[^>]+>", " ", product["body_html"]).split()
    data = {
        "@context": "http://schema.org/",
        "@type": "Product",
        "name": product["title"],
        "url": canonical,
        "sku": product["variants"][0]["sku"],
        "brand": {"@type": "Brand", "name": product["vendor"]},
        "description": " ".join(description),
        "offers": offers,
    }
    return jsonld(data)


def shopify_product(req: Request, match: re.Match) -> Response:
    site = load_site("mi-official-store")
    products = {p["handle"]: p for p in _shopify_products(req.price_set)}
    product = products.get(match.group(1))
    if product is None:
        return NOT_FOUND
    canonical = f"{req.base_url}/products/{product['handle']}"
    ld = _shopify_product_ld(product, canonical)
    return render("shopify/product.html", site=site, product=product, canonical=canonical, ld=ld)


def shopify_collection(req: Request, match: re.Match) -> Response:
    site = load_site("mi-official-store")
    products = _shopify_products(req.price_set)
    per_page = site["collection_page_size"]
    pages = page_count(len(products), per_page)
    page = _int_arg(req, "page", 1)
    if page > pages:
        return NOT_FOUND
    shown = products[(page - 1) * per_page : page * per_page]
    context = {"products": shown, "page": page, "pages": pages, "base": req.base_url}
    return render("shopify/collection.html", site=site, **context)


def shopify_home(req: Request, match: re.Match) -> Response:
    site = load_site("mi-official-store")
    products = {p["handle"]: p for p in _shopify_products(req.price_set)}
    featured = [products[handle] for handle in site["featured"] if handle in products]
    return render("shopify/home.html", site=site, featured=featured)


def shopify_sitemap(req: Request, match: re.Match) -> Response:
    products = _shopify_products(req.price_set)
    if match.group(1):
        paths = ["/", "/collections/all"] + [f"/products/{p['handle']}" for p in products]
        return render("sitemap.xml", "application/xml", base=req.base_url, paths=paths)
    children = ["/sitemap_products_1.xml"]
    return render("sitemap_index.xml", "application/xml", base=req.base_url, paths=children)


# ---------------------------------------------------------------- gadgetcorner (storefront)


def _gadgetcorner_ld(product: dict, site: dict, canonical: str) -> Markup | None:
    if product["markup"] != "jsonld":
        return None
    offer = {
        "@type": "Offer",
        "price": product["price"],
        "priceCurrency": "EUR",
        "itemCondition": SCHEMA_CONDITION[product["condition"]],
        "availability": "https://schema.org/InStock",
        "url": canonical,
        "seller": {"@type": "Organization", "name": site["site_name"]},
    }
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product["title"],
        "brand": {"@type": "Brand", "name": product["brand"]},
        "description": product["description"],
        "offers": offer,
    }
    return jsonld(data)


def gadgetcorner_product(req: Request, match: re.Match) -> Response:
    site = load_site("gadgetcorner")
    products = live(site["products"], req.price_set)
    product = next((p for p in products if p["slug"] == match.group(1)), None)
    if product is None:
        return NOT_FOUND
    canonical = f"{req.base_url}/p/{product['slug']}.html"
    others = [p for p in products if p["category"] == product["category"] and p is not product]
    return render(
        "gadgetcorner/product.html",
        site=site,
        product=product,
        canonical=canonical,
        ld=_gadgetcorner_ld(product, site, canonical),
        also_bought=others[:3],
    )


def gadgetcorner_category(req: Request, match: re.Match) -> Response:
    site = load_site("gadgetcorner")
    category = next((c for c in site["categories"] if c["slug"] == match.group(1)), None)
    if category is None:
        return NOT_FOUND
    products = [
        p for p in live(site["products"], req.price_set) if p["category"] == category["slug"]
    ]
    per_page = site["category_page_size"]
    pages = page_count(len(products), per_page)
    page = _int_arg(req, "seite", 1)
    if page > pages:
        return NOT_FOUND
    shown = products[(page - 1) * per_page : page * per_page]
    context = {"category": category, "products": shown, "page": page, "pages": pages}
    context["base"] = req.base_url
    return render("gadgetcorner/category.html", site=site, **context)


def gadgetcorner_home(req: Request, match: re.Match) -> Response:
    site = load_site("gadgetcorner")
    products = {p["slug"]: p for p in live(site["products"], req.price_set)}
    featured = [products[slug] for slug in site["featured"] if slug in products]
    return render("gadgetcorner/home.html", site=site, featured=featured)


def gadgetcorner_sitemap(req: Request, match: re.Match) -> Response:
    site = load_site("gadgetcorner")
    paths = ["/"] + [f"/kategorie/{c['slug']}.html" for c in site["categories"]]
    paths += [f"/p/{p['slug']}.html" for p in live(site["products"], req.price_set)]
    return render("sitemap.xml", "application/xml", base=req.base_url, paths=paths)


# ---------------------------------------------------------------- routes


def robots(template: str) -> Handler:
    def handler(req: Request, match: re.Match) -> Response:
        return render(template, "text/plain; charset=utf-8", base=req.base_url)

    return handler


ROUTES: dict[str, list[tuple[str, Handler]]] = {
    "bazaar": [
        (r"/", bazaar_home),
        (r"/robots\.txt", robots("bazaar/robots.txt")),
        (r"/sitemap\.xml", bazaar_sitemap),
        (r"/search/phones/page-(\d+)\.html", bazaar_search),
        (r"/item/(\d+)\.html", bazaar_item),
        (r"/seller/([a-z0-9-]+)\.html", bazaar_seller),
        (r"/private/item/(\d+)\.html", bazaar_trap),
    ],
    "mi-official-store": [
        (r"/", shopify_home),
        (r"/robots\.txt", robots("shopify/robots.txt")),
        (r"/sitemap(_products_1)?\.xml", shopify_sitemap),
        (r"/meta\.json", shopify_meta),
        (r"/products\.json", shopify_products_json),
        (r"/collections/all", shopify_collection),
        (r"/(?:collections/all/)?products/([a-z0-9-]+)", shopify_product),
    ],
    "gadgetcorner": [
        (r"/", gadgetcorner_home),
        (r"/robots\.txt", robots("gadgetcorner/robots.txt")),
        (r"/sitemap\.xml", gadgetcorner_sitemap),
        (r"/kategorie/([a-z]+)\.html", gadgetcorner_category),
        (r"/p/([a-z0-9-]+)\.html", gadgetcorner_product),
    ],
}
