"""Every response preserved in a valid WARC file and indexed in `captures`."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.capture.warc import Exchange, WarcWriter, payload_sha256


def warc_files(config) -> list[Path]:
    return sorted((config.storage.evidence_dir / "warc").glob("*.warc.gz"))


def records(path: Path) -> list[dict]:
    """Every record of a WARC file, with its digest check result."""
    out = []
    with path.open("rb") as stream:
        iterator = ArchiveIterator(stream, check_digests=True)
        for record in iterator:
            body = record.content_stream().read()
            out.append(
                {
                    "type": record.rec_type,
                    "offset": iterator.get_record_offset(),
                    "headers": record.rec_headers,
                    "http": record.http_headers,
                    "body": body,
                    "digest_ok": record.digest_checker.passed is not False,
                }
            )
    return out


def test_every_response_is_a_valid_warc_record(config, crawl, listing_page, page, store):
    pages = [
        listing_page("/item/1.html", "Xiaomi 14 Pro", "499.00"),
        page("http://127.0.0.1:8301/missing.html", b"<h1>Not found</h1>", status=404),
        page(
            "http://127.0.0.1:8301/products.json",
            b'{"products": []}',
            content_type="application/json",
        ),
    ]
    crawl(pages)
    (path,) = warc_files(config)
    assert path.name == "run-000001-bazaar-00001.warc.gz"
    found = records(path)
    assert [r["type"] for r in found] == ["warcinfo"] + ["response", "request"] * 3
    assert all(r["digest_ok"] for r in found)
    response = found[1]
    assert response["body"] == pages[0].body
    assert response["http"].statusline == "200 OK"
    assert response["headers"].get_header("WARC-Payload-Digest").startswith("sha256:")
    assert found[3]["http"].statusline == "404 Not Found"


def test_warcio_check_accepts_what_grayhound_writes(config, crawl, listing_page, page):
    warcio = shutil.which("warcio") or str(Path(sys.executable).with_name("warcio"))
    if not Path(warcio).exists():
        pytest.skip("warcio command not installed")
    crawl([listing_page("/item/1.html", "Xiaomi 14", "399.00")])
    crawl([listing_page("/item/1.html", "Xiaomi 14", "399.00")])  # a revisit
    result = subprocess.run(
        [warcio, "check", "-v", *map(str, warc_files(config))], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "digest failed" not in result.stdout


def test_server_error_is_preserved_and_indexed(config, crawl, page, store):
    crawl([page("http://127.0.0.1:8301/boom.html", b"<h1>Internal error</h1>", status=500)])
    (capture,) = store.captures()
    assert capture["status"] == 500 and capture["record_type"] == "response"
    path = config.storage.evidence_dir / capture["warc_file"]
    with path.open("rb") as stream:
        stream.seek(capture["offset"])
        member = stream.read(capture["length"])
    record = next(iter(ArchiveIterator(__import__("io").BytesIO(member))))
    assert record.http_headers.get_statuscode() == "500"
    assert record.content_stream().read() == b"<h1>Internal error</h1>"


def test_captures_link_to_listing_and_seller(config, crawl, listing_page, store):
    crawl([listing_page("/item/7.html", "Redmi Note 13", "149.00")])
    (listing,) = store.listings()
    (capture,) = store.captures()
    assert capture["listing_id"] == listing["id"]
    assert capture["seller_id"] == listing["seller_id"] is not None
    assert capture["payload_sha256"] == payload_sha256(
        listing_page("/item/7.html", "Redmi Note 13", "149.00").body
    )
    assert capture["fetched_at"].endswith("Z")
    assert store.captures_of("listing", listing["id"]) == [capture]
    assert store.captures_of("seller", listing["seller_id"]) == [capture]


def test_identical_payload_in_a_later_run_is_a_revisit(config, crawl, listing_page, store):
    first = crawl([listing_page("/item/1.html", "Xiaomi 14", "399.00")])
    second = crawl([listing_page("/item/1.html", "Xiaomi 14", "399.00")])
    original, revisit = store.captures()
    assert (original["crawl_run_id"], revisit["crawl_run_id"]) == (first, second)
    assert revisit["record_type"] == "revisit"
    assert (revisit["original_warc_file"], revisit["original_offset"]) == (
        original["warc_file"],
        original["offset"],
    )
    (path,) = [p for p in warc_files(config) if "run-000002" in p.name]
    record = [r for r in records(path) if r["type"] == "revisit"][0]
    headers = record["headers"]
    assert headers.get_header("WARC-Profile").endswith("/revisit/identical-payload-digest")
    assert headers.get_header("WARC-Refers-To-Target-URI") == original["url"]
    assert headers.get_header("WARC-Refers-To-Date") == original["fetched_at"]
    assert record["body"] == b""  # the body is stored once, in run 1
    assert path.stat().st_size < 1500


def test_changed_payload_is_stored_in_full(crawl, listing_page, store):
    crawl([listing_page("/item/1.html", "Xiaomi 14", "399.00")])
    crawl([listing_page("/item/1.html", "Xiaomi 14", "349.00")])
    assert [c["record_type"] for c in store.captures()] == ["response", "response"]


def test_files_rotate_and_every_member_is_its_own_gzip(tmp_path):
    writer = WarcWriter(tmp_path, run_id=3, source="../etc/passwd", max_bytes=2000)
    for n in range(6):
        body = bytes(range(256)) * 20 + str(n).encode()
        exchange = Exchange(
            f"http://h/{n}",
            "GET",
            [("Host", "h")],
            b"",
            200,
            "OK",
            [("Content-Type", "application/octet-stream")],
            body,
            "2025-01-01T00:00:00.000Z",
        )
        stored = writer.write_exchange(exchange, payload_sha256(body))
        member = (tmp_path / stored.warc_file).read_bytes()[
            stored.offset : stored.offset + stored.length
        ]
        assert gzip.decompress(member).startswith(b"WARC/1.1")
    writer.close()
    names = sorted(p.name for p in (tmp_path / "warc").iterdir())
    assert len(names) > 1
    assert all(n.startswith("run-000003-src") and "/" not in n and ".." not in n for n in names)


def test_latest_capture_of_each_listing_is_its_newest(crawl, listing_page, store):
    """What the digest links as a listing's evidence: the newest capture, as captures_of
    lists last, for exactly the listings asked about."""
    crawl([listing_page("/item/1.html", "Xiaomi 14", "399.00")])
    crawl(
        [
            listing_page("/item/1.html", "Xiaomi 14", "379.00"),
            listing_page("/item/2.html", "Redmi Note 13", "149.00"),
        ]
    )
    ids = {row["canonical_url"].rsplit("/", 1)[1]: row["id"] for row in store.listings()}
    latest = store.latest_listing_captures({ids["1.html"], ids["2.html"]})
    assert latest == {i: store.captures_of("listing", i)[-1] for i in ids.values()}
    assert latest[ids["1.html"]]["crawl_run_id"] == 2
    assert store.latest_listing_captures({ids["2.html"]}).keys() == {ids["2.html"]}
