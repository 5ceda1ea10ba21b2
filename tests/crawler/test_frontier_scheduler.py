"""The saved frontier: pending requests kept in memory while crawling, spilled to the job
directory past a bound, and all of them written there when the crawl stops."""

from __future__ import annotations

import pytest
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

import crawler.resume
from crawler.resume import FrontierScheduler


class PageSpider(Spider):
    name = "pages"

    def parse(self, response):  # the callback the saved requests name
        return None


def _scheduler(jobdir):
    spider_crawler = get_crawler(
        PageSpider, {"JOBDIR": str(jobdir), "SCHEDULER": "crawler.resume.FrontierScheduler"}
    )
    spider = PageSpider.from_crawler(spider_crawler)
    spider_crawler.spider = spider
    # Scrapy's default priority queue asks the downloader which slots are busy.
    spider_crawler.engine = spider_crawler._create_engine()
    scheduler = FrontierScheduler.from_crawler(spider_crawler)
    scheduler.open(spider)
    return scheduler, spider


def _urls(count: int) -> list[str]:
    return [f"http://127.0.0.1:8301/item/{n}.html" for n in range(count)]


def test_requests_stay_in_memory_until_the_bound_then_spill_to_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(crawler.resume, "MEMORY_FRONTIER", 3)
    scheduler, spider = _scheduler(tmp_path)
    for url in _urls(5):
        assert scheduler.enqueue_request(Request(url, callback=spider.parse))
    assert (len(scheduler.mqs), len(scheduler.dqs)) == (3, 2)
    popped = {scheduler.next_request().url for _ in range(5)}
    assert popped == set(_urls(5))
    assert scheduler.next_request() is None
    scheduler.close("finished")


@pytest.mark.parametrize("bound", [3, 1000])
def test_a_stopped_crawl_saves_every_pending_request(tmp_path, monkeypatch, bound):
    monkeypatch.setattr(crawler.resume, "MEMORY_FRONTIER", bound)
    scheduler, spider = _scheduler(tmp_path)
    for url in _urls(7):
        scheduler.enqueue_request(Request(url, callback=spider.parse))
    scheduler.close("shutdown")

    resumed, spider = _scheduler(tmp_path)
    saved = []
    while (request := resumed.next_request()) is not None:
        saved.append(request)
    assert sorted(r.url for r in saved) == sorted(_urls(7))
    assert all(r.callback == spider.parse for r in saved)
    # The seen-requests set came back too: a page already queued is not queued again.
    assert not resumed.enqueue_request(Request(_urls(7)[0], callback=spider.parse))
    resumed.close("finished")
