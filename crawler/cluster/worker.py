"""A crawl worker of a distributed run: Scrapy on the shared frontier, items out through Redis.

A worker joins a run the coordinator published (`crawler.cluster.state`), crawls every source of
it from the shared queues and exits when they have drained. It never opens SQLite: its items
and capture-index rows leave through `crawler.cluster.outbox`, and its WARC files carry its worker id,
so workers sharing evidence_dir never collide.

Nothing here imports `crawler.capture.middleware` (it installs Twisted's default reactor on import):
Scrapy loads the outbox components by name once CrawlerProcess has installed its reactor."""

from __future__ import annotations

import json

from crawler.cluster.frontier import redis_lost
from crawler.cluster.state import RunKeys, redis_errors

IDLE_POLL_SECONDS = 0.5  # an idle engine re-reads the shared queue this often (Scrapy: 5 s)


class ClusterSpider:
    """Mixed in before a source's spider class: the coordinator seeded the frontier, and a
    storefront's own seller is shared between workers."""

    async def start(self):
        return
        yield  # an async generator that yields nothing

    @property
    def store_seller(self):
        if self.__dict__.get("_store_seller") is None and hasattr(self, "crawler"):
            shared = self._shared_seller_call("get")
            if shared:
                from grayhound.models import Seller

                data = json.loads(shared)
                data["identifiers"] = tuple(tuple(i) for i in data.get("identifiers") or ())
                self.__dict__["_store_seller"] = Seller(**data)
        return self.__dict__.get("_store_seller")

    @store_seller.setter
    def store_seller(self, seller):
        self.__dict__["_store_seller"] = seller
        if seller is not None:
            keys = ("name", "url", "domain", "claimed_domain", "identifiers")
            value = {k: seller.to_dict()[k] for k in keys}
            self._shared_seller_call("set", json.dumps(value))

    def _shared_seller_call(self, method: str, *args):
        key = RunKeys(self.crawler.settings.getint("GRAYHOUND_RUN_ID")).source(self.name, "store")
        if "_redis" not in self.__dict__:
            from scrapy_redis.connection import get_redis_from_settings

            self.__dict__["_redis"] = get_redis_from_settings(self.crawler.settings)
        try:
            return getattr(self.__dict__["_redis"], method)(key, *args)
        except redis_errors() as exc:
            redis_lost(self.crawler, exc)
            return None


# -- running a worker -----------------------------------------------------------------------
def worker_settings(config, run: dict, worker_id: str, log_level: str = "WARNING") -> dict:
    """The single-process settings with the frontier, pipeline and capture swapped for Redis."""
    from crawler.settings import (
        DOWNLOADER_MIDDLEWARES,
        EXTENSIONS,
        scrapy_settings,
    )

    run_id = run["id"]
    settings = scrapy_settings(config, run_id=run_id, log_level=log_level)
    downloader = dict(DOWNLOADER_MIDDLEWARES)
    downloader["crawler.cluster.outbox.ClusterCaptureMiddleware"] = downloader.pop(
        "crawler.capture.middleware.CaptureMiddleware"
    )
    settings.update(
        SCHEDULER="crawler.cluster.frontier.ClusterScheduler",
        SCHEDULER_QUEUE_CLASS="crawler.cluster.frontier.ReliableQueue",
        DUPEFILTER_CLASS="scrapy_redis.dupefilter.RFPDupeFilter",
        SCHEDULER_PERSIST=True,
        SCHEDULER_QUEUE_KEY=f"grayhound:{run_id}:%(spider)s:requests",
        SCHEDULER_DUPEFILTER_KEY=f"grayhound:{run_id}:%(spider)s:dupefilter",
        REDIS_URL=config.cluster.redis,
        ITEM_PIPELINES={"crawler.cluster.outbox.ClusterPipeline": 300},
        DOWNLOADER_MIDDLEWARES=downloader,
        EXTENSIONS={**EXTENSIONS, "crawler.cluster.outbox.WorkerHeartbeat": 400},
        GRAYHOUND_DATABASE=None,  # workers never open SQLite, not even to read
        GRAYHOUND_WORKER_ID=worker_id,
        GRAYHOUND_WORKER_TIMEOUT=run["worker_timeout"],
    )
    return settings


def run_worker(config, run_id: int, worker_id: str, *, log_level: str = "WARNING") -> dict:
    """Crawl run `run_id` from the shared frontier until it drains; return each source's
    finish reason ("finished", or "redis_unavailable" when Redis went away)."""
    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import CrawlerProcess

    from crawler.cluster.state import connect, read_run
    from crawler.settings import source_settings, tune_process
    from crawler.spiders import spider_for
    from grayhound.errors import GrayhoundError

    run = read_run(connect(config.cluster.redis), run_id)
    if run is None or run.get("status") != "crawling":
        raise GrayhoundError(f"{config.cluster.redis}: crawl run {run_id} is not running")
    # Scrapy polls an idle scheduler every 5 s; other workers may queue pages any moment.
    ExecutionEngine._SLOT_HEARTBEAT_INTERVAL = IDLE_POLL_SECONDS
    process = CrawlerProcess(worker_settings(config, run, worker_id, log_level))
    crawlers = []
    for name in run["sources"]:
        source = config.source(name)
        base = spider_for(source.kind)
        attrs = {"custom_settings": source_settings(source, config)}
        crawler = process.create_crawler(type(base.__name__, (ClusterSpider, base), attrs))
        crawlers.append(crawler)
        process.crawl(crawler, source=source)
    tune_process(log_level)
    process.start()
    return {c.spider.name: c.stats.get_value("finish_reason") for c in crawlers if c.spider}
