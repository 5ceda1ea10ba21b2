"""The one place where grayhound's configuration becomes Scrapy settings."""

from __future__ import annotations

from pathlib import Path

from grayhound.config import Config, Source

# Lower numbers run first on requests. Allowed-hosts runs before robots.txt so that an
# off-site redirect is refused before anything (even robots.txt) is fetched from that host.
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.AllowedHostsMiddleware": 50,
    # Scrapy's own lets requests through while robots.txt is still downloading (see there).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxtMiddleware": 100,
    # Above RetryMiddleware (550), so a 503/429 with Retry-After is seen before its plain retry.
    "crawler.middlewares.RetryAfterMiddleware": 560,
    # Above RedirectMiddleware (600): a looping redirect is named before it is followed.
    "crawler.middlewares.RedirectLoopMiddleware": 610,
    # render = true: page requests go to the browser, whose every request comes back through
    # this chain (a no-op for the requests of other sources).
    "crawler.render.RenderMiddleware": 900,
    # Next to the downloader: sees every response as received, before decompression.
    "crawler.capture.middleware.CaptureMiddleware": 950,
}
SPIDER_MIDDLEWARES = {
    # Next to the spider: sees a callback's exception first, turns it into a failure item.
    "crawler.middlewares.CallbackErrorMiddleware": 990,
}
ITEM_PIPELINES = {"crawler.pipelines.StorePipeline": 300}
EXTENSIONS = {"crawler.progress.CrawlProgress": 500}


def scrapy_settings(config: Config, *, run_id: int, log_level: str = "WARNING") -> dict:
    crawl = config.crawl
    return {
        "BOT_NAME": "grayhound",
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "CONCURRENT_REQUESTS": max(crawl.concurrency, 1) * max(len(config.sources), 1),
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_download_size,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": crawl.retries > 0,
        "RETRY_TIMES": crawl.retries,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": 0.1,
        "AUTOTHROTTLE_MAX_DELAY": 10.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrency),
        "DOWNLOAD_DELAY": 0,
        "DEPTH_LIMIT": crawl.depth_limit,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": log_level,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "DOWNLOADER_MIDDLEWARES": DOWNLOADER_MIDDLEWARES,
        "SPIDER_MIDDLEWARES": SPIDER_MIDDLEWARES,
        "ITEM_PIPELINES": ITEM_PIPELINES,
        "EXTENSIONS": EXTENSIONS,
        "GRAYHOUND_MAX_RETRY_AFTER": crawl.max_retry_after,
        "GRAYHOUND_RUN_ID": run_id,
        "GRAYHOUND_DATABASE": str(config.storage.database),
        "GRAYHOUND_EVIDENCE_DIR": str(config.storage.evidence_dir),
    }


GC_THRESHOLD = (10_000, 10, 10)  # Python's default is (700, 10, 10)


def tune_process(log_level: str) -> None:
    """Once per crawling process, after start-up and before the reactor runs.

    Logs: Scrapy leaves its loggers at NOTSET and filters in the handler, so every per-request
    and per-item debug message was built and thrown away; they stop at the logger now.
    Garbage collection: a crawl allocates a few hundred thousand short-lived objects per second
    (requests, responses, parse trees). With Python's defaults the collector ran ~1 time per
    page and took ~11 % of the crawl's CPU (measured with gc.callbacks: 7.6 s of 66 s for 5,352
    pages), mostly re-scanning the long-lived start-up objects. Those are frozen out of
    collection and young objects are collected every 10,000 allocations: 1.0-1.5 s, ~2 %."""
    import gc
    import logging

    logging.getLogger("scrapy").setLevel(log_level)
    for handler in logging.getLogger().handlers:
        handler.addFilter(TerminalSafeLog())
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


# A `pages` source spreads its requests over this many hosts at once at most (each host still
# gets at most [crawl] concurrency requests in flight).
MAX_PAGES_HOSTS_AT_ONCE = 16


class TerminalSafeLog:
    """A log filter: crawl logs quote URLs, titles and server messages, so each message is
    written without escape sequences or control characters."""

    def filter(self, record) -> bool:
        from grayhound.text import terminal_text

        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: leave it as is
            return True
        record.msg, record.args = terminal_text(message, lines=True), None
        return True


def source_settings(source: Source, config: Config | None = None) -> dict:
    """Per-source overrides (each source is its own Scrapy crawler)."""
    settings: dict = {}
    if source.max_pages:
        settings["CLOSESPIDER_PAGECOUNT"] = source.max_pages
    if config is not None and source.kind == "pages":
        hosts = len(source.allowed_hosts) or 1
        concurrency = max(config.crawl.concurrency, 1)
        settings["CONCURRENT_REQUESTS"] = concurrency * min(hosts, MAX_PAGES_HOSTS_AT_ONCE)
    if source.render:
        from crawler.render import render_settings

        settings.update(render_settings(config, source))
    return settings


def job_dir(config: Config, source: Source) -> Path:
    """Scrapy's JOBDIR (the saved frontier) of one source; see crawler.resume."""
    from crawler.capture.warc import source_file_part  # a source name never escapes the jobs folder

    return config.storage.evidence_dir.parent / ".grayhound-jobs" / source_file_part(source.name)
