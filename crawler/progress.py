"""Visible crawl progress on stderr: pages, listings and errors of every source, as they grow."""

from __future__ import annotations

import sys

from scrapy import signals
from twisted.internet import task

from grayhound.text import terminal_text

INTERVAL = 1.0  # seconds between redraws on a terminal

_spiders: dict[str, object] = {}  # every source of this process's crawl, by name
_loop: task.LoopingCall | None = None


def status_line() -> str:
    parts = []
    for name, spider in _spiders.items():
        f = getattr(spider, "figures", {})
        parts.append(
            f"{name}: {f.get('pages_fetched', 0)} pages, {f.get('listings', 0)} listings, "
            f"{f.get('failures', 0)} errors"
        )
    return terminal_text(" · ".join(parts))


class CrawlProgress:
    """One status line for the whole crawl; redrawn on a terminal, printed once per source
    at the end otherwise."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.tty = sys.stderr.isatty()

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider):
        global _loop
        _spiders[spider.name] = spider
        if self.tty and _loop is None:
            _loop = task.LoopingCall(_redraw)
            _loop.start(INTERVAL, now=False)

    def closed(self, spider, reason):
        global _loop
        if self.tty:
            _redraw()
        f = spider.figures
        newline = "\n" if self.tty else ""
        sys.stderr.write(
            f"{newline}crawl {terminal_text(spider.name)} done ({terminal_text(reason)}): "
            f"{f['pages_fetched']} pages, {f['listings']} listings, {f['failures']} errors\n"
        )
        sys.stderr.flush()
        _spiders.pop(spider.name, None)
        if not _spiders and _loop is not None and _loop.running:
            _loop.stop()
            _loop = None


def _redraw() -> None:
    sys.stderr.write("\r\x1b[2K" + status_line()[:200])
    sys.stderr.flush()
