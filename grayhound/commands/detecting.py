"""`grayhound detect` and `grayhound score`."""

from __future__ import annotations

import json
import sys

import click

from grayhound.commands import config_option, current_config


@click.command()
@config_option
def detect() -> None:
    """Score every seller, domain and listing in the database and store the findings.

    Idempotent: an unchanged judgement is not stored again; a changed one is appended and
    the previous one kept as history.

    Example: grayhound detect && grayhound export listings --format csv"""
    from grayhound.detection import detect_findings

    config = current_config()
    warn_about(config)
    counts = detect_findings(config)
    click.echo(
        f"judged {counts['listings']} listings and {counts['sellers']} sellers: "
        f"{counts['flagged_listings']} listings flagged, {counts['risky_sellers']} risky sellers "
        f"({counts['new']} new findings, {counts['changed']} changed, "
        f"{counts['unchanged']} unchanged)"
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
