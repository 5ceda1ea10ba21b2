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
from itertools import accumulate
from pathlib import Path
from typing import IO

from grayhound.config import CatalogModel, Config
from reports.parallel import worker_count, write_parts
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
    parts = model_parts(store, models)
    report = PriceReport(job.currency, job.condition, job.data_as_of, ())
    write = functools.partial(_write_part, store, job, fmt)
    if fmt == "json":
        render.write_json_head(report, stream)
        written = sum(write_parts(stream, list(enumerate(parts)), write))
        render.write_json_foot(report, stream, written)
    elif fmt == "csv":
        csv.writer(stream, lineterminator="\n").writerow(render.CSV_FIELDS)
        write_parts(stream, list(enumerate(parts)), write)
    elif fmt == "html":
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as sections:
            overview = write_parts(sections, list(enumerate(parts)), write)
            render.write_html_page(report, _joined(overview), sections, stream)
    else:
        shown = write_parts(io.StringIO(), list(enumerate(parts)), write)  # figures, no text
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
    counts = [store.price_listing_count(stored_names(stored, entry)) for entry in models]
    if sum(counts) < PARALLEL_MIN_LISTINGS:
        return [models]
    cuts = balanced_cuts([count + 1 for count in counts], workers)  # + 1: a model costs a bit
    return [models[start:end] for start, end in itertools.pairwise([0, *cuts, len(models)])]


def balanced_cuts(weights: list[int], parts: int) -> list[int]:
    """Where to cut `weights` into at most `parts` non-empty contiguous runs so that the
    heaviest run is as light as it can be (each cut as late as that allows)."""
    totals = [0, *accumulate(weights)]
    spans = sorted({totals[end] - totals[start] for start in range(len(weights))
                    for end in range(start + 1, len(weights) + 1)})  # fmt: skip
    for limit in spans:  # the lightest limit a greedy cut keeps within `parts` runs
        cuts, start = [], 0
        for end in range(1, len(weights) + 1):
            if totals[end] - totals[start] > limit:
                cuts.append(end - 1)
                start = end - 1
        if len(cuts) < parts and all(w <= limit for w in weights):
            return cuts
    return []


def _write_part(store, job: PriceJob, fmt: str, part: tuple[int, tuple], stream: IO[str]):
    """One run of models written (csv, json, html) or built (table) as the whole report does;
    returns what the command needs of it: the models written (json), the overview's entries
    (html) or the table's figures (table). In a forked worker (not the `parent` process) the
    command's connection is left alone: the part reads through a connection of its own."""
    if os.getpid() == job.parent:
        return _write_models(store, job, fmt, part, stream)
    from grayhound.store import open_store

    with open_store(job.database, create=False) as own:
        return _write_models(own, job, fmt, part, stream)


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
