"""`render = true`: pages rendered by headless Chromium through scrapy-playwright, with every
request the browser makes fetched by Scrapy itself.

The page's document, its scripts and every XHR/fetch call are answered through Playwright's
route interception: each becomes an ordinary Scrapy request through the downloader
middlewares (allowed_hosts, robots.txt, the host's download slot with its concurrency, delay
and autothrottle, retries, and the WARC capture), and the browser is fulfilled with the answer
Scrapy got. So robots.txt and politeness hold for every request, nothing leaves the allowed
hosts, and the WARC keeps the ORIGINAL responses (the HTML as served, the JSON the script
fetched), never the re-serialised DOM. Images, fonts and media are not fetched: they change no
text. Extraction then reads the rendered DOM (the response scrapy-playwright builds).

The rendered request itself runs in a download slot of its own ("render:<host>"): it holds a
browser page, not a connection, so it must not take the host's slots its own requests wait for.

Playwright's own browser download is not used: `executable_path` points at the system's
Chromium (Debian's `chromium`)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import scrapy

from grayhound.config import Config, Crawl, Source
from grayhound.errors import ConfigError

logger = logging.getLogger(__name__)

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Resource types that change no text on the page: not fetched at all.
SKIPPED_RESOURCES = frozenset({"image", "media", "font"})
# After the load event, how long a page may keep fetching (its price arrives by XHR) before
# its DOM is read anyway; a page that polls for ever must not hold a browser page for ever.
SETTLE_SECONDS = 10.0
# Response headers that describe the wire, not the body Scrapy hands the browser (already
# de-chunked and decompressed by the downloader middlewares).
WIRE_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection"})
# Request headers the browser sets that Scrapy sets itself (its configured User-Agent).
BROWSER_ONLY_HEADERS = frozenset({"user-agent", "host", "content-length", "connection"})


def chromium_path() -> str | None:
    """Debian's chromium (or another Chromium/Chrome on PATH), or None."""
    for path in CHROMIUM_PATHS:
        if Path(path).is_file():
            return path
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_settings(config: Config | None, source: Source) -> dict:
    """The Scrapy settings of a source with `render = true` (RenderMiddleware itself is in
    every crawl's chain); a one-line ConfigError when Chromium or scrapy-playwright is missing."""
    crawl = config.crawl if config is not None else Crawl()
    where = config.path if config is not None else "config"
    try:
        import scrapy_playwright  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"{where}: source {source.name!r} has render = true, which needs"
            " scrapy-playwright: pip install 'grayhound[render]'"
        ) from None
    executable = chromium_path()
    if executable is None:
        raise ConfigError(
            f"{where}: source {source.name!r} has render = true, which needs Chromium"
            " (apt-get install chromium); none found"
        )
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": executable,
            "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        },
        "PLAYWRIGHT_CONTEXTS": {
            "default": {
                "service_workers": "block",  # their requests would bypass the route
                "user_agent": crawl.user_agent,
                "java_script_enabled": True,
            }
        },
        # A fail-safe: a page whose own route was not installed fetches nothing at all.
        "PLAYWRIGHT_ABORT_REQUEST": "crawler.render.refuse_unrouted",
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": crawl.download_timeout * 1000 * 2,
    }


def refuse_unrouted(request) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: only requests that reach scrapy-playwright's own route get
    here, which never happens while RenderMiddleware's route is installed."""
    logger.warning("browser request %s reached no route: refused", request.url)
    return True


async def settle(page) -> None:
    """Wait until the page stops fetching (its price arrives by XHR), at most SETTLE_SECONDS."""
    try:
        await page.wait_for_load_state("networkidle", timeout=SETTLE_SECONDS * 1000)
    except Exception:  # a page still polling: its DOM is read as it stands
        logger.info("%s still fetching after %gs; read as it stands", page.url, SETTLE_SECONDS)


class RenderMiddleware:
    """Downloader middleware: sends a source's page requests (meta "render") to the browser and
    answers every request the browser makes through Scrapy's own downloader."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        if not request.meta.get("render") or request.meta.get("playwright"):
            return None
        from scrapy_playwright.page import PageMethod

        host = urlsplit(request.url).netloc
        request.meta.update(
            playwright=True,
            playwright_page_init_callback=self.init_page,
            playwright_page_methods=[PageMethod(settle)],
            download_slot=f"render:{host}",
        )
        self.crawler.stats.inc_value("grayhound/render/pages")
        return None

    def process_response(self, request, response):
        request.meta.pop("playwright_page_init_callback", None)  # not picklable: a retry
        return response  # would carry it into the saved frontier

    def process_exception(self, request, exception):
        request.meta.pop("playwright_page_init_callback", None)
        return None

    async def init_page(self, page, request) -> None:
        """scrapy-playwright's page init callback: install the route every request of the page
        takes (registered after scrapy-playwright's own, so it is tried first)."""

        async def route(route, browser_request):
            await self.answer(route, browser_request, request, page)

        await page.route("**/*", route)
        await page.route_web_socket("**/*", _refuse_socket)

    async def answer(self, route, browser_request, outer, page) -> None:
        """Fetch what the browser asked for through Scrapy and hand the browser the answer."""
        stats = self.crawler.stats
        document = (
            browser_request.is_navigation_request() and browser_request.frame == page.main_frame
        )
        if browser_request.resource_type in SKIPPED_RESOURCES:
            stats.inc_value("grayhound/render/skipped_resources")
            await route.abort("blockedbyclient")
            return
        inner = scrapy.Request(
            browser_request.url,
            method=browser_request.method,
            headers={
                k: v
                for k, v in (await browser_request.all_headers()).items()
                if k.lower() not in BROWSER_ONLY_HEADERS and not k.startswith(":")
            },
            body=browser_request.post_data_buffer or b"",
            meta={
                "dont_redirect": True,  # the browser follows redirects itself, each routed
                "handle_httpstatus_all": True,
                "rendered_for": outer.url,
            },
            dont_filter=True,
        )
        try:
            response = await self.crawler.engine.download_async(inner)
        except Exception as exc:  # refused (scope, robots.txt) or failed: the browser is told
            stats.inc_value("grayhound/render/refused")
            logger.info("rendering %s: refused %s: %s", outer.url, browser_request.url, exc)
            if document:
                outer.meta["render_refused"] = _refusal(browser_request.url, exc)
            await _quietly(route.abort("blockedbyclient"))
            return
        if document:  # the page's capture is its original document's
            outer.meta["capture"] = response.meta.get("capture") or inner.meta.get("capture")
        stats.inc_value("grayhound/render/fetched")
        await _quietly(
            route.fulfill(status=response.status, headers=_headers(response), body=response.body)
        )


async def _refuse_socket(websocket) -> None:
    """A WebSocket the page opens is never connected (it would bypass every check)."""
    await _quietly(websocket.close())


async def _quietly(awaitable) -> None:
    """The page may be gone (closed, navigated away) by the time its request is answered."""
    try:
        await awaitable
    except Exception as exc:
        logger.debug("browser route answer dropped: %r", exc)


def _headers(response) -> dict[str, str]:
    return {
        name.decode("latin-1"): b", ".join(values).decode("latin-1")
        for name, values in response.headers.items()
        if name.decode("latin-1").lower() not in WIRE_HEADERS
    }


def _refusal(url: str, exc: Exception) -> str:
    from crawler.spiders.scope import OutsideAllowedHosts

    if isinstance(exc, OutsideAllowedHosts):
        return f"refused: the page went to {url}, outside allowed_hosts"
    if "robots.txt" in str(exc):
        return f"blocked by robots.txt: {url}"
    return f"rendering failed on {url}: {type(exc).__name__}: {exc}"[:500]
