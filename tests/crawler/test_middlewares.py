"""The crawler's own downloader middlewares: Retry-After pauses a host only for a while,
redirect loops are named, and allowed_hosts matches host and port exactly."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy.http import Request, Response
from twisted.internet.task import Clock

from crawler.middlewares import (
    RedirectLoopError,
    RedirectLoopMiddleware,
    _pause_slot,
)
from crawler.spiders.scope import host_allowed


class FakeStats:
    def __init__(self):
        self.values: dict[str, int] = {}

    def inc_value(self, key, count=1):
        self.values[key] = self.values.get(key, 0) + count


def _crawler(slot_delay: float):
    slot = SimpleNamespace(delay=slot_delay)
    downloader = SimpleNamespace(slots={"127.0.0.1": slot})
    return SimpleNamespace(engine=SimpleNamespace(downloader=downloader), stats=FakeStats()), slot


def test_retry_after_pauses_the_slot_then_gives_its_delay_back():
    crawler, slot = _crawler(0.25)
    clock = Clock()
    _pause_slot(crawler, Request("http://127.0.0.1:8301/a"), 3.0, clock=clock)
    assert slot.delay == 3.0
    clock.advance(2.9)
    assert slot.delay == 3.0
    clock.advance(0.2)
    assert slot.delay == 0.25


@pytest.mark.parametrize(
    ("name", "random", "steady"), [("jitter", 0.5, 0.0), ("randomize_delay", True, False)]
)
def test_retry_after_is_waited_in_full_not_randomized(name, random, steady):
    """Scrapy waits 0.5–1.5 times a randomized slot delay: a pause for Retry-After is not
    randomized until it ends (`jitter` since Scrapy 2.14, `randomize_delay` before)."""
    crawler, slot = _crawler(0.25)
    setattr(slot, name, random)
    clock = Clock()
    _pause_slot(crawler, Request("http://127.0.0.1:8301/a"), 1.0, clock=clock)
    assert (slot.delay, getattr(slot, name)) == (1.0, steady)
    clock.advance(1.1)
    assert (slot.delay, getattr(slot, name)) == (0.25, random)


def test_retry_after_leaves_a_delay_someone_else_changed_meanwhile():
    crawler, slot = _crawler(0.0)
    clock = Clock()
    _pause_slot(crawler, Request("http://127.0.0.1:8301/a"), 1.0, clock=clock)
    slot.delay = 5.0  # autothrottle (or a longer Retry-After) took over
    clock.advance(2)
    assert slot.delay == 5.0


@pytest.mark.parametrize(
    ("chain", "location", "loops"),
    [
        ([], "/b", False),
        (["http://h:1/b"], "/c", False),
        (["http://h:1/b"], "/b", True),
        ([], "/a", True),  # a page redirecting to itself
    ],
)
def test_redirect_loop_is_named(chain, location, loops):
    crawler, _ = _crawler(0)
    middleware = RedirectLoopMiddleware(crawler)
    request = Request("http://h:1/a", meta={"redirect_urls": chain})
    response = Response("http://h:1/a", status=302, headers={"Location": location})
    if loops:
        with pytest.raises(RedirectLoopError, match="redirect loop"):
            middleware.process_response(request, response)
        assert crawler.stats.values["grayhound/redirect_loop"] == 1
    else:
        assert middleware.process_response(request, response) is response


@pytest.mark.parametrize(
    ("url", "allowed", "expected"),
    [
        ("http://127.0.0.1:8301/x", ("127.0.0.1:8301",), True),
        ("http://127.0.0.1:8302/x", ("127.0.0.1:8301",), False),
        ("http://127.0.0.2:8301/x", ("127.0.0.1:8301",), False),
        ("http://shop.example.com/x", ("example.com",), True),
        ("http://example.com.evil.test/x", ("example.com",), False),
        ("http://example.com:8080/x", ("example.com",), False),
        ("http://127.0.0.1:99999/x", ("127.0.0.1:8301",), False),
    ],
)
def test_host_allowed(url, allowed, expected):
    assert host_allowed(url, allowed) is expected


def test_a_callback_that_raised_becomes_a_recorded_failure():
    from crawler.middlewares import CallbackErrorMiddleware

    recorded = []
    spider = SimpleNamespace(failure_item=lambda *args: recorded.append(args) or {"args": args})
    crawler = SimpleNamespace(spider=spider, stats=FakeStats())
    response = Response("http://127.0.0.1:8301/item/1.html", status=200)
    out = CallbackErrorMiddleware(crawler).process_spider_exception(response, ValueError("bad"))
    assert out == [{"args": recorded[0]}]
    url, status, reason, source_response = recorded[0]
    assert source_response is response  # its WARC record is linked to the failure
    assert (url, status) == ("http://127.0.0.1:8301/item/1.html", 200)
    assert reason == "page could not be processed: ValueError: bad"
