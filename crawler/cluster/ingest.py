"""The one store writer of a distributed crawl: crawler items arrive as JSON on a Redis list
and are written with `Store.write_batch`, in order, in batches.

Workers never open SQLite. An item is removed from the list only after the transaction that
stored it committed, so a writer killed mid-batch re-reads that batch when it restarts; a
re-delivered item changes nothing (observations are unique per listing and run, captures per
WARC record)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

from crawler.cluster.state import (
    RunKeys,
    display_url,
    live_workers,
    new_worker_id,
    retire_run,
    run_pending,
    source_figures,
)
from grayhound.errors import GrayhoundError
from grayhound.models import Listing, Seller
from grayhound.store import Store

logger = logging.getLogger(__name__)

BATCH_SIZE = 500  # items per transaction: one commit per few hundred items keeps SQLite fast
WRITER_LOCK_SECONDS = 60  # a writer that stops refreshing its lock for this long is gone
POLL_SECONDS = 0.2  # how often an idle writer looks for new items and a drained frontier
RECORDS = {"listing": Listing, "seller": Seller}  # item key holding a dataclass -> its type


def encode_item(item: dict) -> bytes:
    """A crawler item as JSON: its Listing or Seller becomes a plain object."""
    out = dict(item)
    for key in RECORDS:
        record = out.get(key)
        if record is not None and not isinstance(record, dict):
            out[key] = record.to_dict()
    return json.dumps(out, separators=(",", ":"), default=str).encode()


def decode_item(raw: bytes | str) -> dict:
    """The inverse of encode_item: plain objects become Listing and Seller again."""
    item = json.loads(raw)
    for key, record_type in RECORDS.items():
        value = item.get(key)
        if isinstance(value, dict):
            known = {f.name for f in fields(record_type)}
            value = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
            item[key] = record_type(**{k: v for k, v in value.items() if k in known})
    return item


@dataclass
class IngestResult:
    items: int = 0
    batches: int = 0
    complete: bool = False  # the frontier drained and every item is stored


def ingest_batch(client, store: Store, run_id: int, batch_size: int = BATCH_SIZE) -> int:
    """Store the next batch of the run's items; return how many there were."""
    key = RunKeys(run_id).items
    raw = client.lrange(key, 0, batch_size - 1)
    if not raw:
        return 0
    items = [decode_item(entry) for entry in raw]
    store.write_batch(run_id, items)
    client.ltrim(key, len(raw), -1)  # only after the commit: at-least-once
    return len(raw)


def ingest_run(
    client,
    store: Store,
    run_id: int,
    sources: list[str],
    *,
    follow: bool = True,
    keep_going: Callable[[], bool] = lambda: True,
    on_progress: Callable[[IngestResult], None] | None = None,
) -> IngestResult:
    """Write the run's items until the list is empty (follow=False), or until the frontier
    has drained and the last item is stored (follow=True), or until keep_going() says no."""
    result = IngestResult()
    with writer_lock(client, run_id):
        return _ingest_loop(client, store, run_id, sources, follow, keep_going, on_progress, result)


def _ingest_loop(client, store, run_id, sources, follow, keep_going, on_progress, result):
    lock = RunKeys(run_id).base + ":writer"
    while True:
        client.expire(lock, WRITER_LOCK_SECONDS)
        count = ingest_batch(client, store, run_id)
        if count:
            result.items += count
            result.batches += 1
            if on_progress is not None:
                on_progress(result)
            continue
        if not follow:
            return result
        # Order matters: a worker pushes a page's items before acking the page, so once
        # nothing is pending, every item is already on the list.
        if run_pending(client, run_id, sources) == 0 and client.llen(RunKeys(run_id).items) == 0:
            result.complete = True
            return result
        if not keep_going():
            return result
        time.sleep(POLL_SECONDS)


class writer_lock:
    """Exactly one writer per run: two would trim each other's unwritten items."""

    def __init__(self, client, run_id: int):
        self.client, self.run_id = client, run_id
        self.key = RunKeys(run_id).base + ":writer"
        self.me = new_worker_id()

    def __enter__(self):
        if not self.client.set(self.key, self.me, nx=True, ex=WRITER_LOCK_SECONDS):
            holder = (self.client.get(self.key) or b"?").decode()
            raise GrayhoundError(
                f"crawl run {self.run_id}: another ingest ({holder}) is writing it"
            )
        return self

    def __exit__(self, *exc):
        from contextlib import suppress

        with suppress(Exception):  # Redis may be the reason we are leaving
            if self.client.get(self.key) == self.me.encode():
                self.client.delete(self.key)


def finish_cluster_run(client, store: Store, run_id: int, sources: list[str], status: str):
    """Record the run's end with the figures every worker added up; retire a finished run."""
    from grayhound.store import utc_now
    from grayhound.store.crawldata import LogCompactionError

    figures = source_figures(client, run_id, sources)
    stats = {"sources": figures, "cluster": {"redis": display_url(client_url(client))}}
    housekeeping = None
    try:
        store.finish_run(run_id, utc_now(), status, stats)
    except LogCompactionError as error:  # the end is recorded: the run is done in Redis too
        housekeeping = error
    if status == "finished":
        retire_run(client, run_id)
    if housekeeping is not None:
        raise housekeeping
    return stats


def client_url(client) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://{kwargs.get('host', '')}:{kwargs.get('port', '')}/{kwargs.get('db', 0)}"


def describe_workers(client, run_id: int) -> str:
    workers = live_workers(client, run_id)
    return f"{len(workers)} live worker(s)" + (f": {', '.join(workers)}" if workers else "")
