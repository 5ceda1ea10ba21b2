"""Preserve every response as WARC evidence and tell the store pipeline where it went.

`CaptureMiddleware` sits next to the downloader (after decompression has *not* run yet), so it
sees each response exactly as received: error statuses, redirects, retried 500s, robots.txt,
sitemaps and JSON endpoints included. It writes the exchange with `crawler.capture.warc.WarcWriter`,
puts the WARC record id in `response.meta["capture"]` and sends the `capture_written` signal,
which the store pipeline turns into a `captures` row in its next batch.

The spider copies that record id into every listing, seller and failure item the response
produced (`crawler.spiders.base.capture_of`), so the pipeline can link the capture to them."""

from __future__ import annotations

import getpass
import logging
import socket
from http.client import responses as REASONS
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro

from crawler.capture.warc import Exchange, Original, WarcWriter, payload_sha256
from grayhound.store import open_store, utc_now

logger = logging.getLogger(__name__)

capture_written = object()  # signal: kwargs capture=<dict of captures columns>
STOPPED_BECAUSE = "grayhound/stopped_because"  # crawler stat: why the crawl stopped early
MIN_REVISIT_BYTES = 512  # a revisit record costs ~500 bytes: smaller payloads are kept in full
# The body is stored de-chunked, so a chunked Transfer-Encoding would misdescribe it.
DROPPED_HEADERS = {b"transfer-encoding"}


class CaptureMiddleware:
    """Downloader middleware: write each response (and its request) to the run's WARC files."""

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.run_id = settings.getint("GRAYHOUND_RUN_ID")
        self.database = settings.get("GRAYHOUND_DATABASE")
        evidence_dir = settings.get("GRAYHOUND_EVIDENCE_DIR")
        self.evidence_dir = Path(evidence_dir) if evidence_dir else None
        self.writer: WarcWriter | None = None
        self.store = None
        self.originals: dict[str, Original] = {}  # payloads stored in full during this run
        self.host, self.user = _who()
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_closed(self):
        if self.writer is not None:
            self.writer.close()
        if self.store is not None:
            self.store.close()

    def process_response(self, request, response):
        """Written here, in the reactor's thread: an exchange costs about 0.25 ms (hash, two
        small gzip members, one buffered write). A worker thread cost more than that in
        hand-offs and GIL contention, and records stay in fetch order for free."""
        if self.evidence_dir is None or request.meta.get("playwright"):
            return response  # a rendered DOM is no response: its requests were each captured
        try:
            capture = self.capture(_exchange(request, response), self.crawler.spider.name)
        except OSError as exc:  # evidence that cannot be written stops the crawl
            self.crawler.stats.inc_value("grayhound/capture_failed")
            logger.error("could not preserve %s as WARC: %s", response.url, exc)
            reason = exc.strerror or str(exc)
            stop_crawl(
                self.crawler,
                f"{self.evidence_dir}: could not write WARC evidence ({reason})",
                "evidence_failed",
            )
            return response
        self.announce(request, capture)
        return response

    def capture_now(self, request, response) -> dict:
        """Capture outside a crawl (tests and tools without a running reactor)."""
        capture = self.capture(_exchange(request, response), self.crawler.spider.name)
        self.announce(request, capture)
        return capture

    def announce(self, request, capture: dict) -> None:
        """Tell the spider (meta) and the store pipeline (signal) where the response went."""
        request.meta["capture"] = capture["record_id"]  # response.request is set later
        self.crawler.stats.inc_value(f"grayhound/captured_{capture['record_type']}")
        self.crawler.signals.send_catch_log(signal=capture_written, capture=capture)

    def capture(self, exchange: Exchange, source: str) -> dict:
        """Write the exchange (in full, or as a revisit) and return its captures row."""
        sha256_hex = payload_sha256(exchange.body)
        original = self.original(sha256_hex) if len(exchange.body) >= MIN_REVISIT_BYTES else None
        writer = self._writer(source)
        if original is None:
            stored = writer.write_exchange(exchange, sha256_hex)
            self.originals[sha256_hex] = Original(
                exchange.url, exchange.fetched_at, stored.warc_file, stored.offset, stored.length
            )
        else:
            stored = writer.write_revisit(exchange, sha256_hex, original)
        return {
            "record_id": stored.record_id,
            "url": exchange.url,
            "source": source,
            "record_type": stored.record_type,
            "warc_file": stored.warc_file,
            "offset": stored.offset,
            "length": stored.length,
            "payload_sha256": sha256_hex,
            "status": exchange.status,
            "content_type": _content_type(exchange),
            "fetched_at": exchange.fetched_at,
            "host": self.host,
            "user": self.user,
            "original_warc_file": original.warc_file if original else None,
            "original_offset": original.offset if original else None,
            "original_length": original.length if original else None,
        }

    def original(self, sha256_hex: str) -> Original | None:
        """Where this payload is already stored in full: this run, or any earlier one."""
        if sha256_hex in self.originals:
            return self.originals[sha256_hex]
        if self.database is None:
            return None
        if self.store is None:
            self.store = open_store(self.database)
        row = self.store.original_capture(sha256_hex)
        if row is None:
            return None
        found = Original(
            row["url"], row["fetched_at"], row["warc_file"], row["offset"], row["length"]
        )
        self.originals[sha256_hex] = found
        return found

    def _writer(self, source: str) -> WarcWriter:
        if self.writer is None:
            self.writer = WarcWriter(self.evidence_dir, self.run_id, source)
        return self.writer


def stop_crawl(crawler, why: str, reason: str) -> None:
    """Stop this source's crawl cleanly because something could not be kept (the store, the
    WARC evidence): the first cause is recorded for the run and named by `grayhound crawl`."""
    if crawler.stats.get_value(STOPPED_BECAUSE) is None:
        crawler.stats.set_value(STOPPED_BECAUSE, why)
        logger.error("stopping the crawl: %s", why)
    engine = crawler.engine
    if engine is not None and engine.spider is not None:
        # Already closing (the store failed on the last flush): this only waits for the end.
        closing = deferred_from_coro(engine.close_spider_async(reason=reason))
        closing.addErrback(lambda failure: None)  # the spider closed meanwhile: nothing to do


def _exchange(request, response) -> Exchange:
    """The request and response as they crossed the wire, as far as Scrapy keeps them."""
    request_headers = _header_list(request.headers)
    if not any(name.lower() == "host" for name, _ in request_headers):
        request_headers.insert(0, ("Host", urlsplit(response.url).netloc))
    response_headers, dropped = [], []
    for name, values in response.headers.items():
        for value in values:
            pair = (name.decode("latin-1"), value.decode("latin-1"))
            (dropped if name.lower() in DROPPED_HEADERS else response_headers).append(pair)
    extra = tuple(("Grayhound-Removed-Header", f"{k}: {v}") for k, v in dropped)
    return Exchange(
        url=response.url,
        method=request.method,
        request_headers=request_headers,
        request_body=request.body or b"",
        status=response.status,
        reason=REASONS.get(response.status, ""),
        response_headers=response_headers,
        body=response.body,
        fetched_at=utc_now(),
        extra_warc_headers=extra,
    )


def _content_type(exchange: Exchange) -> str | None:
    for name, value in exchange.response_headers:
        if name.lower() == "content-type":
            return value
    return None


def _header_list(headers) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


def _who() -> tuple[str, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return socket.gethostname(), user
