"""Serve the bundled fixture sites on loopback for `grayhound demo` and the tests.

Each site gets its own stdlib ThreadingHTTPServer on 127.0.0.1 in a daemon thread. A site is a
`Router`: an ordered table of (path pattern, handler) built from `demo_routes.ROUTES`; content
lives in fixtures/sites/. To add a site (say a large generated one) register another Router in
`SITES`; to inject faults wrap handlers with `Router.wrap`.

    with serve_sites() as sites:
        sites.urls["bazaar"]          # "http://127.0.0.1:8301"
        sites.price_set = 1           # later crawls see the next prices
        sites.requests                # [(site, method, path_with_query), ...] served so far
"""

from __future__ import annotations

import logging
import re
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from grayhound.demo.render import NOT_FOUND, Handler, Request, Response
from grayhound.demo.routes import ROUTES

log = logging.getLogger(__name__)
HOST = "127.0.0.1"  # loopback only: fixture sites must never be reachable from the network
DEFAULT_PORTS = {"bazaar": 8301, "mi-official-store": 8302, "gadgetcorner": 8303}
PRICE_SETS = (0, 1, 2)


class DropConnection(Exception):  # noqa: N818 (an instruction, not an error)
    """Raised by a handler (fault injection) to drop the connection with a TCP reset."""


@dataclass
class Router:
    """(path pattern, handler) pairs tried in order; a pattern must match the whole path."""

    routes: list[tuple[re.Pattern, Handler]] = field(default_factory=list)

    @classmethod
    def from_table(cls, table: list[tuple[str, Handler]]) -> Router:
        return cls([(re.compile(pattern), handler) for pattern, handler in table])

    def add(self, pattern: str, handler: Handler) -> None:
        self.routes.append((re.compile(pattern), handler))

    def wrap(self, middleware: Callable[[Handler], Handler]) -> Router:
        """A router whose every handler goes through `middleware` (faults, delays...)."""
        return Router([(pattern, middleware(handler)) for pattern, handler in self.routes])

    def resolve(self, request: Request) -> Response:
        for pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if match:
                return handler(request, match)
        return NOT_FOUND


SITES: dict[str, Router] = {name: Router.from_table(table) for name, table in ROUTES.items()}


class SiteServers:
    """What `serve_sites` yields: the sites' base URLs, the live price set, the request log."""

    def __init__(self, price_set: int = 0) -> None:
        self.urls: dict[str, str] = {}
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str, str]] = []
        self._price_set = 0
        self.price_set = price_set

    @property
    def price_set(self) -> int:
        return self._price_set

    @price_set.setter
    def price_set(self, value: int) -> None:
        if value not in PRICE_SETS:
            raise ValueError(f"price_set must be one of {PRICE_SETS}, got {value!r}")
        self._price_set = value

    @property
    def requests(self) -> list[tuple[str, str, str]]:
        """A snapshot of (site, method, path_with_query) for every request served, in order."""
        with self._lock:
            return list(self._requests)

    def record(self, site: str, method: str, target: str) -> None:
        with self._lock:
            self._requests.append((site, method, target))

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()


def _handler_class(site: str, router: Router, state: SiteServers) -> type:
    class FixtureSiteHandler(BaseHTTPRequestHandler):
        server_version = "grayhound-fixtures/1"
        timeout = 10  # HTTP/1.0, one request per connection: nothing lingers after shutdown

        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            self._serve(send_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(send_body=False)

        def _serve(self, send_body: bool) -> None:
            state.record(site, self.command, self.path)
            parts = urlsplit(self.path)
            request = Request(
                site=site,
                method=self.command,
                path=parts.path or "/",
                query=parse_qs(parts.query),
                base_url=state.urls[site],
                price_set=state.price_set,
            )
            try:
                response = router.resolve(request)
            except DropConnection:  # SO_LINGER 0: closing now sends RST instead of FIN
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.connection.close()
                self.close_connection = True
                return
            except Exception:  # a broken fixture is a bug: say so loudly, answer 500
                log.exception("fixture site %s failed on %s", site, self.path)
                response = Response(500, b"internal error", "text/plain; charset=utf-8")
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: tests and the demo read `requests` instead of stderr

    return FixtureSiteHandler


def _bind(handler: type, port: int, fall_back: bool) -> ThreadingHTTPServer:
    try:
        return ThreadingHTTPServer((HOST, port), handler)
    except OSError:
        if not fall_back or port == 0:
            raise
        return ThreadingHTTPServer((HOST, 0), handler)


@contextmanager
def _running(server: ThreadingHTTPServer, name: str) -> Iterator[None]:
    # a short poll: shutdown() waits for the loop to look again (the default half second, per
    # site, was most of the time a demo or a test spent stopping its sites)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"fixture-{name}",
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_sites(
    ports: Mapping[str, int] | None = None,
    *,
    price_set: int = 0,
    sites: Mapping[str, Router] | None = None,
) -> Iterator[SiteServers]:
    """Serve the fixture sites on 127.0.0.1 until the block ends.

    A site missing from `ports` (all of them when ports=None) tries its default port
    (8301-8303) and takes a free port if that one is busy; a port given in `ports` is used as
    given (0 = any free port; a busy one raises OSError).
    `sites` replaces the served routers (default: all of `SITES`)."""
    routers = dict(sites if sites is not None else SITES)
    explicit = dict(ports or {})
    unknown = set(explicit) - set(routers)
    if unknown:
        raise ValueError(f"unknown fixture site(s): {', '.join(sorted(unknown))}")
    state = SiteServers(price_set)
    with ExitStack() as stack:
        for name, router in routers.items():
            port = explicit.get(name, DEFAULT_PORTS.get(name, 0))
            handler = _handler_class(name, router, state)
            server = _bind(handler, port, fall_back=name not in explicit)
            stack.enter_context(_running(server, name))
            state.urls[name] = f"http://{HOST}:{server.server_address[1]}"
        yield state


def main(argv: list[str] | None = None) -> int:
    """`python -m grayhound.demo.sites [PRICE_SET]`: serve the sites until Ctrl-C."""
    args = sys.argv[1:] if argv is None else argv
    price_set = int(args[0]) if args else 0
    with serve_sites(price_set=price_set) as served:
        for name, url in served.urls.items():
            print(f"{name:18} {url}")
        print(f"price set {price_set}; Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
