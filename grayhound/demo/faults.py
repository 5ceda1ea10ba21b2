"""Fault injection for the fixture server: a site made of the failures crawlers meet, and a
latency middleware for any site.

`FaultSite().router()` serves an index linking one page per fault:

| path | fault | a good crawler |
|---|---|---|
| /flaky-500.html | 500 on the first request, then the page | retries, stores the listing |
| /busy-503.html | 503 with Retry-After: 1 first, then the page | waits, retries, stores it |
| /hang.html | answers only after `hang_seconds` | times out, records a failure |
| /reset.html | the connection is dropped with a TCP reset | records a failure |
| /huge.html | a body over the crawl's max_download_size | cancels, records a failure |
| /away.html | 302 to `offsite_url` (a host outside allowed_hosts) | refuses, records it |
| /loop-a.html | 302 to /loop-b.html, which redirects back | records a redirect loop |
| /mislabelled.html | declares UTF-8, is Windows-1252 | stores the listing anyway |
| /gzip-cut.html | Content-Encoding: gzip, stream cut short | keeps what decompresses |
| /ok.html | a healthy page | stores the listing |

`delayed(seconds)` is a `Router.wrap` middleware that slows every answer (crash tests need a
crawl slow enough to be killed midway)."""

from __future__ import annotations

import gzip
import re
import threading
import time
from collections import Counter

from grayhound.demo.large import Item, large_router, product_page
from grayhound.demo.render import Handler, Request, Response
from grayhound.demo.sites import DropConnection, Router

FAULT_PATHS = (
    "/flaky-500.html",
    "/busy-503.html",
    "/hang.html",
    "/reset.html",
    "/huge.html",
    "/away.html",
    "/loop-a.html",
    "/mislabelled.html",
    "/gzip-cut.html",
    "/ok.html",
)
# The faults whose page a crawl must end up storing, and those it must record as failed.
RECOVERABLE = (
    "/flaky-500.html",
    "/busy-503.html",
    "/mislabelled.html",
    "/gzip-cut.html",
    "/ok.html",
)
UNRECOVERABLE = ("/hang.html", "/reset.html", "/huge.html", "/away.html", "/loop-a.html")


def _product(req: Request, number: int, name: str) -> bytes:
    item = Item(number, f"Xiaomi 14 Pro {name} edition", "Xiaomi", "799.00", "new", 1, name)
    return product_page(req.base_url, item).replace(
        f"/item/{number}.html".encode(), f"/{name}.html".encode()
    )


class FaultSite:
    """One fault site's state: how often each path was asked for, where `/away` points."""

    def __init__(self, *, hang_seconds: float = 5.0, huge_bytes: int = 512 * 1024):
        self.hang_seconds = hang_seconds
        self.huge_bytes = huge_bytes
        self.offsite_url = "http://127.0.0.1:9"  # set to a served, not-allowed site
        self.hits: Counter[str] = Counter()
        self.times: dict[str, list[float]] = {}  # path -> time.monotonic() of each request
        self._lock = threading.Lock()
        self._released = threading.Event()

    def release(self) -> None:
        """End any hanging answer now (call before stopping the server)."""
        self._released.set()

    def _count(self, path: str) -> int:
        with self._lock:
            self.hits[path] += 1
            self.times.setdefault(path, []).append(time.monotonic())
            return self.hits[path]

    def router(self) -> Router:
        handlers = {
            "flaky-500": self.flaky_500,
            "busy-503": self.busy_503,
            "hang": self.hang,
            "reset": self.reset,
            "huge": self.huge,
            "away": self.away,
            "loop-a": lambda req, m: _redirect("/loop-b.html"),
            "loop-b": lambda req, m: _redirect("/loop-a.html"),
            "mislabelled": self.mislabelled,
            "gzip-cut": self.gzip_cut,
            "ok": lambda req, m: Response(200, _product(req, 10, "ok")),
        }
        router = Router()
        router.add(r"/|/search/page-1\.html", self.index)
        seller_pages = large_router(1)  # the sellers the product pages link to
        router.routes += [r for r in seller_pages.routes if "seller" in r[0].pattern]
        for name, handler in handlers.items():
            router.add(re.escape(f"/{name}.html"), handler)
        return router

    def index(self, req: Request, match: re.Match) -> Response:
        links = "".join(f'<li><a href="{path}">{path}</a></li>' for path in FAULT_PATHS)
        return Response(200, f"<!doctype html><title>faults</title><ul>{links}</ul>".encode())

    def flaky_500(self, req: Request, match: re.Match) -> Response:
        if self._count(req.path) == 1:
            return Response(500, b"<!doctype html><title>oops</title>")
        return Response(200, _product(req, 1, "flaky-500"))

    def busy_503(self, req: Request, match: re.Match) -> Response:
        if self._count(req.path) == 1:
            return Response(503, b"busy", "text/plain", {"Retry-After": "1"})
        return Response(200, _product(req, 2, "busy-503"))

    def hang(self, req: Request, match: re.Match) -> Response:
        self._released.wait(self.hang_seconds)
        raise DropConnection  # the client gave up long ago: writing would only raise

    def reset(self, req: Request, match: re.Match) -> Response:
        raise DropConnection

    def huge(self, req: Request, match: re.Match) -> Response:
        padding = b"<!-- " + b"x" * self.huge_bytes + b" -->"
        return Response(200, _product(req, 5, "huge").replace(b"</body>", padding + b"</body>"))

    def away(self, req: Request, match: re.Match) -> Response:
        return _redirect(self.offsite_url.rstrip("/") + "/stolen.html")

    def mislabelled(self, req: Request, match: re.Match) -> Response:
        page = _product(req, 8, "mislabelled").decode("utf-8").replace("edition", "édition €")
        return Response(200, page.encode("cp1252"), "text/html; charset=utf-8")

    def gzip_cut(self, req: Request, match: re.Match) -> Response:
        packed = gzip.compress(_product(req, 9, "gzip-cut"))
        cut = packed[: len(packed) * 3 // 4]
        return Response(200, cut, headers={"Content-Encoding": "gzip"})


def _redirect(location: str) -> Response:
    return Response(302, b"", headers={"Location": location})


def delayed(seconds: float):
    """A `Router.wrap` middleware: every answer waits `seconds` first."""

    def middleware(handler: Handler) -> Handler:
        def slow(req: Request, match: re.Match) -> Response:
            time.sleep(seconds)
            return handler(req, match)

        return slow

    return middleware


def trap_router() -> Router:
    """A site that must never be asked for anything: every path answers 410."""
    router = Router()
    router.add(r".*", lambda req, m: Response(410, b"this host is not allowed"))
    return router
