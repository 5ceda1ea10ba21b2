"""`grayhound crawl`, `grayhound export listings` and `grayhound export sellers`."""

from __future__ import annotations

import os

import click

from grayhound.commands import config_option, current_config, force_option, open_output, verbose
from grayhound.commands.cluster import workers_option
from grayhound.errors import GrayhoundError

# What every earlier listings export carries (CSV header, JSON lines' keys).
LISTING_MARKS = (b"id,url,canonical_url,source,title,", b'"canonical_url": ')
# What every earlier sellers export carries (CSV header, JSON lines' keys).
SELLER_MARKS = (b"id,source,name,aliases,profile_urls,", b'"profile_urls": ')


@click.command()
@click.option("--source", "sources", multiple=True, help="Crawl only this source (repeatable).")
@click.option(
    "--fresh", is_flag=True, help="Start a new run instead of continuing an unfinished one."
)
@config_option
@workers_option
def crawl(sources: tuple[str, ...], fresh: bool) -> int:
    """Crawl the configured sources, store listings and sellers, record a crawl run.

    Progress (pages, listings, errors per source) goes to stderr; the summary to stdout.
    A crawl of the same sources that was killed or stopped is continued under its run id.

    Example: grayhound crawl --source bazaar"""
    from crawler.runner import PARENT_VARIABLE, run_crawl
    from grayhound.store import open_store
    from reports.crawlsummary import format_run_summary

    # the crawl of `grayhound run` gets SIGTERM when that process dies: the crawl's own
    # handler, set as it begins, stops it as any SIGTERM does
    parent = os.environ.pop(PARENT_VARIABLE, "")
    if parent.isdigit():
        from grayhound.workers import end_with_parent

        end_with_parent(int(parent))
    config = current_config()
    level = "INFO" if verbose() else "WARNING"
    summary = run_crawl(config, list(sources), log_level=level, fresh=fresh)
    with open_store(config.storage.database) as store:
        failures = store.failures(summary["run_id"])
    click.echo(format_run_summary(summary, failures))
    if summary.get("error"):  # the store or the evidence could not be written
        raise GrayhoundError(f"crawl run {summary['run_id']} interrupted: {summary['error']}")
    return 0 if summary["status"] == "finished" else 1


@click.group()
def export() -> None:
    """Export stored data."""


@export.command("listings")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--out", default=None, help="Output file (default stdout; '-' for stdout).")
@force_option
@config_option
def export_listings(fmt: str, out: str | None, force: bool) -> None:
    """Every listing in its latest state, with its judgement (the export contract fields).

    Example: grayhound export listings --format csv --out listings.csv"""
    from grayhound.store import open_store
    from reports.exports import export_listings as write_listings

    config = current_config()
    with open_store(config.storage.database, create=False) as store:
        with open_output(out, config=config, marks=LISTING_MARKS, force=force) as stream:
            count = write_listings(store, fmt, stream)
    if out not in (None, "-"):
        click.echo(f"wrote {count} listings to {out}", err=True)


@export.command("sellers")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--out", default=None, help="Output file (default stdout; '-' for stdout).")
@force_option
@config_option
def export_sellers(fmt: str, out: str | None, force: bool) -> None:
    """Every seller: its names and aliases, profile URLs, claimed domains, verdict, risk and
    reasons, listing and flag counts, network, and every identifier with where it was read.

    Example: grayhound export sellers --format csv --out sellers.csv"""
    from grayhound.store import open_store
    from reports.exports import write_sellers

    config = current_config()
    with open_store(config.storage.database, create=False) as store:
        with open_output(out, config=config, marks=SELLER_MARKS, force=force) as stream:
            count = write_sellers(store.seller_rows(), fmt, stream)
    if out not in (None, "-"):
        click.echo(f"wrote {count} sellers to {out}", err=True)


COMMANDS = [crawl, export]
