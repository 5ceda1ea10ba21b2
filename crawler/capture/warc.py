"""WARC files (ISO 28500) of everything the crawler fetched: the evidence behind every listing.

One `WarcWriter` per source and crawl run writes `warc/run-<run>-<source>-<n>.warc.gz` under
evidence_dir, rotating at about 100 MB. Every record is its own gzip member, so a record can be
copied byte for byte out of the file by (offset, length). An exchange is a response record
followed by its request record; a payload already stored in full becomes a revisit record
(profile identical-payload-digest) that refers to the original.

Digests are SHA-256 in base32 (`sha256:...`); the payload hash is computed once, by the caller,
and reused for the WARC header and the captures index."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from grayhound import __version__

ROTATE_BYTES = 100 * 1024 * 1024  # one WARC file per ~100 MB: easy to copy, hash and archive
GZIP_LEVEL = 6  # zlib's default: most of level 9's size at a fraction of its time
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$")
WARC_VERSION = "1.1"  # 1.1 allows the millisecond WARC-Date the store uses


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and the response to it, as Scrapy saw them."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    fetched_at: str  # UTC ISO 8601 with Z; also the WARC-Date
    extra_warc_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Stored:
    """Where an exchange landed: (offset, length) spans the response/revisit and request."""

    warc_file: str  # relative to evidence_dir, always "/"-separated
    offset: int
    length: int
    record_id: str
    record_type: str  # response | revisit


@dataclass(frozen=True)
class Original:
    """The full record a revisit refers to."""

    url: str
    fetched_at: str
    warc_file: str
    offset: int
    length: int


def payload_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def warc_digest(hex_digest: str) -> str:
    return "sha256:" + base64.b32encode(bytes.fromhex(hex_digest)).decode("ascii")


def source_file_part(source: str) -> str:
    """A source name usable in a file name: config names pass as they are, others are hashed."""
    if SAFE_NAME.match(source):
        return source
    return "src" + hashlib.sha256(source.encode()).hexdigest()[:12]


class WarcWriter:
    """Append exchanges to rotating .warc.gz files under `evidence_dir/warc/`."""

    def __init__(self, evidence_dir: Path, run_id: int, source: str, max_bytes=ROTATE_BYTES):
        self.evidence_dir = Path(evidence_dir)
        self.prefix = f"run-{int(run_id):06d}-{source_file_part(source)}"
        self.max_bytes = max_bytes
        self.sequence = 0
        self.file = None
        self.relative = ""
        self.scratch = io.BytesIO()
        self.warc = WARCWriter(self.scratch, gzip=False, warc_version=WARC_VERSION)

    def write_exchange(self, exchange: Exchange, sha256_hex: str) -> Stored:
        http = self._response_headers(exchange)
        block = hashlib.sha256(http.headers_buff)
        block.update(exchange.body)
        headers = {
            "WARC-Date": exchange.fetched_at,
            "WARC-Payload-Digest": warc_digest(sha256_hex),
            "WARC-Block-Digest": warc_digest(block.hexdigest()),
            **dict(exchange.extra_warc_headers),
        }
        record = self.warc.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.body),
            length=len(exchange.body),
            warc_headers_dict=headers,
            http_headers=http,
        )
        return self._append(exchange, record, "response")

    def write_revisit(self, exchange: Exchange, sha256_hex: str, original: Original) -> Stored:
        http = self._response_headers(exchange)
        headers = {
            "WARC-Date": exchange.fetched_at,
            "WARC-Block-Digest": warc_digest(hashlib.sha256(http.headers_buff).hexdigest()),
            **dict(exchange.extra_warc_headers),
        }
        record = self.warc.create_revisit_record(
            exchange.url,
            warc_digest(sha256_hex),
            original.url,
            original.fetched_at,
            http_headers=http,
            warc_headers_dict=headers,
        )
        return self._append(exchange, record, "revisit")

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    # -- internals --------------------------------------------------------------------------
    def _append(self, exchange: Exchange, record, record_type: str) -> Stored:
        out = self._file()
        offset = out.tell()
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        out.write(self._member(record))
        out.write(self._member(self._request_record(exchange, record_id)))
        out.flush()  # one write per exchange: the index never points past the file's end
        return Stored(self.relative, offset, out.tell() - offset, record_id, record_type)

    def _request_record(self, exchange: Exchange, response_id: str):
        target = _request_target(exchange.url)
        http = StatusAndHeaders(
            f"{exchange.method} {target} HTTP/1.1", exchange.request_headers, protocol=""
        )
        http.compute_headers_buffer()
        body = exchange.request_body
        block = hashlib.sha256(http.headers_buff)
        block.update(body)
        headers = {
            "WARC-Date": exchange.fetched_at,
            "WARC-Concurrent-To": response_id,
            "WARC-Payload-Digest": warc_digest(payload_sha256(body)),
            "WARC-Block-Digest": warc_digest(block.hexdigest()),
        }
        return self.warc.create_warc_record(
            exchange.url,
            "request",
            payload=io.BytesIO(body),
            length=len(body),
            warc_headers_dict=headers,
            http_headers=http,
        )

    def _response_headers(self, exchange: Exchange) -> StatusAndHeaders:
        status = f"{exchange.status} {exchange.reason}".strip()
        http = StatusAndHeaders(status, exchange.response_headers, protocol="HTTP/1.1")
        http.compute_headers_buffer()
        return http

    def _member(self, record) -> bytes:
        """Serialise one record and gzip it as its own member."""
        self.scratch.seek(0)
        self.scratch.truncate()
        self.warc.write_record(record)
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return compressor.compress(self.scratch.getvalue()) + compressor.flush()

    def _file(self):
        if self.file is not None and self.file.tell() < self.max_bytes:
            return self.file
        self.close()
        # A continued run starts a new file rather than append after what a killed process
        # may have left half-written at the end of the last one (never clobbering either).
        path = None
        while path is None or path.exists():
            self.sequence += 1
            self.relative = f"warc/{self.prefix}-{self.sequence:05d}.warc.gz"
            path = self.evidence_dir / self.relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(path, "ab", buffering=1024 * 1024)  # noqa: SIM115 - closed in close()
        if self.file.tell() == 0:
            info = {"software": f"grayhound/{__version__}", "format": "WARC File Format 1.1"}
            self.file.write(self._member(self.warc.create_warcinfo_record(path.name, info)))
        return self.file


def _request_target(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def complete_records(path: Path, chunk_size: int = 1 << 16):
    """Yield (offset, record) for every complete record of a .warc.gz, in order.

    A crawl killed mid-write can leave a partial gzip member at the end of its last file;
    warcio's ArchiveIterator then yields a broken record or raises, depending on where the cut
    falls. Every record here is its own member, so reading member by member stops cleanly
    before the partial one (and, on garbage, before it)."""
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as stream:
        for offset, raw in _gzip_members(stream, chunk_size):
            for record in ArchiveIterator(io.BytesIO(raw)):
                yield offset, record


def _gzip_members(stream, chunk_size: int):
    buffer, offset = b"", 0
    while True:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        parts, start = [], offset
        while not inflater.eof:
            if not buffer:
                buffer = stream.read(chunk_size)
                if not buffer:
                    return  # the end: clean between members, or a partial member dropped
            try:
                parts.append(inflater.decompress(buffer))
            except zlib.error:
                return  # not gzip from here on: nothing complete follows
            offset += len(buffer) - len(inflater.unused_data)
            buffer = inflater.unused_data
        yield start, b"".join(parts)
