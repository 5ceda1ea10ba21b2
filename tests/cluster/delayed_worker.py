"""`python -m tests.cluster.delayed_worker --config X worker --once`: a real crawl worker whose
items take DELAY_SECONDS (asynchronously) before they reach the Redis outbox, as a slow
pipeline or a loaded machine makes them. It watches every ack: a page acked while one of its
items has not yet been pushed is named on stderr, and the worker exits 3."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter

DELAY_SECONDS = 0.3
EARLY_ACK_EXIT = 3

UNSENT: Counter = Counter()  # WARC record id of a page -> its items not yet pushed to Redis
EARLY_ACKS: list[str] = []  # pages acked while some of their items were still on their way


class CountItems:
    """Spider middleware: count each item as its page's callback yields it."""

    async def process_spider_output(self, response, result):
        async for output in result:
            if _page_of(output) is not None:
                UNSENT[_page_of(output)] += 1
            yield output


class DelayedItems:
    """An item pipeline that yields to the event loop for a while before passing items on."""

    async def process_item(self, item):
        await asyncio.sleep(DELAY_SECONDS)
        return item


def _page_of(item) -> str | None:
    page = item.get("capture") if isinstance(item, dict) else None
    return page if isinstance(page, str) else None  # a capture row carries a dict


def _watch_acks() -> None:
    from crawler.cluster.frontier import ClusterScheduler
    from crawler.cluster.outbox import ClusterPipeline

    push = ClusterPipeline._push

    def counted_push(self, item):
        push(self, item)
        if _page_of(item) is not None:
            UNSENT[_page_of(item)] -= 1

    acked = ClusterScheduler.request_done

    def watched_ack(self, request):
        if UNSENT[request.meta.get("capture")] > 0:
            EARLY_ACKS.append(request.url)
        return acked(self, request)

    ClusterPipeline._push = counted_push
    ClusterScheduler.request_done = watched_ack


def main() -> int:
    import crawler.cluster.worker
    from grayhound.cli import main as cli_main

    settings_for = crawler.cluster.worker.worker_settings

    def delayed_settings(*args, **kwargs):
        settings = settings_for(*args, **kwargs)
        settings["ITEM_PIPELINES"] = {f"{__name__}.DelayedItems": 1, **settings["ITEM_PIPELINES"]}
        # Outermost: sees what the spider and its other middlewares finally yield.
        settings["SPIDER_MIDDLEWARES"] = {
            **settings["SPIDER_MIDDLEWARES"],
            f"{__name__}.CountItems": 2,
        }
        return settings

    crawler.cluster.worker.worker_settings = delayed_settings
    _watch_acks()
    code = cli_main(sys.argv[1:])
    if EARLY_ACKS:
        print(f"{len(EARLY_ACKS)} pages acked before their items left:", file=sys.stderr)
        print("\n".join(EARLY_ACKS[:10]), file=sys.stderr)
        return EARLY_ACK_EXIT
    return code


if __name__ == "__main__":
    raise SystemExit(main())
