"""`grayhound prices` written on every CPU: the catalog models cut into contiguous runs in report
order (balanced by their judged listings), each run built and written by its own process with
its own store connection (`reports.parallel.write_parts`), the runs' text stitched in order.

A model's figures and history depend on its own listings only, so a run of models is built as
the whole report builds it; what needs every model (the table's and the HTML page's overview)
is made by this process from the figures each run returns. The same bytes as one process."""

from __future__ import annotations

import csv
import functools
import io
import itertools
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from grayhound.config import CatalogModel, Config
from reports.parallel import part_store, worker_count, write_parts
from reports.pricing import render, table
from reports.pricing.build import PriceReport, model_pricings, stored_names

# Judged listings of the chosen models below which the report is written by one process: a
# worker's start and its own connection cost ~0.1 s, more than it saves on a small store.
PARALLEL_MIN_LISTINGS = 50_000


@dataclass(frozen=True)
class PriceJob:
    """What every part of one report reads alike."""

    database: Path
    runs: list[dict]
    config: Config
    currency: str
    condition: str
    data_as_of: str | None
    history: bool  # False: the terminal table, which shows no history
    parent: int  # the process id of the command: a part elsewhere opens its own connection


def price_job(store, config: Config, currency: str, condition: str, history: bool) -> PriceJob:
    return PriceJob(
        store.path,
        store.runs(),
        config,
        currency,
        condition,
        store.price_data_as_of(),
        history,
        os.getpid(),
    )


def write_prices(
    store, job: PriceJob, models: tuple[CatalogModel, ...], fmt: str, stream: IO[str]
) -> None:
    """The report of `models` in `fmt` (table, csv, json, html) into `stream`."""
    with store.shared_snapshot() as snapshot:  # every part reads the store as it is now
        parts = model_parts(store, models) if snapshot.shared else [models]
        report = PriceReport(job.currency, job.condition, job.data_as_of, ())
        write = functools.partial(_write_part, store, job, fmt)

        def written(into: IO[str]) -> list:
            return write_parts(into, list(enumerate(parts)), write, started=snapshot.release)

        if fmt == "json":
            render.write_json_head(report, stream)
            render.write_json_foot(report, stream, sum(written(stream)))
        elif fmt == "csv":
            csv.writer(stream, lineterminator="\n").writerow(render.CSV_FIELDS)
            written(stream)
        elif fmt == "html":
            with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as sections:
                overview = written(sections)
                render.write_html_page(report, _joined(overview), sections, stream)
        else:
            shown = written(io.StringIO())  # figures, no text
            table.print_shown(report, _joined(shown), stream)


def model_parts(store, models: tuple[CatalogModel, ...]) -> list[tuple[CatalogModel, ...]]:
    """`models` cut into contiguous runs, one per worker when the store is large enough, each
    about as many judged listings as the others."""
    if not models:
        return []
    workers = worker_count()
    if workers == 1:
        return [models]
    stored = store.price_model_names()
    counts = store.price_listing_counts([stored_names(stored, entry) for entry in models])
    if sum(counts) < PARALLEL_MIN_LISTINGS:
        return [models]
    cuts = balanced_cuts([count + 1 for count in counts], workers)  # + 1: a model costs a bit
    return [models[start:end] for start, end in itertools.pairwise([0, *cuts, len(models)])]


def balanced_cuts(weights: list[int], parts: int) -> list[int]:
    """Where to cut `weights` (whole numbers) into at most `parts` non-empty contiguous runs
    so that the heaviest run is as light as it can be (each cut as late as that allows): the
    lightest limit the greedy cut keeps within `parts` runs, searched between the heaviest
    weight and the total (a catalog of thousands of models cut at once)."""
    if not weights:
        return []
    low, high = max(weights), sum(weights)
    while low < high:
        middle = (low + high) // 2
        if len(_greedy_cuts(weights, middle)) < parts:
            high = middle
        else:
            low = middle + 1
    return _greedy_cuts(weights, low)


def _greedy_cuts(weights: list[int], limit: int) -> list[int]:
    """Each run as long as it stays within `limit` (no weight is heavier than it)."""
    cuts, run = [], 0
    for end, weight in enumerate(weights):
        if run + weight > limit:
            cuts.append(end)
            run = 0
        run += weight
    return cuts


def _write_part(store, job: PriceJob, fmt: str, part: tuple[int, tuple], stream: IO[str]):
    """One run of models written (csv, json, html) or built (table) as the whole report does;
    returns what the command needs of it: the models written (json), the overview's entries
    (html) or the table's figures (table). In a forked worker (not the `parent` process) the
    command's connection is left alone: the part reads through a connection of its own."""
    with part_store(store, job.parent, job.database) as reader:
        return _write_models(reader, job, fmt, part, stream)


def _write_models(store, job: PriceJob, fmt: str, part: tuple[int, tuple], stream: IO[str]):
    index, models = part
    pricings = model_pricings(
        store, job.runs, job.config, job.currency, job.condition, models, job.history
    )
    if fmt == "json":
        return render.write_json_models(pricings, stream, first=index == 0)
    report = PriceReport(job.currency, job.condition, job.data_as_of, pricings)
    if fmt == "csv":
        return render.write_csv_models(report, pricings, stream)
    if fmt == "html":
        return render.write_html_sections(job.currency, pricings, stream)
    return table.shown_models(pricings)


def _joined(lists: list[list]) -> list:
    return [item for items in lists for item in items]
