"""Run a crawl in this process: one Scrapy crawler per source, one crawl run in the store.

Twisted's reactor cannot restart, so this runs once per process; `grayhound run` (which the
schedule runs) calls `crawl_in_subprocess` instead."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from grayhound.config import Config, Source
from grayhound.errors import GrayhoundError
from grayhound.store import open_store, utc_now
from grayhound.store.crawldata import LogCompactionError


def config_hash(config: Config) -> str:
    try:
        return hashlib.sha256(Path(config.path).read_bytes()).hexdigest()
    except OSError:
        return ""


def selected_sources(config: Config, names: list[str] | None) -> list[Source]:
    if not config.sources:
        raise GrayhoundError(f"{config.path}: no [[sources]] to crawl")
    if not names:
        return list(config.sources)
    return [config.source(name) for name in names]


def run_crawl(
    config: Config,
    source_names: list[str] | None = None,
    *,
    log_level="WARNING",
    fresh: bool = False,
) -> dict:
    """Crawl the selected sources; return the crawl run's summary.

    An unfinished run of the same sources is continued (crawler.resume) unless `fresh`."""
    from crawler.resume import crawl_lock

    sources = selected_sources(config, source_names)
    with crawl_lock(config):
        return _crawl_locked(config, sources, log_level, fresh)


def _crawl_locked(config: Config, sources: list[Source], log_level: str, fresh: bool) -> dict:
    from scrapy.crawler import CrawlerProcess

    from crawler.resume import close_frontiers, job_settings, merge_stats, open_run
    from crawler.settings import scrapy_settings, source_settings, tune_process
    from crawler.spiders import spider_for

    with open_store(config.storage.database) as store:
        run_id, previous = open_run(store, config, sources, config_hash(config), fresh)
    process = CrawlerProcess(scrapy_settings(config, run_id=run_id, log_level=log_level))
    crawlers = []
    status, why, forced = "failed", None, False
    try:
        for source in sources:
            base = spider_for(source.kind)
            custom = {**source_settings(source, config), **job_settings(config, source)}
            spidercls = type(base.__name__, (base,), {"custom_settings": custom})
            crawler = process.create_crawler(spidercls)
            crawlers.append(crawler)
            process.crawl(crawler, source=source)
        tune_process(log_level)
        process.start()
        status = _status(crawlers)
        forced = _unclosed(crawlers)
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        stats = merge_stats(previous, _collect_stats(crawlers))
        why = _stopped_because(crawlers)
        if why:  # the store or the evidence could not be written: the run is not complete
            status = "interrupted"
        # A crawl that lost items must fetch their pages again: its frontier is not kept; nor
        # is the frontier of spiders stopped at once, whose queues were never closed.
        close_frontiers(config, sources, "lost" if why or forced else status)
        _finish_run(config, run_id, status, stats, why)
    with open_store(config.storage.database) as store:
        run = store.get_run(run_id)
    return {"run_id": run_id, "status": status, **run, "error": why, "figures": stats}


def _finish_run(config: Config, run_id: int, status: str, stats: dict, why: str | None) -> None:
    try:
        with open_store(config.storage.database) as store:
            store.finish_run(run_id, utc_now(), status, stats, error=why)
    except LogCompactionError as exc:  # the end is recorded: only the housekeeping failed
        if not why:
            raise
        raise GrayhoundError(f"crawl run {run_id} stopped: {why}; {exc}") from None
    except (sqlite3.Error, GrayhoundError) as exc:
        if not why:
            raise
        raise GrayhoundError(
            f"crawl run {run_id} stopped: {why}; the run could not be marked interrupted"
            f" either ({exc}); the next crawl continues it"
        ) from None


def _status(crawlers) -> str:
    """finished, or interrupted when a spider was stopped (Ctrl-C, SIGTERM) before its end or
    never closed (`_unclosed`)."""
    reasons = {crawler.stats.get_value("finish_reason") for crawler in crawlers}
    stopped = reasons & {"shutdown", "cancelled"} or _unclosed(crawlers)
    return "interrupted" if stopped else "finished"


def _unclosed(crawlers) -> bool:
    """Whether a spider never closed: a second Ctrl-C or SIGTERM makes Scrapy stop at once
    ("forcing unclean shutdown"), and a spider stopped so keeps no finish reason (it was
    recorded `finished`, and its frontier thrown away)."""
    return any(crawler.stats.get_value("finish_reason") is None for crawler in crawlers)


def _stopped_because(crawlers) -> str | None:
    """Why the crawl stopped early because something could not be written, if it did."""
    from crawler.capture.middleware import STOPPED_BECAUSE

    causes = [crawler.stats.get_value(STOPPED_BECAUSE) for crawler in crawlers]
    return "; ".join(dict.fromkeys(cause for cause in causes if cause)) or None


def _collect_stats(crawlers) -> dict:
    """Per source, the spider's figures, with what reached the store counted from the batches
    actually committed (crawler.pipelines): a batch the store refused is not a listing."""
    from crawler.pipelines import COMMITTED

    sources, scrapy_stats = {}, {}
    for crawler in crawlers:
        spider = crawler.spider
        if spider is None:
            continue
        figures = dict(spider.figures)
        for name in ("listings", "failures", *(k for k in figures if k.startswith("with_"))):
            figures[name] = crawler.stats.get_value(COMMITTED + name, 0)
        sources[spider.name] = figures
        scrapy_stats[spider.name] = {
            k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, int | float | str)
        }
    return {"sources": sources, "scrapy": scrapy_stats}


def crawl_in_subprocess(config_path: Path, source_names: list[str] | None = None) -> int:
    """Run `grayhound crawl` in a child process (a fresh reactor); return its exit code.

    Stopped while the crawl runs, this process waits for the crawl to stop, then stops too
    (KeyboardInterrupt, `Terminated`: `grayhound run` neither detects nor digests after it).
    A terminal's Ctrl-C reaches the crawl itself (one process group); SIGTERM is passed on
    to it, the first one only (`kill` and the schedule signal this process alone). The crawl
    stops as a crawl stopped by that signal does: requests in flight finish, the frontier is
    saved, the run is `interrupted`. A second signal to the crawl (a second Ctrl-C; SIGTERM
    sent to every process of a service as well as passed on) stops it at once, its run
    still `interrupted` (`_status`). Should this process die first (SIGKILL), the crawl gets
    SIGTERM (`PARENT_VARIABLE`, Linux). Before, `subprocess.run` killed the crawl (SIGKILL)
    0.25 s after a Ctrl-C, and SIGTERM ended this process alone, the crawl crawling on."""
    from grayhound.errors import Terminated

    command = [sys.executable, "-m", "grayhound", "--config", str(config_path), "crawl"]
    for name in source_names or ():
        command += ["--source", name]
    env = dict(os.environ)
    if sys.platform.startswith("linux"):
        env[PARENT_VARIABLE] = str(os.getpid())
    if threading.current_thread() is not threading.main_thread():  # no handler can be set
        return subprocess.run(command, check=False, env=env).returncode
    received: list[int] = []
    child: subprocess.Popen | None = None
    passed = False  # the first SIGTERM passed on

    def pass_on() -> None:
        nonlocal passed
        if signal.SIGTERM in received and child is not None and not passed:
            passed = True
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)

    def stop(signum, _frame) -> None:
        received.append(signum)
        pass_on()

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        if not received:  # a signal before the crawl began: it does not begin
            child = subprocess.Popen(command, env=env)
            pass_on()  # one that came as it began
            code = child.wait()  # a signal's handler runs and the wait goes on
    finally:
        if child is not None and child.poll() is None:  # stopped by an error of another kind
            child.terminate()
            child.wait()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if signal.SIGTERM in received:
        raise Terminated(signal.SIGTERM)
    if received:
        raise KeyboardInterrupt
    return code


PARENT_VARIABLE = "GRAYHOUND_CRAWL_PARENT"  # the process a crawl ends with (`crawl_in_subprocess`)
