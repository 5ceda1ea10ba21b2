"""What `grayhound serve` begins before Datasette serves: the cases queue's refresh, in a thread.

A start after a crawl derives the day's rows again and takes `last_seen` over (SQL that runs
without the GIL: seconds at a million listings, `reports.serve.derived.refresh_queue`). Begun
at start, it runs on the other core while this process imports Datasette and starts serving,
instead of after the first page that shows the queue asked for it. That page, or any other of
a derived table, waits for it first (`refreshed_at_start`), under the refresh lock: the
queue's one writing connection is then free."""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
import threading

from grayhound.errors import GrayhoundError
from reports.serve.derived import LOG, _refresh_queue


def begin_queue_refresh(context) -> None:
    """Begin `derived.refresh_queue` now, in a thread; its change stamp (or its error) is
    handed to the first request to a derived table."""
    begun: concurrent.futures.Future = concurrent.futures.Future()

    def run() -> None:
        begun.set_running_or_notify_cancel()
        try:
            begun.set_result(_refresh_queue(context))
        except BaseException as exc:  # raised where the request waits for it
            begun.set_exception(exc)

    context.queue_refreshing = begun
    # a daemon: Ctrl-C during the refresh ends the server at once; its transaction is never
    # committed, the queue stays as it was, and the next start derives what moved
    threading.Thread(target=run, name="grayhound-queue-refresh", daemon=True).start()


async def refreshed_at_start(context) -> None:
    """Wait for the refresh begun at start, once, and take its change stamp as the queue's;
    when it failed (a crawl holding the store's write lock past the busy timeout), say so as
    `derived.refresh_or_warn` does: the request's own refresh then tries again."""
    async with context.refresh_lock:
        begun, context.queue_refreshing = context.queue_refreshing, None
        if begun is None:
            return
        try:
            context.stamps["queue"] = await asyncio.wrap_future(begun)
        except (sqlite3.OperationalError, GrayhoundError) as exc:
            LOG.warning("grayhound serve: derived tables not refreshed: %s", exc)
