"""The storefront fixture sites: mi-official-store (Shopify: /products.json, /meta.json,
product pages) and gadgetcorner (a German shop with microdata and OpenGraph)."""

from __future__ import annotations

import re

from markupsafe import Markup

from grayhound.demo.render import (
    NOT_FOUND,
    SCHEMA_CONDITION,
    Request,
    Response,
    as_json,
    int_arg,
    jsonld,
    live,
    load_site,
    page_count,
    present,
    price_at,
    render,
)

SHOPIFY_DEFAULT_LIMIT = 30  # what Shopify's /products.json returns without ?limit=
SHOPIFY_MAX_LIMIT = 250  # Shopify caps ?limit= at 250


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


def shopify_products_json(req: Request, match: re.Match) -> Response:
    products = _shopify_products(req.price_set)
    limit = min(int_arg(req, "limit", SHOPIFY_DEFAULT_LIMIT), SHOPIFY_MAX_LIMIT)
    start = (int_arg(req, "page", 1) - 1) * limit
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
    page = int_arg(req, "page", 1)
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
    page = int_arg(req, "seite", 1)
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
