"""Page images from the stored capture, never the live site: a fixture capture rendered by
headless Chromium shows its known colour block (PNG pixels) and the banner (the PDF's text
layer); the page's outside requests never leave the browser; bundles carry the images."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy
import pytest
from PIL import Image
from pypdf import PdfReader

from reports.evidence.bundle import export_bundle
from reports.evidence.images import PageRenderer, Unavailable, find_chromium
from reports.evidence.verify import verify_bundle

EVENT = {"exported_at": "2025-06-01T12:00:00.000Z", "host": "lawfirm-pc", "user": "custodian"}
GREEN = (0, 200, 83)  # the fixture's colour block: 320 x 180 CSS pixels


@pytest.fixture(scope="module")
def renderer():
    try:
        find_chromium()
    except Unavailable as exc:
        pytest.skip(str(exc))
    with PageRenderer() as opened:
        yield opened


@pytest.fixture
def outside():
    """A server standing in for the live web: every request it gets is a leak."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { background: red }")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def fixture_page(outside_origin: str) -> bytes:
    return f"""<!DOCTYPE html><html><head><title>Redmi Note 13</title>
<meta http-equiv="refresh" content="0; url={outside_origin}/moved">
<link rel="stylesheet" href="{outside_origin}/site.css">
<style>@import url("{outside_origin}/import.css"); body {{ margin: 0; font-family: sans-serif }}</style>
</head><body>
<div id="block" style="width:320px;height:180px;background:rgb{GREEN}"></div>
<h1>Redmi Note 13 Pro, only 899.00 USD</h1>
<img src="{outside_origin}/phone.jpg" width="10" height="10">
<iframe src="{outside_origin}/frame"></iframe>
<script>document.getElementById('block').style.background = 'red';
fetch('{outside_origin}/beacon')</script>
</body></html>""".encode()


BANNER = [
    ("URL", "http://shop.example/item/42"),
    ("Captured (UTC)", "2025-05-30T08:15:00.000Z"),
    ("Payload SHA-256", "ab" * 32),
    ("Rendered by", "grayhound test"),
]


def test_a_capture_is_pictured_as_captured_with_its_banner_and_nothing_fetched(renderer, outside):
    origin, hits = outside
    png, pdf, refused = renderer.capture(fixture_page(origin), "text/html; charset=utf-8", BANNER)
    assert hits == []  # nothing reached the stand-in for the live web
    assert refused >= 4  # stylesheet, @import, image, frame (and the refresh)
    pixels = numpy.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert pixels.shape[1] == 1280
    greens = int(numpy.all(pixels == GREEN, axis=-1).sum())
    assert greens >= 320 * 180 * 0.95  # the block, not repainted red by the page's script
    assert not numpy.all(pixels == (255, 0, 0), axis=-1).any()  # no outside stylesheet
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("http://shop.example/item/42", "2025-05-30T08:15:00.000Z", "ab" * 32):
        assert expected in text.replace("\n", "")
    assert "899.00 USD" in text and "rendered offline" in text


def test_each_capture_is_pictured_alone_in_the_tab_the_captures_share(renderer, outside):
    """The tab is kept from one capture to the next (issue 19, round 50): what the page before
    showed, asked for or was refused is never counted or shown with the next one, and a render
    that failed leaves the next one a tab of its own."""
    origin, hits = outside
    _, _, refused = renderer.capture(fixture_page(origin), "text/html; charset=utf-8", BANNER)
    assert refused >= 4
    plain = b"<!DOCTYPE html><html><body><h1>Second page, 459.00 USD</h1></body></html>"
    png, pdf, refused = renderer.capture(plain, "text/html; charset=utf-8", BANNER)
    assert refused == 0 and hits == []
    pixels = numpy.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert not numpy.all(pixels == GREEN, axis=-1).any()  # nothing of the first page
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "459.00 USD" in text and "899.00" not in text and "Outside requests refused: 0" in text
    # a page whose refresh fires after it was pictured, before the next capture is laid out:
    # it goes with its page, not counted with the next one nor taking its navigation
    late = b'<html><head><meta http-equiv="refresh" content="1;url=/elsewhere"></head></html>'
    renderer.capture(late, "text/html; charset=utf-8", BANNER)
    time.sleep(1.5)
    png, _, refused = renderer.capture(plain, "text/html; charset=utf-8", BANNER)
    assert refused == 0 and png.startswith(b"\x89PNG")
    tab = renderer._capture_tab
    tab.page.screenshot = lambda **_: (_ for _ in ()).throw(RuntimeError("lost the tab"))
    with pytest.raises(RuntimeError, match="lost the tab"):
        renderer.capture(plain, "text/html; charset=utf-8", BANNER)
    assert tab.page.is_closed()
    png, _, refused = renderer.capture(plain, "text/html; charset=utf-8", BANNER)
    assert png.startswith(b"\x89PNG") and refused == 0 and renderer._capture_tab is not tab
    renderer._capture_tab.page.close()  # the kept tab gone between two captures
    png, _, refused = renderer.capture(plain, "text/html; charset=utf-8", BANNER)
    assert png.startswith(b"\x89PNG") and refused == 0


def test_the_banner_is_text_even_when_values_look_like_markup(renderer):
    banner = [("URL", "<img src=x onerror=alert(1)>http://a.example/")]
    _, pdf, _ = renderer.capture(b"<p>page</p>", "text/html", banner)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "<img src=x onerror=alert(1)>" in text


def test_a_bundle_carries_png_and_pdf_of_each_distinct_page(
    two_runs, store, config, tmp_path, renderer
):
    result = export_bundle(
        store, config, "listing", 1, tmp_path / "b.zip", event=EVENT, renderer=renderer
    )
    with zipfile.ZipFile(result.path) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    manifest = json.loads(files["manifest.json"])
    pictured = [c for c in manifest["captures"] if c["image_png"]]
    # two payloads (499.00, then 459.00 twice): two pictures, the revisit points at the second
    assert result.images == 2 == len({c["image_png"] for c in pictured}) == len(pictured) - 1
    for capture in pictured:
        assert files[capture["image_png"]].startswith(b"\x89PNG")
        assert files[capture["image_pdf"]].startswith(b"%PDF")
    first = PdfReader(io.BytesIO(files[pictured[0]["image_pdf"]])).pages[0].extract_text()
    assert "499.00" in first and pictured[0]["payload_sha256"] in first.replace("\n", "")
    summary = PdfReader(io.BytesIO(files["summary.pdf"]))
    summary_text = " ".join(p.extract_text() for p in summary.pages)
    assert "Evidence summary: listing #1" in summary_text and "not signed" in summary_text
    assert verify_bundle(result.path).ok


def test_without_chromium_the_export_says_so_once_and_keeps_the_rest(
    two_runs, config, tmp_path, capsys, monkeypatch
):
    from grayhound.cli import main

    monkeypatch.setenv("GRAYHOUND_CHROMIUM", str(tmp_path / "no-such-chromium"))
    out = tmp_path / "b.zip"
    args = ["--config", str(config.path), "evidence", "export", "--listing", "1"]
    assert main([*args, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("no page images") == 1 and "no-such-chromium" in captured.err
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
    assert "evidence.warc.gz" in names and not any(n.startswith("images/") for n in names)
    assert "no-such-chromium" in manifest["page_images"]["note"]


def test_a_long_summary_is_printed_whole_in_parts(renderer, monkeypatch):
    """Each part printed on its own (the browser's memory that of one part); the PDF holds
    every row, the first, the cut's neighbours and the last, in order."""
    from reports.evidence import printparts
    from tests.evidence.test_printparts import page

    monkeypatch.setattr(printparts, "MAX_ROWS", 40)
    pdf = PdfReader(io.BytesIO(renderer.document(page(100).encode(), {})))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    found = [int(n) for n in re.findall(r"^(\d+)\s*<tr>", text, flags=re.M)]
    assert found == list(range(100))
    assert text.count("Observed") == 3  # the header row starts each of the three parts
    assert "after the table" in text


def test_a_listings_later_prices_print_on_the_sheet_of_its_first_row(renderer):
    """A listing that held several prices has a row for each, its URL on the first only: a
    sheet of the printed summary never begins with a later price of a listing (it would not
    say which listing it is), unless the listing alone fills a sheet; and no row is split
    across two sheets (a long URL wraps over several lines of its cell)."""
    from reports.evidence.docs import render_summary
    from reports.evidence.layout import LAYOUTS
    from reports.evidence.pictures import Images

    day = "2026-01-{:02d}T00:00:00.000Z".format
    listings, timeline = [], []
    TITLE = "Samsung Galaxy S24 512GB warranty dual global blue"  # noqa: N806 (two lines)
    for listing in range(1, 161):
        prices = 1 + (listing * 7) % 5  # 1 to 5 prices each
        listings.append(
            {
                "id": listing,
                "url": f"https://large.example/item/{listing}.html",
                "title": f"{TITLE} L{listing}P{prices - 1}",  # as stored: its last price's
                "price": f"{100 + prices - 1}.00",
                "currency": "USD",
                "first_seen": day(1),
                "last_seen": day(2 * prices),
            }
        )
        for run in range(1, 2 * prices + 1):  # each price seen twice: "… to …"
            n = (run - 1) // 2
            timeline.append(
                {
                    "listing_id": listing,
                    "crawl_run_id": run,
                    "observed_at": day(run),
                    "title": f"{TITLE} L{listing}P{n}",
                    "price": f"{100 + n}.00",
                    "currency": "USD",
                }
            )
    subject = {
        "identity": {"kind": "seller", "id": 1, "url": None},
        "seller": None,
        "listings": listings,
    }
    html = render_summary(
        subject,
        [],
        [],
        timeline,
        "0",
        layout=LAYOUTS["zip"],
        seal={"signature": None, "timestamp": None},
        images=Images(),
    )
    sheets = [
        page.extract_text() for page in PdfReader(io.BytesIO(renderer.document(html, {}))).pages
    ]
    firsts = [re.search(r"L\d+P(\d+)", text) for text in sheets]
    firsts = [int(found.group(1)) for found in firsts if found]
    assert len(firsts) > 5  # the table runs over many sheets
    assert firsts == [0] * len(firsts)
    for text in sheets[1:]:
        if re.search(r"L\d+P", text):  # a sheet of the table starts at a row's first line
            assert re.match(r"#\d+\s", text), text[:80]


def test_many_pages_are_pictured_in_order_on_several_browsers(monkeypatch):
    """A bundle of many distinct pages starts a browser more for each share of them (as many
    as the command may use cores); every picture comes back in the order asked, a page
    that could not be pictured in its own place, and nothing to picture passes through."""
    from reports.evidence import renderthread

    try:
        find_chromium()
    except Unavailable as exc:
        pytest.skip(str(exc))
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    monkeypatch.setattr(renderthread, "PAGES_A_BROWSER", 2)
    pages = [f"<p>page number {n}</p>".encode() for n in range(8)]
    jobs = [(n, (page, "text/html", [("URL", f"http://shop.example/{n}")])) for n, page in
            enumerate(pages)]  # fmt: skip
    jobs[3] = (3, None)  # nothing to picture
    jobs[5] = (5, (pages[5], "text/html", None))  # a banner that cannot be laid out
    with renderthread.started_page_renderer() as pending:
        renderer, note = pending.ready()
        assert note is None
        assert pending.grow(len(jobs)) == 2  # eight pages, two a browser, two cores: two
        second = pending._more[0].renderer()  # started before the pages are handed out
        results = list(renderer.capture_all(iter(jobs), len(jobs)))
        assert len(pending._more) == 1
        first = pending._thread.renderer()
        assert first._site.asked and second._site.asked  # both browsers pictured pages
    assert [tag for tag, _ in results] == list(range(8))
    assert results[3][1] is None and isinstance(results[5][1], Exception)
    for n, result in results:
        if n in (3, 5):
            continue
        png, pdf, refused = result
        text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        assert f"page number {n}" in text and f"http://shop.example/{n}" in text
        assert png.startswith(b"\x89PNG") and refused == 0
