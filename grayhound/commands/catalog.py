"""`grayhound catalog check`: which catalog model each title matches and why."""

from __future__ import annotations

import json
import sys
from hashlib import sha256

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
    from detectors.catalogcheck import group_unmatched
    from reports.catalogcheck import write_check

    config = current_config()
    target = {"config": config, "marks": CHECK_MARKS, "force": force}
    if out not in (None, "-"):
        check_output(out, **target)  # before the titles are read and matched
    book = BrandBook.from_config(config)
    report = (
        [model.model for model in config.catalog],
        lambda titles: [group.to_dict() for group in group_unmatched(titles, book)],
        fmt,
    )
    if titles_path:
        checks = _read_titles(_from_file(titles_path), book)
        with open_output(out, **target) as stream:
            write_check(checks, *report, stream)
        return
    from grayhound.store import open_store

    with open_store(config.storage.database, create=False) as store:
        with open_output(out, **target) as stream:
            _write_stored_check(store, config, book, report, stream)


def _read_titles(titles, book):
    """The check of each (listing id, title, brand): the title and the brand only are read."""
    from detectors.catalog import read_title
    from detectors.catalogcheck import TitleCheck

    for listing_id, title, brand in titles:
        reading = read_title(book.catalog, title, brand=book.brand_id(brand))
        yield TitleCheck(
            title,
            reading.model.model if reading.model else None,
            reading.model_reason,
            reading.kind,
            reading.attributes,
            listing_id,
        ).to_dict()


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


def _write_stored_check(store, config, book, report: tuple, stream) -> None:
    """The check of every stored title written as `write_check` writes it (`report`: its
    catalog models, grouping and format), a large store in ranges of listing ids on every
    CPU (`reports.parallel`), each part reading the same snapshot of the store."""
    import os

    from grayhound.detection.scope import fingerprints
    from reports import parallel
    from reports.catalogcheck import tally, write_check_parts

    marks = fingerprints(config)
    judged_with = "|".join(marks[part] for part in READ_WITH)
    models = {(m.brand, m.model): m for m in config.catalog}
    workers = parallel.worker_count()  # a bad GRAYHOUND_WORKERS is named before the titles
    fmt, parent = report[2], os.getpid()

    def tally_range(ids: tuple[int, int], spool) -> dict:
        with parallel.part_store(store, parent) as reader:
            checks = _stored_checks(reader, judged_with, trust, models, book, ids)
            return tally(checks, fmt, spool)

    with store.shared_snapshot() as snapshot:  # every part reads the store as it is now
        # in the parts' snapshot: whether the last detection read titles as this config does
        # (`tally_range` runs only after this)
        kept_marks = store.detection_marks()
        trust = all(kept_marks.get(f"fingerprint:{part}") == marks[part] for part in READ_WITH)
        # no listing: one empty range
        parts = parallel.listing_ranges(store, snapshot.shared, workers) or [(1, 0)]
        write_check_parts(parts, tally_range, *report, stream, started=snapshot.release)


# The fingerprints a title's reading depends on (`detection.scope`), in the reading key's order.
READ_WITH = ("brands", "catalog", "detectors")


def _stored_checks(store, judged_with: str, trust: bool, models: dict, book, ids: tuple[int, int]):
    """The check of every stored title with its listing id in the closed range `ids`,
    streamed. A title whose reading `grayhound detect` kept for this very title, brand,
    config and detectors code is not read again: model, reason and attributes depend on the
    title and brand only, and the kind of goods on the category too, read again without it
    when the listing has one (catalog check reads titles alone). Any other title is read as
    `--titles` reads it.

    Which kept readings are for the title as it is: with `trust` (the last detection began
    with the fingerprints `judged_with` is made of), every one that no change has queued
    since (`pending_listings`: a write of a listing's title, condition, description, summary,
    brand or category queues it, and a detection, one at a time (`lock.detection_lock`),
    releases it in the transaction that stores its reading), with no key to compute;
    otherwise, and for a queued listing, the one kept under the reading key of the listing's
    facts and `judged_with` (`Store.title_readings` writes its text)."""
    from functools import lru_cache

    from detectors.catalog import MAX_TITLE, reading_from_state
    from detectors.goods import classify_goods

    @lru_cache(maxsize=1 << 14)  # readings repeat: 3,228 distinct at 100,000 listings
    def kept(reading: str):
        found = reading_from_state(json.loads(reading), models)
        if found is None:
            return None
        model = found.model.model if found.model else None
        has_storage = "storage" in found.attributes
        return model, found.model_reason, found.kind, dict(found.attributes), has_storage

    rows = store.title_readings(judged_with, ids, trust=trust)
    for listing_id, title, brand, category, key, reading, trusted, key_text in rows:
        found = None
        if reading and (trusted or (key_text is not None and key == _key_of(key_text))):
            found = kept(reading)
        if found is None:
            yield from _read_titles([(str(listing_id), title, brand)], book)
            continue
        model, reason, kind, attributes, has_storage = found
        if category:
            goods = classify_goods(
                title[:MAX_TITLE], has_storage=has_storage,
                device_words=book.catalog.device_words,
            )  # fmt: skip
            kind = goods.kind
        # TitleCheck(...).to_dict(), without the object (a million of them at scale)
        yield {
            "id": str(listing_id), "title": title, "model": model, "reason": reason,
            "kind": kind, "attributes": dict(attributes),
        }  # fmt: skip


def _key_of(key_text: str) -> str:
    """The key `grayhound detect` keeps a title's reading under (`detection.listings`), from
    the JSON text of what it depends on (`Store.title_readings` writes it as the detection
    does). Should the two ever differ, a title is only read again:
    tests/grayhound/test_catalog_check_stored.py notices."""
    return sha256(key_text.encode()).hexdigest()[:24]


COMMANDS = [catalog]
