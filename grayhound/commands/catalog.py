"""`grayhound catalog check`: which catalog model each title matches and why."""

from __future__ import annotations

import json
import sys

import click

from grayhound.commands import config_option, current_config, force_option, open_output
from grayhound.commands.outputs import check_output
from grayhound.errors import UsageError

FORMATS = ("table", "json")
# What every earlier output carries: the table's first line, the JSON's keys.
CHECK_MARKS = (b" matched a catalog model, ", b'"never_matched": ')


@click.group()
def catalog() -> None:
    """The catalog against real titles."""


@catalog.command()
@click.option(
    "--titles",
    "titles_path",
    default=None,
    help="A file of titles, one a line ('-' for stdin); default: every stored listing.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--out", default=None, help="Output file (default stdout; '-' for stdout).")
@force_option
@config_option
def check(titles_path: str | None, fmt: str, out: str | None, force: bool) -> None:
    """For each stored listing (or each title given), the catalog model it matches and the
    tokens that made it match, or why none does; the titles that match nothing, grouped by
    the tokens they share (a missing catalog model shows as one group); the catalog models no
    title matched.

    Example: printf 'Google Pixel 8a 128GB\\nPixel 9 Pro 256GB\\n' | grayhound catalog check --titles -"""
    from detectors import BrandBook
    from detectors.catalogcheck import check_titles
    from reports.catalogcheck import render_table

    config = current_config()
    target = {"config": config, "marks": CHECK_MARKS, "force": force}
    if out not in (None, "-"):
        check_output(out, **target)  # before the titles are read and matched
    book = BrandBook.from_config(config)
    titles = _from_file(titles_path) if titles_path else _from_store(config)
    data = check_titles(titles, book).to_dict()
    with open_output(out, **target) as stream:
        if fmt == "json":
            stream.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        else:
            stream.write(render_table(data))


def _from_file(path: str) -> list[tuple[None, str, None]]:
    if path == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError as exc:
            raise UsageError(f"{path}: cannot read titles: {exc.strerror or exc}") from None
    return [(None, line.strip(), None) for line in text.splitlines() if line.strip()]


def _from_store(config):
    from grayhound.store import open_store

    with open_store(config.storage.database, create=False) as store:
        return [
            (str(row["id"]), row["title"] or "", row["brand"])
            for row in store.export_rows()
            if row["title"]
        ]


COMMANDS = [catalog]
