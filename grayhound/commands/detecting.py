"""`grayhound detect` and `grayhound score`."""

from __future__ import annotations

import json
import sys

import click

from grayhound.commands import config_option, current_config


@click.command()
@click.option(
    "--full",
    is_flag=True,
    help="Judge every listing and seller again, not only what changed since the last detection.",
)
@config_option
def detect(full: bool) -> None:
    """Score the sellers, domains and listings that changed since the last detection (new or
    changed listings and sellers, a changed config section: everything it affects), and what
    depends on them (peer prices, seller verdicts, networks); store the findings.

    Idempotent: an unchanged judgement is not stored again; a changed one is appended and
    the previous one kept as history. The findings are those a --full run gives.

    Example: grayhound detect && grayhound export listings --format csv"""
    from grayhound.pipeline import detect as detect_changes

    config = current_config()
    warn_about(config)
    counts = detect_changes(config, full=full)
    for sentence in counts["said"]:
        click.echo(f"detect: {sentence}")
    click.echo(summary(counts))


def summary(counts: dict) -> str:
    """What a detection did and what the store now holds, in one line."""
    work = counts["work"]
    return (
        f"judged {work.get('listings_judged', 0):,} of {counts['listings']:,} listings"
        f" ({work.get('titles_read', 0):,} titles read) and"
        f" {work.get('sellers_given_verdicts', 0):,} of {counts['sellers']:,} sellers:"
        f" {counts['flagged_listings']:,} listings flagged, {counts['risky_sellers']:,} risky"
        f" sellers, {counts['networks']:,} networks ({counts['new']:,} new findings,"
        f" {counts['changed']:,} changed, {counts['unchanged']:,} unchanged)"
    )


@click.command()
@click.option(
    "--kind",
    type=click.Choice(["auto", "name", "domain"]),
    default="auto",
    show_default=True,
    help="auto: a line with a dot and no spaces is a domain, anything else a name.",
)
@config_option
def score(kind: str) -> None:
    """Score seller names or domains read one per line from stdin; one JSON object per line out.

    Example: printf 'xiaomi-store.shop\\nMi Official Shop\\n' | grayhound score"""
    from detectors import BrandBook, score_input
    from grayhound.text import terminal_json

    config = current_config()
    warn_about(config)
    book = BrandBook.from_config(config)
    out = sys.stdout
    for raw in sys.stdin:
        line = raw.rstrip("\r\n")
        finding = score_input(line, kind, book)
        out.write(terminal_json(json.dumps(finding.to_dict(), ensure_ascii=False)) + "\n")
    out.flush()


def warn_about(config) -> None:
    """The config check's warnings (a strong term that is an everyday word), on stderr: they
    matter where names and domains are judged."""
    for warning in config.warnings:
        click.echo(f"grayhound: warning: {warning}", err=True)


COMMANDS = [detect, score]
