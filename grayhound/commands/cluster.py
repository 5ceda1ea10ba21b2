"""`grayhound worker`, `grayhound ingest` and `crawl --workers N`: crawling on several machines
through the [cluster] Redis (see README, "Running on several machines")."""

from __future__ import annotations

import functools
import subprocess
import sys
import time

import click

from grayhound.commands import (
    MAX_LOCAL_WORKERS,
    STORE_ID,
    config_option,
    current_config,
    verbose,
)
from grayhound.config import Config
from grayhound.errors import UsageError

WAIT_POLL_SECONDS = 1.0  # how often an idle `grayhound worker` looks for a published run


def workers_option(command):
    """Add `--workers N` to `grayhound crawl`: with [cluster], the crawl is coordinated through
    Redis (N local workers, default 1); without it the command runs as it always has."""

    @click.option(
        "--workers",
        type=click.IntRange(min=0, max=MAX_LOCAL_WORKERS),
        default=None,
        help="With [cluster]: local worker processes (default 1; 0 = workers elsewhere only).",
    )
    @functools.wraps(command)
    def wrapper(*args, workers=None, **kwargs):
        config = current_config()
        if config.cluster.redis:
            return crawl_with_workers(config, kwargs.get("sources", ()), workers, kwargs)
        if workers not in (None, 1):
            raise UsageError(f'{config.path}: --workers needs [cluster] redis = "redis://..."')
        return command(*args, **kwargs)

    return wrapper


def crawl_with_workers(config: Config, sources, workers: int | None, options: dict) -> int:
    from crawler.cluster.coordinator import run_cluster_crawl
    from grayhound.store import open_store
    from reports.crawlsummary import format_run_summary

    summary = run_cluster_crawl(
        config,
        list(sources),
        workers=1 if workers is None else workers,
        verbose=verbose(),
        fresh=bool(options.get("fresh")),
    )
    with open_store(config.storage.database) as store:
        failures = store.failures(summary["run_id"])
    click.echo(format_run_summary(summary, failures))
    return 0 if summary["status"] == "finished" else 1


@click.command()
@click.option("--once", is_flag=True, help="Work one crawl run, then exit.")
@click.option(
    "--run", "run_id", type=STORE_ID, default=None, help="Join this run (default: current)."
)
@config_option
def worker(once: bool, run_id: int | None) -> int:
    """Crawl pages of the current distributed run alongside other machines; wait for the next.

    Needs the same config file as the coordinator ([cluster] redis, the sources) and the shared
    evidence directory. Items go through Redis to the one writer; SQLite is never opened here.

    Example: grayhound --config grayhound.toml worker"""
    from crawler.cluster.state import connect, new_worker_id

    config = _cluster_config()
    client = connect(config.cluster.redis)
    if once or run_id is not None:
        return _work_one_run(config, run_id or _wait_for_run(client, set()), new_worker_id())
    done: set[int] = set()
    while True:  # each run in a child process: Twisted's reactor runs once per process
        run = _wait_for_run(client, done)
        command = [sys.executable, "-m", "grayhound", "--config", str(config.path)]
        command += ["-v"] if verbose() else []
        subprocess.run([*command, "worker", "--once", "--run", str(run)], check=False)
        done.add(run)


def _work_one_run(config: Config, run_id: int, worker_id: str) -> int:
    from crawler.cluster.state import display_url
    from crawler.cluster.worker import run_worker
    from grayhound.errors import GrayhoundError

    click.echo(f"worker {worker_id}: joining crawl run {run_id}", err=True)
    reasons = run_worker(config, run_id, worker_id, log_level="INFO" if verbose() else "WARNING")
    if "redis_unavailable" in reasons.values():
        raise GrayhoundError(
            f"{display_url(config.cluster.redis)}: Redis went away during crawl run {run_id}; "
            "this worker stopped, the run resumes when Redis is back"
        )
    click.echo(f"worker {worker_id}: crawl run {run_id} done ({_reasons(reasons)})", err=True)
    return 0 if set(reasons.values()) <= {"finished"} else 1


def _reasons(reasons: dict) -> str:
    return ", ".join(f"{source}: {reason}" for source, reason in reasons.items())


def _wait_for_run(client, done: set[int]) -> int:
    from crawler.cluster.state import current_run, read_run

    announced = False
    while True:
        run_id = current_run(client)
        run = read_run(client, run_id) if run_id else None
        if run and run["status"] == "crawling" and run_id not in done:
            return run_id
        if not announced:
            click.echo("worker: waiting for a crawl run to be published", err=True)
            announced = True
        time.sleep(WAIT_POLL_SECONDS)


@click.command()
@click.option(
    "--run", "run_id", type=STORE_ID, default=None, help="Ingest this run (default: current)."
)
@click.option(
    "--follow/--no-follow",
    default=True,
    help="Keep writing until the run's frontier drains (default), or stop when Redis is empty.",
)
@config_option
def ingest(run_id: int | None, follow: bool) -> int:
    """Be the store writer of a distributed crawl: write what workers send into SQLite.

    `grayhound crawl` ingests by itself; run this when its coordinator died (the run then
    finishes here) or to drain what Redis still holds.

    Example: grayhound ingest --run 12"""
    from crawler.cluster.ingest import finish_cluster_run, ingest_run
    from crawler.cluster.state import connect, current_run, read_run
    from grayhound.errors import GrayhoundError
    from grayhound.store import open_store

    config = _cluster_config()
    client = connect(config.cluster.redis)
    run_id = run_id or current_run(client)
    run = read_run(client, run_id) if run_id else None
    if run is None or run["status"] != "crawling":
        raise GrayhoundError(f"{config.cluster.redis}: no crawl run to ingest")
    with open_store(config.storage.database) as store:
        result = ingest_run(client, store, run_id, run["sources"], follow=follow)
        if result.complete:
            finish_cluster_run(client, store, run_id, run["sources"], "finished")
    state = "complete" if result.complete else "still crawling"
    click.echo(f"ingested {result.items} items of crawl run {run_id} ({state})")
    return 0


def _cluster_config() -> Config:
    config = current_config()
    if not config.cluster.redis:
        raise UsageError(f'{config.path}: this command needs [cluster] redis = "redis://..."')
    return config


COMMANDS = [worker, ingest]
