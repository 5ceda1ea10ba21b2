"""Evidence fixtures: simulated crawl runs that go through the real capture middleware, spider
middleware and store batch writer with Scrapy Request/Response objects (no network, no reactor)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from grayhound.models import Listing, Seller

CONFIG = """
[storage]
database = "grayhound.db"
evidence_dir = "evidence"

[brands.xiaomi]
name = "Xiaomi"
terms = ["xiaomi"]
"""


@dataclass(frozen=True)
class Page:
    url: str
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    listing: Listing | None = None
    seller: Seller | None = None


def product_page(title: str, price: str, seller: str = "Shady Phones") -> bytes:
    offer = {"@type": "Offer", "price": price, "priceCurrency": "USD"}
    ld = json.dumps(
        {"@context": "https://schema.org", "@type": "Product", "name": title, "offers": offer}
    )
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>"
        f'<script type="application/ld+json">{ld}</script>'
        '<script>fetch("http://tracker.example/x")</script>'
        '<link rel="stylesheet" href="http://cdn.example/site.css"></head>'
        f'<body onload="steal()"><h1>{title}</h1><p class="price">${price}</p>'
        f'<img src="http://cdn.example/phone.jpg"><p>Sold by {seller}</p>'
        + "<p>Filler so the page is large enough to be stored once per payload.</p>" * 12
        + "</body></html>"
    ).encode()


@pytest.fixture
def config(tmp_path: Path):
    from grayhound.config import load_config

    path = tmp_path / "grayhound.toml"
    path.write_text(CONFIG)
    return load_config(path)


@pytest.fixture
def crawl(config):
    """crawl(pages, source="bazaar") -> run id: one simulated crawl run of these pages."""
    return lambda pages, source="bazaar": simulate_run(config, pages, source)


def simulate_run(config, pages: list[Page], source: str = "bazaar") -> int:
    from scrapy import Request, Spider
    from scrapy.http import HtmlResponse, TextResponse
    from scrapy.utils.test import get_crawler

    from crawler.capture.middleware import CaptureMiddleware, capture_written
    from grayhound.store import open_store, utc_now

    with open_store(config.storage.database) as store:
        run_id = store.start_run([source], utc_now())
    crawler = get_crawler(
        Spider,
        {
            "GRAYHOUND_RUN_ID": run_id,
            "GRAYHOUND_DATABASE": str(config.storage.database),
            "GRAYHOUND_EVIDENCE_DIR": str(config.storage.evidence_dir),
        },
    )
    crawler.spider = Spider(name=source)
    batch: list[dict] = []
    crawler.signals.connect(
        lambda capture: batch.append({"type": "capture", "capture": capture}),
        signal=capture_written,
        weak=False,
    )
    downloader = CaptureMiddleware(crawler)
    for page in pages:
        request = Request(page.url, headers={"User-Agent": "grayhound-test"})
        cls = HtmlResponse if "html" in page.content_type else TextResponse
        response = cls(
            page.url,
            status=page.status,
            body=page.body,
            headers={"Content-Type": page.content_type},
            request=request,
        )
        record_id = downloader.capture_now(request, response)["record_id"]
        batch.extend({**item, "capture": record_id} for item in _items(page, source))
    downloader.spider_closed()
    with open_store(config.storage.database) as store:
        store.write_batch(run_id, batch)
        store.finish_run(run_id, utc_now(), "finished", {})
    return run_id


def _items(page: Page, source: str) -> list[dict]:
    from grayhound.store import utc_now

    items = []
    seller_key = None
    if page.seller is not None:
        seller_key = "name:" + page.seller.name.lower()
        items.append(
            {
                "type": "seller",
                "source": source,
                "key": seller_key,
                "seller": page.seller,
                "seen_at": utc_now(),
            }
        )
    if page.listing is not None:
        items.append(
            {
                "type": "listing",
                "source": source,
                "listing": page.listing,
                "seller_key": seller_key,
                "seen_at": utc_now(),
            }
        )
    return items


def listing_page(path: str, title: str, price: str, origin="http://127.0.0.1:8301") -> Page:
    url = origin + path
    return Page(
        url=url,
        body=product_page(title, price),
        listing=Listing(
            url=url,
            canonical_url=url,
            is_product=True,
            title=title,
            price=price,
            currency="USD",
            seller="Shady Phones",
        ),
        seller=Seller(name="Shady Phones"),
    )


@pytest.fixture(name="listing_page")
def listing_page_fixture():
    """listing_page(path, title, price) -> Page of a product offered by "Shady Phones"."""
    return listing_page


@pytest.fixture(name="page")
def page_fixture():
    """page(url, body, status=200, content_type=...) -> Page without items."""
    return Page


@pytest.fixture
def two_runs(crawl, listing_page, page, store):
    """A listing seen in two runs at two prices, plus a revisit and a 500 in between."""
    crawl(
        [
            listing_page("/item/1.html", "Xiaomi 14 Pro <script>x</script>", "499.00"),
            page("http://127.0.0.1:8301/boom.html", b"<h1>down</h1>", status=500),
        ]
    )
    crawl([listing_page("/item/1.html", "Xiaomi 14 Pro <script>x</script>", "459.00")])
    crawl([listing_page("/item/1.html", "Xiaomi 14 Pro <script>x</script>", "459.00")])
    (listing,) = store.listings()
    return listing


@pytest.fixture
def store(config):
    """The config's own store (the one the simulated crawls write to)."""
    from grayhound.store import open_store

    with open_store(config.storage.database) as opened:
        yield opened


# -- keys, a loopback time-stamping authority, and an attacker's tools ------------------------
@pytest.fixture
def signing_key(tmp_path):
    """(private key, path of KEYFILE.pub): a fresh Ed25519 pair written by keygen."""
    from reports.evidence.seal import generate_keypair, load_signing_key

    private, public, _ = generate_keypair(tmp_path / "keys" / "grayhound")
    return load_signing_key(private), public


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


TSA_CONFIG = """[tsa]
default_tsa = tsa1
[tsa1]
serial = ./serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""
TSA_EXTENSIONS = """[tsa_ext]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
"""


def make_tsa(directory: Path, name: str) -> Path:
    """A test CA and a TSA certificate it issued (extendedKeyUsage timeStamping, critical)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ext.cnf").write_text(TSA_EXTENSIONS)
    (directory / "tsa.cnf").write_text(TSA_CONFIG)
    (directory / "serial").write_text("01\n")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30",
             "-subj", f"/CN={name} Root", "-addext", "basicConstraints=critical,CA:true",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)  # fmt: skip
    _openssl("req", "-new", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj",
             f"/CN={name}", cwd=directory)  # fmt: skip
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "tsa.crt", "-days", "30", "-extfile", "ext.cnf",
             "-extensions", "tsa_ext", cwd=directory)  # fmt: skip
    return directory


def tsa_reply(directory: Path, query: bytes) -> bytes:
    """`openssl ts -reply` for one DER TimeStampReq."""
    work = Path(tempfile.mkdtemp(dir=directory))
    (work / "query.tsq").write_bytes(query)
    _openssl("ts", "-reply", "-config", str(directory / "tsa.cnf"), "-queryfile", "query.tsq",
             "-signer", str(directory / "tsa.crt"), "-inkey", str(directory / "tsa.key"),
             "-out", "reply.tsr", cwd=work)  # fmt: skip
    return (work / "reply.tsr").read_bytes()


@dataclass
class LoopbackTSA:
    url: str
    directory: Path
    ca_path: Path
    ca_pem: bytes
    queries: list = field(default_factory=list)


@pytest.fixture(scope="session")
def tsa(tmp_path_factory):
    """A real RFC 3161 TSA on 127.0.0.1: `openssl ts -reply` behind a tiny HTTP handler, with a
    CA made for this test session."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    directory = make_tsa(tmp_path_factory.mktemp("tsa"), "Loopback Test TSA")
    lock = threading.Lock()
    served = LoopbackTSA("", directory, directory / "ca.crt", (directory / "ca.crt").read_bytes())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            query = self.rfile.read(min(int(self.headers.get("Content-Length", 0)), 65536))
            served.queries.append(self.headers.get("Content-Type"))
            with lock:  # openssl bumps its serial file
                reply = tsa_reply(directory, query)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}/tsr"
    yield served
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def rogue_tsa(tmp_path_factory):
    """A TSA with a CA of its own (not the loopback one): rogue_tsa.stamp(manifest) -> reply."""
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    directory = make_tsa(tmp_path_factory.mktemp("rogue-tsa"), "Rogue TSA")

    def stamp(manifest: bytes) -> bytes:
        query = (
            TimestampRequestBuilder()
            .data(manifest)
            .hash_algorithm(HashAlgorithm.SHA256)
            .cert_request(cert_request=True)
            .build()
        )
        return tsa_reply(directory, query.as_bytes())

    return SimpleNamespace(stamp=stamp, directory=directory)


@pytest.fixture
def sealing(signing_key, tsa):
    """A Sealing that signs with a fresh key and timestamps at the loopback TSA."""
    from reports.evidence.bundle import Sealing
    from reports.evidence.timestamp import request_token

    key, _ = signing_key
    return Sealing(
        signing_key=key,
        timestamper=lambda manifest: request_token(
            tsa.url, manifest, ca_pem=tsa.ca_pem, timeout=10
        ),
        tsa_url=tsa.url,
        tsa_ca_pem=tsa.ca_pem,
    )


class Attacker:
    """Someone holding a bundle but not the signing key: edits the files and makes every digest
    agree again (WARC record digests, capture offsets, the file list, the custody chain, the
    manifest's own digest), as the forgery in issue 16 did."""

    def __init__(self, path: Path):
        self.path = Path(path)
        with zipfile.ZipFile(self.path) as archive:
            self.files = {name: archive.read(name) for name in archive.namelist()}
        self.manifest_name = next(n for n in self.files if n.endswith("manifest.json"))
        self.manifest = json.loads(self.files[self.manifest_name])
        self.offsets: dict[int, int] = {}
        self.payloads: dict[str, str] = {}

    def change_price(self, old: bytes, new: bytes) -> Attacker:
        """Replace `old` by `new` in every captured payload and in every text file."""
        warc_name = next(n for n in self.files if n.endswith(".warc.gz"))
        self.files[warc_name] = self._rewrite_warc(self.files[warc_name], old, new)
        for name, data in self.files.items():
            if name.endswith((".html", ".txt")):
                self.files[name] = data.replace(old, new)
        text = json.dumps(self.manifest).replace(old.decode(), new.decode())
        self.manifest = json.loads(text)
        return self

    def rewrite_custody(self, user: str, line: int | None = None, rechain=True) -> Attacker:
        from reports.evidence.custody import GENESIS, line_hash

        name = next(n for n in self.files if n.endswith("custody.log"))
        lines = self.files[name].decode().splitlines()
        for number, text in enumerate(lines, start=1):
            if line is None or number == line:
                lines[number - 1] = re.sub(r"\tuser=[^\t]*", f"\tuser={user}", text)
        if rechain:
            previous = GENESIS
            for index, text in enumerate(lines):
                lines[index] = re.sub(r"\tprev=[0-9a-f]{64}$", f"\tprev={previous}", text)
                previous = line_hash(lines[index])
            self.manifest["custody_head"] = previous
        self.files[name] = ("\n".join(lines) + "\n").encode()
        return self

    def resign(self, key) -> Attacker:
        """Sign with the attacker's own key (after `seal()` has fixed the manifest)."""
        from reports.evidence.seal import signer_info

        self.manifest["seal"]["signature"] = signer_info(key.public_key()).as_dict()
        self._resign_key = key
        return self

    def seal(self) -> Attacker:
        """Recompute the file list and the manifest digest; write the zip back."""
        from reports.evidence.bundle import canonical_json, manifest_bytes, sha256_hex
        from reports.evidence.layout import SEAL_FILES
        from reports.evidence.seal import sign_digest

        for capture in self.manifest["captures"]:
            for key in ("warc_offset", "original_warc_offset"):
                if capture.get(key) is not None:
                    capture[key] = self.offsets.get(capture[key], capture[key])
            capture["payload_sha256"] = self.payloads.get(
                capture["payload_sha256"], capture["payload_sha256"]
            )
        unlisted = {self.manifest_name, *SEAL_FILES, "datapackage.json", "datapackage-digest.json"}
        self.manifest["files"] = [
            {"path": n, "sha256": sha256_hex(d), "size": len(d)}
            for n, d in sorted(self.files.items())
            if n not in unlisted
        ]
        self.files[self.manifest_name] = manifest_bytes(self.manifest)
        if getattr(self, "_resign_key", None) is not None:
            digest = sha256_hex(self.files[self.manifest_name])
            self.files["seal/signature.json"] = canonical_json(
                sign_digest(self._resign_key, digest)
            )
        with zipfile.ZipFile(self.path, "w") as archive:
            for name, data in self.files.items():
                archive.writestr(name, data)
        return self

    def _rewrite_warc(self, warc: bytes, old: bytes, new: bytes) -> bytes:
        from warcio.archiveiterator import ArchiveIterator
        from warcio.warcwriter import WARCWriter

        from crawler.capture.warc import warc_digest

        out = io.BytesIO()
        records = ArchiveIterator(io.BytesIO(warc))
        for record in records:
            # read the body first: asking for the offset reads the record to its end
            raw = record.raw_stream.read() if record.rec_type == "response" else None
            offset, length = records.get_record_offset(), records.get_record_length()
            self.offsets[offset] = out.tell()
            if raw is None or old not in raw:
                out.write(warc[offset : offset + length])
                continue
            body = raw.replace(old, new)
            http = record.http_headers
            if http.get_header("Content-Length"):
                http.replace_header("Content-Length", str(len(body)))
            http.compute_headers_buffer()
            self.payloads[hashlib.sha256(raw).hexdigest()] = hashlib.sha256(body).hexdigest()
            scratch = io.BytesIO()
            writer = WARCWriter(scratch, gzip=True, warc_version="1.1")
            headers = {
                "WARC-Record-ID": record.rec_headers.get_header("WARC-Record-ID"),
                "WARC-Date": record.rec_headers.get_header("WARC-Date"),
                "WARC-Payload-Digest": warc_digest(hashlib.sha256(body).hexdigest()),
                "WARC-Block-Digest": warc_digest(
                    hashlib.sha256(http.headers_buff + body).hexdigest()
                ),
            }
            writer.write_record(
                writer.create_warc_record(
                    record.rec_headers.get_header("WARC-Target-URI"),
                    "response",
                    payload=io.BytesIO(body),
                    length=len(body),
                    warc_headers_dict=headers,
                    http_headers=http,
                )
            )
            out.write(scratch.getvalue())
        return out.getvalue()


@pytest.fixture(name="attacker")
def attacker_fixture():
    """attacker(bundle path) -> Attacker."""
    return Attacker


def bundle_entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(name="entries")
def entries_fixture():
    """entries(bundle path) -> {name: bytes}."""
    return bundle_entries
