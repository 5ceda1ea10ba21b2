"""Only what Scrapy lacks: a host:port allowlist that also stops off-site redirects, honouring
Retry-After on 429/503 (a temporary pause of the host's download slot, or the host stopped for
the run when it asks for longer than `[crawl] max_retry_after`), naming redirect loops
(Scrapy's duplicate filter would otherwise drop the looping request without a word), and
recording a callback that raised as a failure of its URL instead of a log line only."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.downloadermiddlewares.robotstxt import (
    RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware,
)
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.spiders.scope import HostStopped, OutsideAllowedHosts, host_allowed

logger = logging.getLogger(__name__)


class AllowedHostsMiddleware:
    """Refuse any request, redirects included, outside the spider's allowed_hosts."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        spider = self.crawler.spider
        allowed = getattr(spider, "allowed_hosts", ())
        if allowed and not host_allowed(request.url, allowed):
            self.crawler.stats.inc_value("grayhound/refused_outside_allowed_hosts")
            logger.warning("refused %s: outside allowed_hosts %s", request.url, ", ".join(allowed))
            raise OutsideAllowedHosts(f"outside allowed_hosts: {request.url}")
        return None


class RetryAfterMiddleware:
    """Honour Retry-After on 429/503 (Scrapy ignores it): up to `[crawl] max_retry_after`
    seconds the host's download slot pauses that long and the page is retried; a server asking
    for longer (or for a moment further away, as an HTTP date) gets no request for the rest of
    the run, and every page of it that is not fetched is recorded as a failure saying why."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.max_retry_times = crawler.settings.getint("RETRY_TIMES")
        self.max_retry_after = crawler.settings.getfloat("GRAYHOUND_MAX_RETRY_AFTER", 120.0)
        self.stopped: dict[str, str] = {}  # host[:port] -> why it was stopped

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        reason = self.stopped.get(urlparse_cached(request).netloc)
        if reason is not None:
            self.crawler.stats.inc_value("grayhound/skipped_host_stopped")
            raise HostStopped(f"not fetched: {reason}")
        return None

    def process_response(self, request, response):
        if response.status not in (429, 503) or b"Retry-After" not in response.headers:
            return response
        delay = _retry_after_seconds(response.headers.get(b"Retry-After", b""))
        if delay is None:
            return response  # unreadable: Scrapy's own retry decides
        if delay > self.max_retry_after:
            self._stop_host(request, response.status, delay)
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=f"{response.status} Retry-After {delay:g}s",
            max_retry_times=self.max_retry_times,
        )
        if retry is None:
            return response
        self.crawler.stats.inc_value("grayhound/retry_after")
        _pause_slot(self.crawler, request, delay)
        return retry

    def _stop_host(self, request, status: int, delay: float):
        host = urlparse_cached(request).netloc
        reason = (
            f"{host} answered {status} asking to wait {delay:g}s (Retry-After), longer than"
            f" [crawl] max_retry_after = {self.max_retry_after:g}s: host stopped for this run"
        )
        self.stopped[host] = reason
        self.crawler.stats.inc_value("grayhound/hosts_stopped")
        logger.warning("%s", reason)
        _drop_queued(self.crawler, request, reason)
        raise HostStopped(reason, status=status)


def _drop_queued(crawler, request, reason: str) -> None:
    """Fail the requests of the stopped host already waiting in its download slot (they went
    through process_request before the host was stopped)."""
    key = request.meta.get("download_slot") or urlsplit(request.url).hostname
    slot = getattr(crawler.engine.downloader, "slots", {}).get(key)
    queue = getattr(slot, "queue", None)
    while queue:
        _, waiting = queue.popleft()
        waiting.errback(HostStopped(f"not fetched: {reason}"))


def _retry_after_seconds(value: bytes, now: datetime | None = None) -> float | None:
    """Seconds to wait: Retry-After is a number of seconds or an HTTP date."""
    try:
        text = value.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


_RANDOMIZED = {"jitter": 0.0, "randomize_delay": False}  # a slot attribute → its steady value


def _pause_slot(crawler, request, delay: float, clock=None) -> None:
    """Make the download slot of this host wait `delay` before its next request, for `delay`
    seconds only: afterwards the slot's own delay (autothrottle's or the configured one) is
    back, unless something else changed it meanwhile. Meanwhile the slot's delay is not
    randomized (RANDOMIZE_DOWNLOAD_DELAY: Scrapy waits 0.5–1.5 times it, so a server asking
    for 1 s could be asked again after 0.5 s): the wait is at least what was asked."""
    if clock is None:
        from twisted.internet import reactor as clock

    downloader = crawler.engine.downloader
    key = request.meta.get("download_slot") or urlsplit(request.url).hostname
    slot = downloader.slots.get(key)
    if slot is None or slot.delay >= delay:
        return
    previous, slot.delay = slot.delay, delay
    # the randomization: `jitter` (a magnitude) since Scrapy 2.14, `randomize_delay` before
    randomized = {name: getattr(slot, name) for name in _RANDOMIZED if hasattr(slot, name)}
    for name in randomized:
        setattr(slot, name, _RANDOMIZED[name])

    def restore() -> None:
        if slot.delay == delay:
            slot.delay = previous
            for name, value in randomized.items():
                setattr(slot, name, value)

    clock.callLater(delay, restore)


class RedirectLoopError(IgnoreRequest):
    """A redirect leads back to a URL of its own redirect chain."""


class RedirectLoopMiddleware:
    """Fail a redirect that returns to a URL already in its chain, with a reason that says so.

    Sits between the downloader and Scrapy's RedirectMiddleware so it sees the 3xx first."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        location = response.headers.get(b"Location")
        if not 300 <= response.status < 400 or not location:
            return response
        target = urljoin(request.url, location.decode("latin-1"))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target in chain:
            self.crawler.stats.inc_value("grayhound/redirect_loop")
            raise RedirectLoopError(f"redirect loop: {' -> '.join([*chain, target])}")
        return response


class CallbackErrorMiddleware:
    """Spider middleware: a callback that raised on a page becomes a recorded failure."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_exception(self, response, exception):
        spider = self.crawler.spider
        logger.error("callback failed on %s", response.url, exc_info=exception)
        reason = f"page could not be processed: {type(exception).__name__}: {exception}"
        if hasattr(spider, "failure_item"):
            return [spider.failure_item(response.url, response.status, reason[:500], response)]
        return None


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, safe for requests that wait on a robots.txt download.

    Scrapy awaits the pending robots.txt Deferred once per waiting request; Twisted's
    `asFuture` passes None down the chain, so every waiter after the first sees no parser and
    is let through: with several requests in flight before robots.txt arrives (many start
    URLs, a worker popping a shared frontier) disallowed pages were fetched. Here each waiter
    gets its own Deferred and the result stays on the chain for the next one."""

    async def robot_parser(self, request):
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        waiter: Deferred = Deferred()

        def relay(result):
            waiter.callback(result)
            return result

        pending.addBoth(relay)
        return await maybe_deferred_to_future(waiter)
