"""Run a crawl in this process: one Scrapy crawler per source, one crawl run in the store.

Twisted's reactor cannot restart, so this runs once per process; long-lived callers (the
schedule, the demo's later steps) call `crawl_in_subprocess` instead."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from grayhound.config import Config, Source
from grayhound.errors import GrayhoundError
from grayhound.store import open_store, utc_now


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
    config: Config, source_names: list[str] | None = None, *, log_level="WARNING"
) -> dict:
    """Crawl the selected sources; return the finished crawl run's summary."""
    from scrapy.crawler import CrawlerProcess

    from crawler.settings import scrapy_settings, source_settings
    from crawler.spiders import spider_for

    sources = selected_sources(config, source_names)
    with open_store(config.storage.database) as store:
        run_id = store.start_run([s.name for s in sources], utc_now(), config_hash(config))
    process = CrawlerProcess(scrapy_settings(config, run_id=run_id, log_level=log_level))
    crawlers = []
    status = "failed"
    try:
        for source in sources:
            base = spider_for(source.kind)
            spidercls = type(base.__name__, (base,), {"custom_settings": source_settings(source)})
            crawler = process.create_crawler(spidercls)
            crawlers.append(crawler)
            process.crawl(crawler, source=source)
        process.start()
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        stats = _collect_stats(crawlers)
        with open_store(config.storage.database) as store:
            store.finish_run(run_id, utc_now(), status, stats)
    with open_store(config.storage.database) as store:
        return {"run_id": run_id, "status": status, **store.get_run(run_id), "figures": stats}


def _collect_stats(crawlers) -> dict:
    sources, scrapy_stats = {}, {}
    for crawler in crawlers:
        spider = crawler.spider
        if spider is None:
            continue
        sources[spider.name] = dict(spider.figures)
        scrapy_stats[spider.name] = {
            k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, int | float | str)
        }
    return {"sources": sources, "scrapy": scrapy_stats}


def crawl_in_subprocess(config_path: Path, source_names: list[str] | None = None) -> int:
    """Run `grayhound crawl` in a child process (a fresh reactor); return its exit code."""
    command = [sys.executable, "-m", "grayhound", "--config", str(config_path), "crawl"]
    for name in source_names or ():
        command += ["--source", name]
    return subprocess.run(command, check=False).returncode
