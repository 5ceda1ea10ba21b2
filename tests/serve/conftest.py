"""A store with flagged listings and sellers of two brands (one listing's title hostile), made by
simulated crawl runs through the real capture middleware and the real detectors; and a client
that talks to grayhound serve's Datasette in-process (httpx over ASGI), cookies kept."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

from grayhound.models import Listing, Seller
from tests.evidence.conftest import Page, simulate_run

PASSWORD = "correct horse battery staple"
HOSTILE_TITLE = (
    '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">Xiaomi 14 Pro 256GB'
)
CONFIG = """
[storage]
database = "grayhound.db"
evidence_dir = "evidence"

[brands.xiaomi]
name = "Xiaomi"
terms = ["xiaomi", "redmi"]
official_domains = ["mi.com"]

[brands.samsung]
name = "Samsung"
terms = ["samsung", "galaxy"]
official_domains = ["samsung.com"]

[[catalog]]
brand = "xiaomi"
model = "Xiaomi 14 Pro"
msrp = {{ USD = 999.0 }}

[[catalog]]
brand = "samsung"
model = "Galaxy S24"
aliases = ["Samsung Galaxy S24"]
msrp = {{ USD = 799.0 }}

[serve]
anonymous = "{anonymous}"

[serve.users]
analyst = "{password_hash}"
"""
# (path, title, price, seller name): what the simulated marketplace sells
OFFERS = [
    ("/item/1.html", "Xiaomi 14 Pro 512GB Titanium", "399.00", "Xiaomi Official Store"),
    ("/item/2.html", HOSTILE_TITLE, "450.00", "Gadget Hut"),
    ("/item/3.html", "Samsung Galaxy S24 256GB", "389.00", "Samsung Outlet Official"),
    ("/item/4.html", "Xiaomi 14 Pro 256GB", "949.00", "Xiaomi Official Store"),
]
ORIGIN = "http://127.0.0.1:8301"
SHOP_ORIGIN = "http://127.0.0.1:8302"
# A seller network across two sources: three sellers share a phone number (written two ways)
# and two of them an address. One impersonates Xiaomi under two names; one is hostile through
# and through (its name hides characters, its alias carries markup, its profile URL is a
# script); the address, a tie signal, carries markup too.
PHONE = "+44 20 7946 0321"
HOSTILE_ADDRESS = '<img src=x onerror="window.__pwned = 8">12 Market Street, London'
HOSTILE_SELLER = "Xiao\u200bmi \u202eselaD\u202c Hub"
HOSTILE_ALIAS = "<script>window.__pwned = 5</script>Mi Deals"
HOSTILE_URL = "javascript:window.__pwned = 6"
IMPERSONATOR = "Redmi Official Outlet"
NETWORK_SELLERS = [  # (source, path, title, price, seller name, its identifiers)
    ("bazaar", "/item/5.html", "Xiaomi 14 Pro 256GB Black", "419.00", IMPERSONATOR, (
        ("profile", ORIGIN + "/seller/redmi-official-outlet.html", "profile page URL"),
        ("name", "Redmi Outlet", "listing text seller name"),
        ("website", "redmi-official.shop", "profile text (website)"),
        ("phone", PHONE, "profile json-ld telephone"),
        ("address", HOSTILE_ADDRESS, "profile json-ld address"),
    )),
    ("shopfront", "/products/galaxy-s24", "Samsung Galaxy S24 128GB", "759.00",
     "Phone Deals Direct", (
        ("site", "127.0.0.1:8302", "crawled storefront"),
        ("phone", "020 7946 0321", "profile text phone"),
        ("address", HOSTILE_ADDRESS, "profile text address"),
    )),
    ("bazaar", "/item/6.html", "Xiaomi 14 Pro 512GB", "899.00", HOSTILE_SELLER, (
        ("name", HOSTILE_ALIAS, "listing json-ld seller name"),
        ("profile", HOSTILE_URL, "listing text seller URL"),
        ("phone", PHONE, "profile text phone"),
    )),
]  # fmt: skip


def offer_page(
    path: str, title: str, price: str, seller: str, identifiers=(), origin: str = ORIGIN
) -> Page:
    """A product page whose markup carries the title raw, scripts and an event handler."""
    url = origin + path
    offer = {"@type": "Offer", "price": price, "priceCurrency": "USD"}
    ld = json.dumps({"@type": "Product", "name": title, "offers": offer}).replace("</", "<\\/")
    body = (
        f"<!DOCTYPE html><html><head><title>{title}</title>"
        f'<script type="application/ld+json">{ld}</script>'
        "<script>window.__pwned = 3</script></head>"
        f'<body onload="window.__pwned = 4"><h1>{title}</h1><p class="price">${price}</p>'
        f"<p>Sold by {seller}</p>" + "<p>Filler text for a page of a realistic size.</p>" * 12
    ).encode()
    return Page(
        url=url,
        body=body,
        listing=Listing(
            url=url,
            canonical_url=url,
            is_product=True,
            title=title,
            price=price,
            currency="USD",
            condition="new",
            seller=seller,
        ),
        seller=Seller(name=seller, identifiers=tuple(identifiers)),
    )


def add_network(config) -> None:
    """Crawl NETWORK_SELLERS' pages (one simulated run per source); detect afterwards."""
    by_source: dict[str, list[Page]] = {}
    for source, path, title, price, seller, identifiers in NETWORK_SELLERS:
        origin = SHOP_ORIGIN if source == "shopfront" else ORIGIN
        page = offer_page(path, title, price, seller, identifiers, origin)
        by_source.setdefault(source, []).append(page)
    for source, pages in by_source.items():
        simulate_run(config, pages, source)


def write_config(directory: Path, anonymous: str = "none") -> Path:
    from reports.serve.auth import hash_password

    path = directory / "grayhound.toml"
    # few iterations: the tests sign in many times; the format is the one users configure
    password_hash = hash_password(PASSWORD, iterations=1000)
    path.write_text(CONFIG.format(anonymous=anonymous, password_hash=password_hash))
    return path


def build_store(config) -> None:
    from grayhound.detection import detect_findings

    simulate_run(config, [offer_page(*offer) for offer in OFFERS])
    add_network(config)
    detect_findings(config)


@pytest.fixture(scope="module")
def served_store(tmp_path_factory):
    """(config path, config) of a detected store, made once per test module."""
    from grayhound.config import load_config

    directory = tmp_path_factory.mktemp("serve")
    path = write_config(directory)
    config = load_config(path)
    build_store(config)
    return path, config


class Client:
    """A browser-like client of one Datasette app: cookies kept between requests."""

    def __init__(self, datasette):
        self.datasette = datasette
        self.runner = asyncio.Runner()
        transport = httpx.ASGITransport(app=datasette.app())
        self.http = httpx.AsyncClient(transport=transport, base_url="http://localhost")

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.runner.run(self.http.get(path, **kwargs))

    def post(self, path: str, data: dict, **kwargs) -> httpx.Response:
        return self.runner.run(self.http.post(path, data=data, **kwargs))

    def csrftoken(self, path: str) -> str:
        """The CSRF token a form on this page carries (and its cookie, now kept)."""
        page = self.get(path).text
        return re.search(r'name="csrftoken" value="([^"]+)"', page).group(1)

    def sign_in(self, username: str = "analyst", password: str = PASSWORD) -> httpx.Response:
        token = self.csrftoken("/-/login")
        return self.post(
            "/-/login", {"username": username, "password": password, "csrftoken": token}
        )

    def close(self) -> None:
        self.runner.run(self.http.aclose())
        self.runner.close()


@pytest.fixture
def client_for():
    """client_for(config) -> a Client of a fresh grayhound serve instance of that config."""
    from reports.serve.app import build_datasette

    clients = []

    def make(config, **kwargs) -> Client:
        clients.append(Client(build_datasette(config, **kwargs)))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_serve(config_path: Path, ready: str, timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """`grayhound serve` in a child process on a free loopback port, once `ready` (a path)
    answers: (the process, its base URL). One that exits, or does not answer in `timeout`
    seconds, is killed and the test fails with what it printed."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "grayhound", "--config", str(config_path), "serve"]
        + ["--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(base + ready, timeout=30).close()
            return process, base
        except OSError:  # an HTTP error too: a page that must answer
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("grayhound serve did not start: " + process.communicate()[0][-2000:])
            time.sleep(0.1)
