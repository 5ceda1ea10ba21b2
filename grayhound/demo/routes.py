"""Each fixture site's routes: (path pattern, handler) pairs, tried in order."""

from __future__ import annotations

import re

from grayhound.demo.bazaar import (
    bazaar_home,
    bazaar_item,
    bazaar_search,
    bazaar_seller,
    bazaar_sitemap,
    bazaar_trap,
)
from grayhound.demo.render import Handler, Request, Response, render
from grayhound.demo.storefronts import (
    gadgetcorner_category,
    gadgetcorner_home,
    gadgetcorner_product,
    gadgetcorner_sitemap,
    shopify_collection,
    shopify_home,
    shopify_meta,
    shopify_product,
    shopify_products_json,
    shopify_sitemap,
)


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
