"""What a crawl worker sends out through Redis: items and capture-index rows for the one
store writer, its heartbeat, and its share of the run's figures."""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet import task

from crawler.capture.middleware import CaptureMiddleware, capture_written
from crawler.cluster.frontier import redis_lost
from crawler.cluster.ingest import encode_item
from crawler.cluster.state import RunKeys, redis_errors

logger = logging.getLogger(__name__)

ITEM_TYPES = ("listing", "seller", "failure")


def _client(crawler):
    return get_redis_from_settings(crawler.settings)


class ClusterPipeline:
    """Push each item to the run's Redis list as it is produced (the ack follows it)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.client = _client(crawler)
        self.key = RunKeys(crawler.settings.getint("GRAYHOUND_RUN_ID")).items
        crawler.signals.connect(self.capture_written, signal=capture_written)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, dict) or item.get("type") not in ITEM_TYPES:
            self.crawler.stats.inc_value("grayhound/dropped_unknown_item")
            logger.warning("dropped an item of unknown shape: %r", type(item).__name__)
            return item
        self._push(item)
        return item

    def capture_written(self, capture: dict):
        self._push({"type": "capture", "capture": capture})

    def _push(self, item: dict) -> None:
        try:
            self.client.rpush(self.key, encode_item(item))
        except redis_errors() as exc:
            redis_lost(self.crawler, exc)
        else:
            self.crawler.stats.inc_value("grayhound/items_sent")


class ClusterCaptureMiddleware(CaptureMiddleware):
    """WARC capture whose file names carry the worker id: run-<run>-<source>-<worker>-<n>."""

    def _writer(self, *args):
        fresh = self.writer is None
        writer = super()._writer(*args)
        if fresh:
            writer.prefix += "-" + self.crawler.settings.get("GRAYHOUND_WORKER_ID")
        return writer


class WorkerHeartbeat:
    """Extension: keep this worker's `alive` key fresh and add its figures to the run's."""

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.keys = RunKeys(settings.getint("GRAYHOUND_RUN_ID"))
        self.worker = settings.get("GRAYHOUND_WORKER_ID")
        self.timeout = settings.getfloat("GRAYHOUND_WORKER_TIMEOUT")
        self.client = _client(crawler)
        self.sent: dict[str, int] = {}
        self.loop = task.LoopingCall(self.beat)

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider):
        self.loop.start(max(self.timeout / 4, 0.25), now=True)

    def closed(self, spider, reason):
        if self.loop.running:
            self.loop.stop()
        self.beat()  # the last figures

    def beat(self):
        spider = self.crawler.spider
        figures = getattr(spider, "figures", {})
        delta = {k: v - self.sent.get(k, 0) for k, v in figures.items() if v != self.sent.get(k)}
        try:
            with self.client.pipeline() as pipe:
                pipe.set(self.keys.alive(self.worker), 1, px=int(self.timeout * 1000))
                figures_key = self.keys.source(spider.name, "figures")
                for name, count in delta.items():
                    pipe.hincrby(figures_key, name, count)
                pipe.execute()
        except redis_errors() as exc:
            redis_lost(self.crawler, exc)
            return
        self.sent.update({k: figures[k] for k in delta})
