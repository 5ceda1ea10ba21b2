"""`grayhound demo`: the whole loop on the bundled fixture sites served on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

from grayhound.config import Config, Source
from grayhound.store import open_store


def demo_ports(config: Config) -> dict[str, int]:
    """The loopback ports the config expects each fixture site on."""
    ports = {}
    for source in config.sources:
        parts = urlsplit(source.start_urls[0])
        if parts.hostname == "127.0.0.1" and parts.port:
            ports[source.name] = parts.port
    return ports


def rebase_sources(config: Config, urls: dict[str, str]) -> Config:
    """Point each source at the port its fixture site actually got."""
    sources = []
    for source in config.sources:
        if source.name not in urls:
            sources.append(source)
            continue
        new_origin = urls[source.name]
        new_host = urlsplit(new_origin).netloc
        sources.append(_rebased(source, new_origin, new_host))
    return replace(config, sources=tuple(sources))


def _rebased(source: Source, origin: str, host: str) -> Source:
    old = urlsplit(source.start_urls[0])
    old_origin = f"{old.scheme}://{old.netloc}"
    return replace(
        source,
        start_urls=tuple(u.replace(old_origin, origin, 1) for u in source.start_urls),
        allowed_hosts=tuple(host if h == old.netloc else h for h in source.allowed_hosts),
    )


def run_demo(config: Config, echo: Callable[[str], None] = print) -> dict:
    from crawler.runner import run_crawl
    from grayhound.demo.sites import serve_sites
    from grayhound.pipeline import after_crawl

    echo("grayhound demo: serving the bundled fixture sites on 127.0.0.1")
    with serve_sites(demo_ports(config)) as sites:
        for name, url in sites.urls.items():
            echo(f"  {name}: {url}")
        config = rebase_sources(config, sites.urls)
        started = time.monotonic()
        summary = run_crawl(config)
        elapsed = time.monotonic() - started
    echo(
        f"crawled {summary['pages_fetched']} pages in {elapsed:.1f} s (crawl run "
        f"{summary['run_id']}, {summary['status']}): {summary['listings_extracted']} product "
        "offers, the same listing reached by several URLs counted once per URL"
    )
    outputs = after_crawl(config, summary["run_id"], echo=echo)
    with open_store(config.storage.database) as store:
        echo(
            f"database: {config.storage.database} ({store.count('listings')} listings, "
            f"{store.count('sellers')} sellers, {store.count('observations')} observations)"
        )
    for label, path in outputs.items():
        echo(f"{label}: {path}")
    return {"summary": summary, "outputs": outputs, "seconds": elapsed}
