"""Page images of stored captures: a PNG and a PDF of each page as it was captured, rendered by
headless Chromium (driven by Playwright) from the WARC payload served on 127.0.0.1.

Never the live site: the browser loads only the one payload from a loopback server started for
the render; every other request (images, styles, fonts, frames, a meta refresh, a link to the
live page) is refused before it leaves the browser and counted in the banner. The page's own
scripts do not run (they could fetch, redraw or mislead): the picture is the HTML as received,
laid out by a real browser. A banner on top names the URL, capture time, tool version and record
digest; it is added to the page after it loads, as text, never parsed as markup."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from grayhound.errors import GrayhoundError
from reports.evidence import printparts

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
VIEWPORT = {"width": 1280, "height": 900}
LOAD_TIMEOUT_MS = 30_000
MAX_PNG_HEIGHT = 16_000  # a full-page screenshot beyond this is cut (Chromium's own limit ~16k)
SERVER_POLL = 0.05  # seconds: how often the local page server looks for a shutdown
# Served with every capture: a second lock on scripts (the context already disables them). Other
# requests are left to the route handler, which refuses and counts each one.
CSP = "script-src 'none'"
BANNER_SCRIPT = """(fields) => {
  const banner = document.createElement('div');
  banner.setAttribute('style', 'all:initial;display:block;box-sizing:border-box;width:100%;'
    + 'font:13px/1.4 sans-serif;background:#fff3cd;color:#111;border-bottom:3px solid #b58900;'
    + 'padding:8px 12px;margin:0;white-space:normal;overflow-wrap:anywhere;');
  const title = document.createElement('strong');
  title.textContent = fields.shift()[1];
  banner.appendChild(title);
  for (const [label, value] of fields) {
    const line = document.createElement('div');
    const name = document.createElement('b');
    name.textContent = label + ': ';
    line.appendChild(name);
    line.appendChild(document.createTextNode(value));
    banner.appendChild(line);
  }
  const body = document.body || document.documentElement.appendChild(document.createElement('body'));
  body.insertBefore(banner, body.firstChild);
}"""


class Unavailable(GrayhoundError):
    """No Chromium (or no Playwright) on this machine: bundles are made without page images."""


@dataclass
class _Site:
    """The files the loopback server may serve, and every path anyone asked for."""

    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)


def find_chromium() -> str:
    explicit = os.environ.get("GRAYHOUND_CHROMIUM")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise Unavailable(f"GRAYHOUND_CHROMIUM={explicit}: not an executable")
        return explicit
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise Unavailable("Chromium not found (apt-get install chromium, or set GRAYHOUND_CHROMIUM)")


class PageRenderer:
    """One browser for a whole export: `with PageRenderer() as renderer: renderer.capture(...)`."""

    def __init__(self, executable: str | None = None):
        self.executable = executable
        self.blocked = 0  # requests refused across all renders

    def __enter__(self) -> PageRenderer:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise Unavailable("Playwright for Python is not installed") from None
        executable = self.executable or find_chromium()
        self._site = _Site()
        self._server = _serve(self._site)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=executable,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
        except Exception as exc:  # Playwright raises its own Error with the browser's stderr
            self.__exit__(None, None, None)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise Unavailable(f"{executable}: Chromium did not start ({first})") from None
        self.version = self._browser.version
        # one context for the export (a context costs ~0.5 s; a page in it ~0.05 s): scripts
        # off, no service workers, no cookies carried anywhere (every request is refused)
        self._context = self._browser.new_context(
            java_script_enabled=False, viewport=VIEWPORT, service_workers="block"
        )
        self._capture_tab = None  # the tab every capture is laid out in (`capture`)
        return self

    def __exit__(self, *exc) -> None:
        browser = getattr(self, "_browser", None)
        if browser is not None:
            browser.close()
        self._playwright.stop() if getattr(self, "_playwright", None) else None
        self._server.shutdown()
        self._server.server_close()

    def capture(self, body: bytes, content_type: str, banner: list[tuple[str, str]]):
        """(PNG, PDF, requests refused) of one stored payload with the banner on top.

        Every capture is laid out in the same tab (a new tab cost ~0.2 s of a ~0.5 s render,
        issue 19, round 50), emptied first: the page before is gone, with anything it still
        asked for, before the counts start again, and this payload has an address of its own
        that nothing before it could name. A render that fails closes the tab; a kept tab that
        cannot be emptied (it died after the page before) is replaced by a new one."""
        path = f"/capture/{secrets.token_hex(8)}"
        tab, self._capture_tab = self._capture_tab, None  # held again once this one succeeds
        if tab is not None:
            try:
                tab.page.goto("about:blank")  # no request: nothing routed or counted
            except Exception:
                _close(tab)
                tab = None
        if tab is None:  # a new tab is empty
            tab = _Tab(self)
            tab.__enter__()
        try:
            tab.blocked.clear()
            tab.navigations = 0
            self._site.files = {path: (body, content_type or "application/octet-stream")}
            page, blocked = tab.page, tab.blocked
            page.goto(self.origin + path, wait_until="load", timeout=LOAD_TIMEOUT_MS)
            fields = [("", "Evidence image: the page as captured, rendered offline")]
            fields += [*banner, ("Outside requests refused", str(len(blocked)))]
            page.evaluate(BANNER_SCRIPT, [list(f) for f in fields])
            png = page.screenshot(full_page=True, type="png", clip=self._clip(page))
            pdf = page.pdf(print_background=True, format="A4", scale=0.8)
        except BaseException:
            _close(tab)
            raise
        self._capture_tab = tab
        return png, pdf, len(blocked)

    def capture_all(self, jobs: Iterable[tuple], count: int = 0) -> Iterator[tuple]:
        """(tag, what `capture(*args)` gives, or the exception it raised) of each (tag, args)
        of `jobs` in turn; args None is passed through as None. (`count`, how many there are
        at most, is for renderers that picture on several browsers.)"""
        for tag, args in jobs:
            if args is None:
                yield tag, None
                continue
            try:
                yield tag, self.capture(*args)
            except Exception as exc:  # the caller decides (a page that fails to load)
                yield tag, exc

    def document(self, html: bytes, resources: dict[str, tuple[bytes, str]]) -> bytes:
        """A PDF of one of grayhound's own pages (the summary), with the files it shows; a
        long one printed in parts, each in a page of its own (`printparts`: the browser's
        memory stays that of one part)."""
        self._site.files = {"/" + name: data for name, data in resources.items()}
        pdfs = []
        for part in printparts.cut(html.decode("utf-8")):
            self._site.files["/document.html"] = (part.encode("utf-8"), "text/html; charset=utf-8")
            with self._page() as (page, _):
                page.goto(
                    self.origin + "/document.html", wait_until="load", timeout=LOAD_TIMEOUT_MS
                )
                pdfs.append(page.pdf(print_background=True, format="A4"))
        return printparts.join_pdfs(pdfs)

    def _page(self) -> _Tab:
        return _Tab(self)

    @staticmethod
    def _clip(page):
        height = page.evaluate("() => document.documentElement.scrollHeight")
        if isinstance(height, int | float) and height > MAX_PNG_HEIGHT:
            return {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": MAX_PNG_HEIGHT}
        return None


def _close(tab: _Tab) -> None:
    """Close a tab that failed; a browser gone: the error that brought us here is the one."""
    with contextlib.suppress(Exception):
        tab.__exit__(None, None, None)


class _Tab:
    """A page (scripts off) in which every request but ours is refused: new for each of
    grayhound's own documents, kept from one capture to the next (`PageRenderer.capture`)."""

    def __init__(self, renderer: PageRenderer):
        self.renderer = renderer
        self.blocked: list[str] = []
        self.navigations = 0

    def __enter__(self):
        self.page = self.renderer._context.new_page()
        self.page.route("**/*", self._route)
        return self.page, self.blocked

    def __exit__(self, *exc) -> None:
        self.page.close()

    def _route(self, route) -> None:
        request, origin = route.request, self.renderer.origin
        navigation = request.is_navigation_request()
        if navigation:
            self.navigations += 1  # only the first is ours; a meta refresh is the page's own
        path = request.url[len(origin) :].split("?", 1)[0]
        ours = request.url.startswith(origin + "/") and path in self.renderer._site.files
        if ours and not (navigation and self.navigations > 1):
            route.continue_()
            return
        self.blocked.append(request.url)
        self.renderer.blocked += 1
        route.abort("aborted" if navigation else "blockedbyclient")


def _serve(site: _Site) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            site.asked.append(self.path)
            found = site.files.get(self.path.split("?", 1)[0])
            if found is None:
                self.send_error(404)
                return
            body, content_type = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet: the renders are counted, not logged
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for the loop to look again: at the default half second, every export
    # ended with up to 0.5 s of waiting for a server that had nothing left to do
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": SERVER_POLL}, daemon=True
    ).start()
    return server


@contextlib.contextmanager
def page_renderer(wanted: bool = True):
    """(renderer or None, why none): a browser for a bundle's page images, started once; no
    browser here is a note in the bundle, not a failure."""
    if not wanted:
        yield None, "page images skipped (--no-images)"
        return
    try:
        renderer = PageRenderer().__enter__()
    except Unavailable as exc:
        yield None, f"no page images: {exc}"
        return
    try:
        yield renderer, None
    finally:
        renderer.__exit__(None, None, None)
