"""Hostile fixture sites: pages written to attack the reader, the extractor and the crawler.

`hostile_router()` serves an index linking every page below (all on one host):

| path | what it tries | a good crawler and its reports |
|---|---|---|
| /item/N.html | titles and seller names carrying terminal escape sequences (clear screen, window title, OSC-8 link, 8-bit CSI), a right-to-left override, a zero-width space, CSV formulas after a separator, a 1 MB title | stores the text cut to length; terminals, CSV and the digest show it inert |
| /seller/N.html | a seller profile whose JSON-LD `url` is `JavaScript:alert(1)` | never a link in any output |
| /nested.html | one JSON-LD block nested 10,000 levels deep beside a valid product block | keeps the valid product |
| /stray-byte.html | UTF-8 with one invalid byte | decodes the rest as UTF-8 |
| /utf16-lie.html | `Content-Type: text/html; charset=utf-16` on a UTF-8 body | detects the lie, keeps the listing |
| /long-link.html | a link of 60 "a" and a "!", which `(a+)+$` needs ~2^60 steps to refuse | a linear-time regex engine |

`RetryAfterSite(retry_after).router()` serves a site whose /busy.html answers 503 with
`Retry-After` and whose other pages are healthy (politeness: pause the host, or stop it)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from email.utils import formatdate

from grayhound.demo.render import Request, Response
from grayhound.demo.sites import Router

ESCAPES = {
    "clear": "\x1b[2J\x1b[H",
    "title": "\x1b]0;pwned\x07",
    "link": "\x1b]8;;http://evil.test/\x1b\\Official\x1b]8;;\x1b\\",
    "csi8": "\x9b2J",
}
LONG_TITLE_CHARS = 1_000_000
# (title, seller name): each listing is sold by its own seller, whose page is /seller/N.html
ITEMS = [
    (f"Xiaomi 14 Pro {ESCAPES['clear']}256GB{ESCAPES['title']}", f"Mi{ESCAPES['link']} Shop"),
    (f"Xiaomi 14 Pro 512GB {ESCAPES['csi8']}Black", "Xiaomi \u202eerots laiciffo"),
    ("Xiaomi 14 Pro 12/512GB", "Xiao\u200bmi Official Store"),
    ('Xiaomi 14 Pro;=HYPERLINK("http://evil.test")', "Deals;＝1+1"),
    ("Xiaomi 14 Pro " + "Ultra " * (LONG_TITLE_CHARS // 6), "Long Title Store"),
    # the terminal cuts `review list` at 44 characters: a sequence straddles the cut
    ("Xiaomi 14 Pro limited edition graphite 512G" + ESCAPES["title"] + "B", "Cut Store"),
]
SELLER_URL = "JavaScript:alert(document.cookie)"
STRAY_TITLE = "Xiaomi 14 Pro Größe – Schwarz €"
LONG_LINK = "/" + "a" * 60 + "!"


def product_page(title: str, seller: str, seller_path: str | None, price="499.00") -> str:
    offer = {
        "@type": "Offer",
        "price": price,
        "priceCurrency": "USD",
        "itemCondition": "https://schema.org/NewCondition",
        "seller": {"@type": "Organization", "name": seller},
    }
    if seller_path:
        offer["seller"]["url"] = seller_path
    product = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": title,
        "brand": {"@type": "Brand", "name": "Xiaomi"},
        "offers": offer,
    }
    ld = json.dumps(product, ensure_ascii=False).replace("</", "<\\/")
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>item</title>'
        f'<script type="application/ld+json">{ld}</script></head>'
        "<body><h1>product</h1></body></html>"
    )


def _item(req: Request, match: re.Match) -> Response:
    number = int(match.group(1))
    if number >= len(ITEMS):
        return Response(404, b"no such item")
    title, seller = ITEMS[number]
    return Response(200, product_page(title, seller, f"/seller/{number}.html").encode())


def _seller(req: Request, match: re.Match) -> Response:
    number = int(match.group(1))
    if number >= len(ITEMS):
        return Response(404, b"no such seller")
    node = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": ITEMS[number][1],
        "url": SELLER_URL,
    }
    ld = json.dumps(node, ensure_ascii=False).replace("</", "<\\/")
    body = f'<!doctype html><title>seller</title><script type="application/ld+json">{ld}</script>'
    return Response(200, body.encode())


def _nested(req: Request, match: re.Match) -> Response:
    deep = '{"a":' * 10_000 + "1" + "}" * 10_000
    page = product_page("Xiaomi 14 Pro nested edition", "Nested Store", None)
    bomb = f'<script type="application/ld+json">{deep}</script>'
    return Response(200, page.replace("</head>", bomb + "</head>").encode())


def _stray_byte(req: Request, match: re.Match) -> Response:
    page = product_page(STRAY_TITLE, "Stray Byte Store", None).encode("utf-8")
    return Response(200, page.replace(b"<h1>product</h1>", b"<h1>product \xff</h1>"))


def _utf16_lie(req: Request, match: re.Match) -> Response:
    page = product_page("Xiaomi 14 Pro liar edition", "Liar Store", None).encode("utf-8")
    page = page.replace(b'<meta charset="utf-8">', b"")
    return Response(200, page, "text/html; charset=utf-16")


def _long_link(req: Request, match: re.Match) -> Response:
    return Response(200, f'<!doctype html><title>links</title><a href="{LONG_LINK}">x</a>'.encode())


def hostile_router() -> Router:
    pages = [f"/item/{n}.html" for n in range(len(ITEMS))]
    pages += ["/nested.html", "/stray-byte.html", "/utf16-lie.html", "/long-link.html"]
    index = "".join(f'<a href="{page}">{page}</a> ' for page in pages)
    router = Router()
    router.add(r"/", lambda req, m: Response(200, f"<!doctype html>{index}".encode()))
    router.add(r"/item/(\d+)\.html", _item)
    router.add(r"/seller/(\d+)\.html", _seller)
    router.add(r"/nested\.html", _nested)
    router.add(r"/stray-byte\.html", _stray_byte)
    router.add(r"/utf16-lie\.html", _utf16_lie)
    router.add(r"/long-link\.html", _long_link)
    router.add(re.escape(LONG_LINK), lambda req, m: Response(200, b"<!doctype html>long"))
    return router


class RetryAfterSite:
    """/busy.html answers 503 with `Retry-After: <retry_after>` the first `busy_times` times,
    then a product; /ok-N.html are products. "date:+N" sends an HTTP date N seconds ahead.
    `hits` counts requests per path, `times` keeps when each came (time.monotonic())."""

    def __init__(self, retry_after: str, busy_times: int = 10**9, pages: int = 3):
        self.retry_after = retry_after
        self.busy_times = busy_times
        self.pages = pages
        self.hits: Counter[str] = Counter()
        self.times: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _count(self, path: str) -> int:
        with self._lock:
            self.hits[path] += 1
            self.times.setdefault(path, []).append(time.monotonic())
            return self.hits[path]

    def header(self) -> str:
        if self.retry_after.startswith("date:"):
            return formatdate(time.time() + float(self.retry_after[5:]), usegmt=True)
        return self.retry_after

    def router(self) -> Router:
        links = ["/busy.html"] + [f"/ok-{n}.html" for n in range(self.pages)]
        index = "".join(f'<a href="{link}">{link}</a> ' for link in links)
        router = Router()
        router.add(r"/", lambda req, m: Response(200, f"<!doctype html>{index}".encode()))
        router.add(r"/busy\.html", self.busy)
        router.add(r"/ok-(\d+)\.html", self.ok)
        return router

    def busy(self, req: Request, match: re.Match) -> Response:
        if self._count(req.path) <= self.busy_times:
            return Response(503, b"busy", "text/plain", {"Retry-After": self.header()})
        return Response(200, product_page("Xiaomi 14 Pro busy edition", "Busy", None).encode())

    def ok(self, req: Request, match: re.Match) -> Response:
        self._count(req.path)
        title = f"Xiaomi 14 Pro edition {match.group(1)}"
        return Response(200, product_page(title, "Calm Store", None).encode())
