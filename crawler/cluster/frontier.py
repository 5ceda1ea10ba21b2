"""The shared frontier of a distributed crawl: scrapy-redis's scheduler made loss-free.

scrapy-redis pops requests destructively and its spiders idle forever. Here:

* `ReliableQueue` (a scrapy-redis queue class) pops by moving the request into the source's
  in-flight hash under a token (`crawler.cluster.state.Frontier`); the duplicate filter check and
  the push are one atomic step, so a kill between them cannot lose a link.
* A popped request is acked once Scrapy has finished with its response or failure
  (`ClusterScheduler.ack_after_scrape`): every link it produced is queued and every item
  pushed by then. A retry or a redirect acks the request it replaces when it is queued.
* `ClusterScheduler` closes the spider only when the source's queue and every worker's
  in-flight requests are empty, requeueing first what dead workers held; when Redis goes
  away it stops the spider with reason `redis_unavailable` and one log line."""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from scrapy_redis import picklecompat
from scrapy_redis.queue import Base
from scrapy_redis.scheduler import Scheduler

from crawler.cluster.state import Frontier, RunKeys, display_url, redis_errors

logger = logging.getLogger(__name__)

TOKEN = "grayhound_frontier"  # request.meta key: the in-flight token of a popped request


def encode_request(request, spider) -> bytes:
    """The scrapy-redis wire form of a request (callbacks by name on the spider).

    Request.to_dict finds callback names with inspect.getmembers over the whole spider, which
    cost ~1 ms a request (and evaluated every property); the name of a bound method is direct."""
    plain = request.replace(callback=None, errback=None).to_dict()
    plain["callback"] = _method_name(request.callback, spider)
    plain["errback"] = _method_name(request.errback, spider)
    return picklecompat.dumps(plain)


def _method_name(func, spider) -> str | None:
    if func is None:
        return None
    name = getattr(func, "__name__", "")
    if getattr(func, "__self__", None) is not spider or getattr(spider, name, None) != func:
        raise ValueError(f"{func!r} is not a method of spider {spider.name!r}")
    return name


def redis_lost(crawler, exc: Exception) -> None:
    """Stop this crawler once, with one line naming Redis; the run stays resumable."""
    if getattr(crawler, "grayhound_redis_lost", False):
        return
    crawler.grayhound_redis_lost = True
    url = display_url(crawler.settings.get("REDIS_URL", ""))
    logger.error("%s: Redis went away (%s); stopping this worker, the run can be resumed", url, exc)
    crawler.stats.set_value("grayhound/redis_unavailable", 1)
    if crawler.engine is not None and crawler.engine.spider is not None:
        deferred_from_coro(crawler.engine.close_spider_async(reason="redis_unavailable"))


class ReliableQueue(Base):
    """A scrapy-redis queue whose pop leaves the request in flight until it is acked."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer)
        settings = spider.crawler.settings
        self.worker = settings.get("GRAYHOUND_WORKER_ID")
        self.frontier = Frontier(server, RunKeys(settings.getint("GRAYHOUND_RUN_ID")), spider.name)
        self.seen: set[str] = set()  # fingerprints known to be in the shared filter: no trip

    def __len__(self):
        return self.frontier.queued()

    def _encode_request(self, request):
        return encode_request(request, self.spider)

    def push(self, request, fingerprint: str = "") -> bool:
        replaces = request.meta.pop(TOKEN, "")  # a retry or redirect replaces its original
        if fingerprint and fingerprint in self.seen and not replaces:
            return False  # a fingerprint once in the shared filter stays there all run
        queued = self.frontier.push(
            self._encode_request(request), request.priority, fingerprint, replaces
        )
        if fingerprint:
            self.seen.add(fingerprint)
        return queued

    def pop(self, timeout=0):
        got = self.frontier.pop(self.worker)
        if got is None:
            return None
        token, data = got
        request = self._decode_request(data)
        request.meta[TOKEN] = token
        return request

    def clear(self):
        pass  # a shared frontier outlives any one worker: the coordinator retires it


class ClusterScheduler(Scheduler):
    """scrapy-redis's Scheduler over `ReliableQueue`, closing only when the frontier drains."""

    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider):
        """scrapy-redis's open, minus its flush and its deprecated Spider.log call."""
        self.spider = spider
        self.queue = load_object(self.queue_cls)(
            server=self.server,
            spider=spider,
            key=self.queue_key % {"spider": spider.name},
            serializer=self.serializer,
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        self.ack_after_scrape(self.crawler.engine.scraper)

    def ack_after_scrape(self, scraper) -> None:
        """Ack each popped request when Scrapy is done with its response or failure.

        Scrapy hands a callback's output to parallel tasks (Scraper.handle_spider_output_async)
        that queue its links and run its items through the pipelines only after the callback's
        generator is exhausted. An ack at the end of that generator (a spider middleware, as
        this once was) let the frontier look drained, and the run be declared complete, while
        a page's links and items were still on their way. The Deferred of
        Scraper.enqueue_scrape fires after all of them, for responses and errbacks alike."""
        if getattr(scraper, "grayhound_acks", False):
            return
        enqueue_scrape = getattr(scraper, "enqueue_scrape", None)
        if enqueue_scrape is None:  # a Scrapy that no longer has it: refuse, never lose items
            raise RuntimeError("this Scrapy's Scraper has no enqueue_scrape(); cannot ack pages")

        def scrape_then_ack(result, request):
            done = enqueue_scrape(result, request)
            done.addBoth(self._acked, request)
            return done

        scraper.enqueue_scrape = scrape_then_ack
        scraper.grayhound_acks = True

    def _acked(self, result, request):
        self.request_done(request)
        return result

    def enqueue_request(self, request):
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        try:
            queued = self.queue.push(request, fingerprint)
        except redis_errors() as exc:
            redis_lost(self.crawler, exc)
            return False
        if not queued:
            self.df.log(request, self.spider)
        elif self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return queued

    def next_request(self):
        if getattr(self.crawler, "grayhound_redis_lost", False):
            return None
        try:
            request = self.queue.pop()
        except redis_errors() as exc:
            redis_lost(self.crawler, exc)
            return None
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self):
        try:
            return not getattr(self.crawler, "grayhound_redis_lost", False) and len(self) > 0
        except redis_errors() as exc:
            redis_lost(self.crawler, exc)
            return False

    def request_done(self, request):
        token = request.meta.pop(TOKEN, None)
        if not token:
            return
        try:
            self.queue.frontier.ack(token)
        except redis_errors() as exc:
            redis_lost(self.crawler, exc)

    def spider_idle(self, spider):
        """Stay open while any worker still has this source's requests queued or in flight."""
        if getattr(self.crawler, "grayhound_redis_lost", False):
            return
        try:
            self.queue.frontier.requeue_dead()
            pending = self.queue.frontier.pending()
        except redis_errors() as exc:
            redis_lost(self.crawler, exc)
            return
        if pending:
            raise DontCloseSpider

    def close(self, reason):
        """A worker stopping early hands back what it popped but never finished."""
        try:
            moved = self.queue.frontier.requeue_worker(self.queue.worker)
        except redis_errors():
            return  # Redis is gone: the heartbeat expires and another worker requeues them
        if moved:
            logger.info("%s: handed %d unfinished requests back to the frontier", reason, moved)
