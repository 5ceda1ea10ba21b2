"""`grayhound crawl` with [cluster]: one crawl run, many workers, one store writer.

The coordinator records the crawl run in SQLite, seeds each source's start requests into the
shared frontier (once), publishes the run in Redis, starts N local workers (`grayhound worker
--once`; workers on other machines join the same run) and writes what they send with the
ingest loop until the frontier has drained. An unfinished run (Redis or every worker went
away, Ctrl-C) stays published: the next `grayhound crawl` resumes it instead of starting over."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time

from crawler.cluster.frontier import encode_request
from crawler.cluster.ingest import finish_cluster_run, ingest_run
from crawler.cluster.state import (
    Frontier,
    RunKeys,
    connect,
    current_run,
    display_url,
    live_workers,
    publish_run,
    read_run,
    redis_errors,
)
from crawler.runner import config_hash, selected_sources
from grayhound.config import Config, Source
from grayhound.errors import GrayhoundError
from grayhound.store import open_store, utc_now

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 30  # how long finished local workers get to flush and exit


def run_cluster_crawl(
    config: Config,
    source_names: list[str] | None = None,
    *,
    workers: int = 1,
    verbose: bool = False,
    fresh: bool = False,
) -> dict:
    """Coordinate one distributed crawl run; return its summary like `run_crawl` does."""
    from crawler.resume import crawl_lock

    client = connect(config.cluster.redis)
    names = [s.name for s in selected_sources(config, source_names)]
    with crawl_lock(config):
        return _coordinate(config, client, names, workers, verbose, fresh)


def _coordinate(config, client, names, workers, verbose, fresh) -> dict:
    run_id = open_run(client, config, names, fresh=fresh)
    children = [spawn_worker(config, run_id, verbose) for _ in range(workers)]
    status, problem = "failed", None
    try:
        with open_store(config.storage.database) as store:
            result = ingest_run(
                client,
                store,
                run_id,
                names,
                keep_going=lambda: _workers_remain(client, run_id, children, workers),
            )
        status = "finished" if result.complete else "interrupted"
        if not result.complete:
            problem = f"every worker stopped before the frontier drained; {_resume_hint(run_id)}"
    except redis_errors() as exc:
        status = "interrupted"
        problem = f"{display_url(config.cluster.redis)}: Redis went away ({exc}); " + _resume_hint(
            run_id
        )
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        _stop_workers(children, wait=status == "finished")
        stats = _finish(config, client, run_id, names, status)
    if problem:
        raise GrayhoundError(problem)
    with open_store(config.storage.database) as store:
        return {"run_id": run_id, "status": status, **store.get_run(run_id), "figures": stats}


def open_run(client, config: Config, names: list[str], *, fresh: bool = False) -> int:
    """The run to crawl into: the unfinished one of these sources (as `crawl` does on one
    machine; --fresh abandons it), else a new one. A run whose frontier Redis still holds
    simply continues; one Redis lost (or a one-machine run) is seeded again from its start
    URLs: observations are unique per listing and run, so nothing is counted twice."""
    with open_store(config.storage.database) as store:
        previous = store.resumable_run(names)
        if previous is not None and fresh:
            store.abandon_run(previous["id"], utc_now())
            previous = None
        if previous is not None:
            run_id = previous["id"]
            store.reopen_run(run_id)
            run = read_run(client, run_id)
            if run and run["status"] == "crawling" and current_run(client) == run_id:
                print(
                    f"crawl: continuing crawl run {run_id} from its Redis frontier", file=sys.stderr
                )
                return run_id
            print(f"crawl: continuing crawl run {run_id} from its start URLs", file=sys.stderr)
        else:
            run_id = store.start_run(names, utc_now(), config_hash(config))
    stale = list(client.scan_iter(match=RunKeys(run_id).base + ":*"))
    if stale:  # an earlier frontier of this id that cannot be trusted (or another database's)
        client.delete(*stale)
    for name in names:
        seeded = seed_frontier(client, run_id, config.source(name))
        logger.info("seeded %d start requests of %s", seeded, name)
    publish_run(client, run_id, names, config_hash(config), config.cluster.worker_timeout)
    return run_id


def seed_frontier(client, run_id: int, source: Source) -> int:
    """Queue the source's start requests once, marking them seen so no worker refetches them."""
    from scrapy_redis.dupefilter import RFPDupeFilter

    from crawler.spiders import spider_for

    spider = spider_for(source.kind)(source=source)
    frontier = Frontier(client, RunKeys(run_id), source.name)
    fingerprints = RFPDupeFilter(client, frontier.dupefilter)

    async def collect():
        return [request async for request in spider.start()]

    requests = asyncio.run(collect())
    return sum(
        frontier.push(encode_request(r, spider), r.priority, fingerprints.request_fingerprint(r))
        for r in requests
    )


def spawn_worker(config: Config, run_id: int, verbose: bool) -> subprocess.Popen:
    command = [sys.executable, "-m", "grayhound", "--config", str(config.path)]
    command += ["-v"] if verbose else []
    command += ["worker", "--once", "--run", str(run_id)]
    # A worker's stdout is not the crawl's: the summary on stdout belongs to the coordinator.
    return subprocess.Popen(command, stdout=sys.stderr)


def _workers_remain(client, run_id: int, children: list, workers: int) -> bool:
    """Keep waiting while a local worker runs or any worker anywhere still beats."""
    if workers == 0 or any(child.poll() is None for child in children):
        return True
    return bool(live_workers(client, run_id))


def _stop_workers(children: list[subprocess.Popen], *, wait: bool) -> None:
    deadline = time.monotonic() + (STOP_GRACE_SECONDS if wait else 5)
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _finish(config: Config, client, run_id: int, names: list[str], status: str) -> dict:
    with open_store(config.storage.database) as store:
        try:
            return finish_cluster_run(client, store, run_id, names, status)
        except redis_errors():  # no figures without Redis; the run still ends, resumable
            store.finish_run(run_id, utc_now(), status, {"sources": {}})
            return {"sources": {}}


def _resume_hint(run_id: int) -> str:
    return (
        f"crawl run {run_id} is interrupted with everything received so far stored; "
        "run `grayhound crawl` again to resume it"
    )
