"""The bazaar fixture site: a marketplace with search pages, item pages (JSON-LD, microdata or
plain text), seller profiles, a robots-disallowed trap and a sitemap."""

from __future__ import annotations

import re

from markupsafe import Markup

from grayhound.demo.render import (
    NOT_FOUND,
    SCHEMA_CONDITION,
    Request,
    Response,
    jsonld,
    live,
    load_site,
    page_count,
    render,
)


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
