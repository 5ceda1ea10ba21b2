"""A storefront rendered by its script (fixtures/sites/jsshop/): the product page is served
without its price, which its script fetches from an offer API after load. It also asks for a
path robots.txt forbids, an image and a pixel on another host, which a rendering crawl must
not fetch. For `render = true`."""

from __future__ import annotations

import re

from grayhound.demo.render import FIXTURES_DIR, NOT_FOUND, Request, Response
from grayhound.demo.sites import Router

SITE = FIXTURES_DIR / "jsshop"
PRODUCT_PATH = "/p/redmi-note-13-pro-256gb"
OFFER_PATH = "/api/offers/rn13p-256.json"
FILES = {
    "/robots.txt": ("robots.txt", "text/plain; charset=utf-8"),
    "/static/app.js": ("app.js", "application/javascript; charset=utf-8"),
    "/static/shop.css": ("shop.css", "text/css; charset=utf-8"),
    OFFER_PATH: ("offer.json", "application/json"),
}


def jsshop_router(tracker: str) -> Router:
    """The shop; `tracker` is the base URL of the other host its script sends a pixel to."""
    router = Router()
    page = (SITE / "product.html").read_text(encoding="utf-8").replace("{tracker}", tracker)
    router.add(re.escape(PRODUCT_PATH), lambda req, m: Response(200, page.encode()))
    for path, (name, content_type) in FILES.items():
        router.add(re.escape(path), _file(name, content_type))
    router.add(r".*", lambda req, m: NOT_FOUND)
    return router


def _file(name: str, content_type: str):
    body = (SITE / name).read_bytes()

    def handler(req: Request, match: re.Match) -> Response:
        return Response(200, body, content_type)

    return handler
