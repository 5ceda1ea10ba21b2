"""`grayhound prices` written on every CPU, the same bytes as one process.

The table and the HTML page: the catalog models cut into contiguous runs in report order
(balanced by their judged listings), each run built and written by its own process with its
own store connection (`reports.parallel.write_parts`), the runs' text stitched in order. A
model's figures and history depend on its own listings only, so a run of models is built as
the whole report builds it; what needs every model (the table's and the HTML page's overview)
is made by this process from the figures each run returns.

CSV and JSON, mostly history (a record per observation): this process makes every model's
figures and writes the first models' history; the workers write the rest of the history, a
model's history cut at a crawl run where the processes' work meets (`history_plan`); each
model's figures and its history's pieces are then put in order. Through the history cache
(`historycache`), each process makes the figures and writes the history of its own models,
from one copy of each model's kept listings; a model may be cut before its newest crawl run
(`_kept_plan`)."""

from __future__ import annotations

import contextlib
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
from reports.currency import Converter
from reports.parallel import copy_into, forks, part_store, worker_count, write_parts
from reports.pricing import render, table
from reports.pricing.build import (
    PriceHistoryRows,
    PricePoints,
    PriceReport,
    _newest_runs,
    model_pricings,
    stored_names,
)
from reports.pricing.historycache import HistoryCache
from reports.tabular import cell_writer

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
    cache_dir: Path | None = None  # the history's past runs kept here (`historycache`)


def price_job(
    store, config: Config, currency: str, condition: str, history: bool, cached: bool = True
) -> PriceJob:
    """What every part of the report reads alike; `cached`: the CSV and JSON history's past
    crawl runs kept between reports in the configured cache directory."""
    return PriceJob(
        store.path,
        store.runs(),
        config,
        currency,
        condition,
        store.price_data_as_of(),
        history,
        os.getpid(),
        config.storage.cache_dir if cached else None,
    )


def _history_writer(job: PriceJob, fmt: str):
    """What writes a model's history in this process, through the cache if the report has
    one (`historycache`): CSV as `render.write_csv_history` (currency, model, history,
    stream, cell); JSON as `render.write_history_json` (model, history, stream)."""
    cache = HistoryCache.of_job(job, fmt)
    if fmt == "json":
        return _json_history if cache is None else cache.write_json_history
    return render.write_csv_history if cache is None else cache.write_csv_history


def _json_history(model, history, stream: IO[str]) -> int:
    return render.write_history_json(history, stream)


def write_prices(
    store, job: PriceJob, models: tuple[CatalogModel, ...], fmt: str, stream: IO[str]
) -> None:
    """The report of `models` in `fmt` (table, csv, json, html) into `stream`."""
    with store.shared_snapshot() as snapshot:  # every part reads the store as it is now
        plan = history_plan(store, job, models, fmt) if snapshot.shared else None
        if plan is None:
            parts = model_parts(store, models) if snapshot.shared else [models]
        report = PriceReport(job.currency, job.condition, job.data_as_of, ())
        write = functools.partial(_write_part, store, job, fmt)

        def written(into: IO[str]) -> list:
            if plan is not None:  # CSV or JSON: the history in pieces
                return _write_in_pieces(store, job, fmt, plan, into, snapshot.release)
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
    cache = HistoryCache.of_job(job, fmt)
    if cache is not None:
        cache.prune()


def model_parts(store, models: tuple[CatalogModel, ...]) -> list[tuple[CatalogModel, ...]]:
    """`models` cut into contiguous runs, one per worker when the store is large enough, each
    about as many judged listings as the others."""
    if not models:
        return []
    workers = worker_count()
    if workers == 1:
        return [models]
    _, counts = judged_listings(store, models)
    if sum(counts) < PARALLEL_MIN_LISTINGS:
        return [models]
    cuts = balanced_cuts([count + 1 for count in counts], workers)  # + 1: a model costs a bit
    return [models[start:end] for start, end in itertools.pairwise([0, *cuts, len(models)])]


def judged_listings(store, models: tuple[CatalogModel, ...]) -> tuple[list[list[str]], list[int]]:
    """Each model's stored names (`stored_names`) and how many listings carry a current
    judgement of them (what a model's share of the report grows with)."""
    stored = store.price_model_names()
    names = [stored_names(stored, entry) for entry in models]
    return names, store.price_listing_counts(names)


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
    # the HTML page: each model's kept listings copied once, for its figures and its history's
    # groups (both found them apart: issue 19, round 44)
    html = fmt == "html" and job.history
    pricings = model_pricings(
        store, job.runs, job.config, job.currency, job.condition, models, job.history,
        kept=html, snapshot=not html,
    )  # fmt: skip
    if fmt == "json":
        history = _history_writer(job, fmt)
        return render.write_json_models(pricings, stream, first=index == 0, history=history)
    report = PriceReport(job.currency, job.condition, job.data_as_of, pricings)
    if fmt == "csv":
        return render.write_csv_models(report, pricings, stream, _history_writer(job, fmt))
    if fmt == "html":
        return render.write_html_sections(job.currency, pricings, stream)
    return table.shown_models(pricings)


def _joined(lists: list[list]) -> list:
    return [item for items in lists for item in items]


# -- CSV and JSON: the history in pieces -------------------------------------------------------
# Most of a CSV or JSON report is its history (a line or an object per observation): cut by
# whole models, the processes' shares differed by up to a model's history (at 1,000,000
# listings and seven equal models: four against three) and each process copied the newest
# runs' observations for its models' figures. Here this process makes every model's figures
# (one copy) and writes the first models' history; the workers write the rest of the history,
# a model's history cut between two processes at a crawl run where the shares meet. The costs
# below weigh the two kinds of work against each other, in units of one observation written
# into the history (issue 19, round 33, at 1,000,000 listings: 2.6 µs an observation, 3.8 µs a
# listing's figures, 1.5 µs a stored listing for the newest runs' copy).
FIGURES_COST = 1.5  # a judged listing's share of its model's figures
LATEST_COST = 0.6  # a stored listing's share of the newest runs' copy the figures read
# A history kept between reports (`historycache`) costs far less: a judged listing's share of
# its model's kept listings copied and compared with the snapshot (`KEPT_COST`), and an
# observation's share of the past runs' segments copied (`CACHED_COPY_COST`); the newest run is
# rendered (issue 19, round 36, at 1,000,000 listings and 6 crawl runs: 1.12 s for a model of
# 146,000 judged listings, its past runs' copy aside, against 1.82 s rendered whole). There,
# each process makes the figures of the models it begins from the copy of their kept listings
# its history reads (round 37: the newest runs' observations were copied for every model's
# figures, and each model's listings copied again for its history). A model is cut only before
# its newest run, where its work is about halved (its figures, kept listings and past runs on
# one side; its kept listings again and its newest run on the other): at 1,000,000 listings and
# seven equal models, whole models left one process four and the other three.
CACHED_COPY_COST = 0.15
KEPT_COST = 1.5


@dataclass(frozen=True)
class Piece:
    """The history of one model (its position in the report) of the crawl runs after `after`
    and up to `upto` (None: no bound): a model's pieces, one after the other, are its history."""

    model: int
    after: int | None = None
    upto: int | None = None

    @property
    def runs(self) -> tuple[int | None, int | None] | None:
        return None if self.after is None and self.upto is None else (self.after, self.upto)


@dataclass(frozen=True)
class HistoryPlan:
    """Which process writes which pieces of the history: `parts[0]` this one (a run of whole
    models from the first, the last maybe cut), `parts[1:]` the workers (the rest, in order)."""

    models: tuple[CatalogModel, ...]
    names: list[list[str]]  # each model's stored names (`stored_names`)
    parts: list[list[Piece]]
    # through the history cache: each part makes the figures of the models it begins, from
    # their kept listings' copy (`_write_kept_part`)
    kept: bool = False


def history_plan(
    store, job: PriceJob, models: tuple[CatalogModel, ...], fmt: str
) -> HistoryPlan | None:
    """How a CSV or JSON report of a large store is written on several CPUs; None where one
    process writes it, or where it is written in runs of whole models (`model_parts`)."""
    if fmt not in ("csv", "json") or not job.history or not models:
        return None
    workers = worker_count()
    if workers == 1 or not forks(workers):
        return None
    names, counts = judged_listings(store, models)
    if sum(counts) < PARALLEL_MIN_LISTINGS:
        return None
    cache = HistoryCache.of_job(job, fmt)
    if cache is not None:
        return _kept_plan(store, cache, models, names, counts, workers)
    listings, observations, runs = store.price_history_shape()
    per_listing = observations / max(listings, 1)
    figures = LATEST_COST * listings + FIGURES_COST * sum(counts)
    costs = [count * per_listing for count in counts]
    cuts = history_cuts(costs, figures, [weight for _, weight in runs], workers)
    run_ids = [run for run, _ in runs]
    parts = [_pieces(start, end, len(models), run_ids) for start, end in _spans(cuts, models)]
    parts = parts[:1] + [pieces for pieces in parts[1:] if pieces]
    if len(parts) == 1:
        return None
    return HistoryPlan(models, names, parts)


def kept_costs(
    shape: tuple, cache: HistoryCache, models, names, counts: list[int]
) -> list[tuple[float, float]]:
    """Each model's share of a CSV or JSON report through the history cache, in the unit of
    an observation rendered, in two: (its figures and its history but the newest crawl run,
    its newest run's history). The history as the cache leaves it to do: a model kept before
    has its past runs copied and its newest run rendered, else every run is rendered; each
    piece of a model's history copies its kept listings and compares them with the snapshot.
    `shape`: the store's `price_history_shape()`."""
    listings, observations, runs = shape
    per_listing = observations / max(listings, 1)
    total = sum(weight for _, weight in runs)
    newest = per_listing * runs[-1][1] / total if total else 0.0  # observations a listing
    costs = []
    for model, model_names, count in zip(models, names, counts, strict=True):
        past = CACHED_COPY_COST if cache.has_snapshot(model, model_names) else 1.0
        head = FIGURES_COST + KEPT_COST + past * (per_listing - newest)
        costs.append((count * head, count * (KEPT_COST + newest)))
    return costs


def _kept_plan(store, cache: HistoryCache, models, names, counts, workers: int):
    """`history_plan` through the history cache: each part whole models but maybe its last
    and its first, which may be cut before its newest crawl run (its figures, its kept
    listings compared and its past runs copied on one side, its newest run rendered on the
    other), where the parts' work is nearest even (`kept_costs`)."""
    shape = store.price_history_shape()
    costs = kept_costs(shape, cache, models, names, counts)
    run_ids = [run for run, _ in shape[2]]
    if len(run_ids) < 2:  # no run to cut before: a model's history is one piece
        costs = [(head + tail, 0.0) for head, tail in costs]
    units = [cost for pair in costs for cost in pair]  # a model's head, then its tail
    ends = list(itertools.accumulate(units))
    cuts = []
    for at in range(1, workers):
        mark = ends[-1] * at / workers
        end = min(range(len(units)), key=lambda unit: abs(ends[unit] - mark))
        model, tail = divmod(end, 2)  # after a model's head: cut before its newest run
        inside = tail == 0 and len(run_ids) >= 2
        cuts.append((model, len(run_ids) - 1) if inside else (model + 1, 0))
    parts = [_pieces(start, end, len(models), run_ids) for start, end in _spans(cuts, models)]
    parts = parts[:1] + [pieces for pieces in parts[1:] if pieces]
    if len(parts) == 1:
        return None
    return HistoryPlan(models, names, parts, kept=True)


def history_cuts(
    costs: list[float], first: float, run_weights: list[float], processes: int
) -> list[tuple[int, int]]:
    """Where the history (each model's cost in `costs`, in report order) is cut between
    `processes` processes, the first of which has `first` to do before (the figures): each
    cut a (model, runs) pair, the history before the model's first `runs` crawl runs (of
    `run_weights`' runs, which weigh a model's history as they weigh the store's; 0 runs: the
    model's start), the cut nearest where the processes' work is even."""
    history = sum(costs)
    mine = min(history, max(0.0, (first + history) / processes - first))
    rest = history - mine
    marks = [mine + rest * at / (processes - 1) for at in range(processes - 1)]
    total = sum(run_weights)
    shares = [0.0, *(done / total for done in itertools.accumulate(run_weights))] if total else []
    return [_cut_at(mark, costs, shares) for mark in marks]


def _cut_at(mark: float, costs: list[float], shares: list[float]) -> tuple[int, int]:
    """The cut nearest `mark` (a cost from the history's start): a model's start, or a crawl
    run inside its history (`shares`: the share of a history before each run and the last's
    end; none: a model's history is not cut)."""
    start = 0.0
    for model, cost in enumerate(costs):
        if cost > 0 and start + cost > mark:
            if not shares:
                return (model, 0) if mark - start < cost / 2 else (model + 1, 0)
            share = (mark - start) / cost
            runs = min(range(len(shares)), key=lambda at: abs(shares[at] - share))
            return (model + 1, 0) if runs == len(shares) - 1 else (model, runs)
        start += cost
    return (len(costs), 0)


def _spans(cuts: list[tuple[int, int]], models: tuple) -> list[tuple[tuple, tuple]]:
    bounds = [(0, 0), *cuts, (len(models), 0)]
    return list(itertools.pairwise(bounds))


def _pieces(start: tuple[int, int], end: tuple[int, int], count: int, run_ids: list[int]):
    """The pieces from the cut `start` to the cut `end` (see `history_cuts`)."""
    pieces = []
    model, runs = start
    while (model, runs) < end and model < count:
        last = end[1] if model == end[0] else None  # None: to the history's end
        if last is None or last > runs:
            after = run_ids[runs - 1] if runs else None
            upto = run_ids[last - 1] if last is not None else None
            pieces.append(Piece(model, after, upto))
        model, runs = model + 1, 0
    return pieces


def _write_in_pieces(
    store, job: PriceJob, fmt: str, plan: HistoryPlan, stream: IO[str], started
) -> list[int]:
    """The models of a CSV or JSON report as `plan` cuts them: this process writes its
    pieces, each with its model's figures, into `stream` and sets the other models' figures
    aside; once the workers have written the rest of the history into their files, each
    model's figures and history are copied into `stream` in order. Returns [the number of
    models written] (what the JSON's end needs, as `write_parts`' results give it)."""
    if plan.kept:
        write = functools.partial(_write_kept_part, store, job, fmt, plan)
        finish = functools.partial(_join_kept, fmt, stream)
        write_parts(stream, list(enumerate(plan.parts)), write, started=started, finish=finish)
        return [len(plan.models)]
    with tempfile.TemporaryFile() as aside:
        write = functools.partial(_write_pieces, store, job, fmt, plan, aside)
        finish = functools.partial(_join_pieces, fmt, plan, aside, stream)
        write_parts(stream, list(enumerate(plan.parts)), write, started=started, finish=finish)
    return [len(plan.models)]


def _write_pieces(store, job: PriceJob, fmt: str, plan: HistoryPlan, aside, part, stream):
    """A part of `plan`: this process's (index 0) into `stream`, the figures of the models
    whose history it does not end set aside; a worker's into its file, each piece's bytes
    and points noted."""
    with part_store(store, job.parent, job.database) as reader:
        return _write_part_pieces(reader, job, fmt, plan, aside, part, stream)


def _write_part_pieces(reader, job: PriceJob, fmt: str, plan: HistoryPlan, aside, part, stream):
    index, pieces = part
    if index == 0:
        return _write_figures(reader, job, fmt, plan, pieces, aside, stream)
    return _write_history(reader, job, fmt, plan, pieces, stream)


def _write_figures(reader, job: PriceJob, fmt: str, plan: HistoryPlan, pieces, aside, stream):
    """Every model's figures, in order: with its history where `pieces` (this process's) hold
    all of it, else set aside in `aside` (bytes), the model's history begun where they hold
    its first runs. Returns {model: (where its text before the history starts, where the text
    after it starts, where that ends)} of the models set aside, and the points written of a
    model begun."""
    report = PriceReport(job.currency, job.condition, job.data_as_of, ())
    own = {piece.model: piece for piece in pieces}
    pricings = model_pricings(
        reader, job.runs, job.config, job.currency, job.condition, plan.models, True
    )
    cell = cell_writer()
    write_history = _history_writer(job, fmt)
    kept: dict[int, tuple[int, int, int]] = {}
    begun = 0
    for model, pricing in enumerate(pricings):
        piece = own.get(model)
        if piece is None:
            before, after = _around_history(fmt, report, pricing, model, cell)
        else:
            rest = _write_begun(fmt, job, report, pricing, piece, stream, cell, write_history)
            if rest is None:
                continue
            before, (after, begun) = "", rest
        start = aside.tell()
        aside.write(before.encode("utf-8"))
        middle = aside.tell()
        aside.write(after.encode("utf-8"))
        kept[model] = (start, middle, aside.tell())
    return kept, begun


def _write_begun(fmt: str, job: PriceJob, report, pricing, piece: Piece, stream, cell, write):
    """A model's figures and the piece of its history `piece` holds, which begins it, into
    `stream`: with the text after the history where the piece ends it (None returned), else
    (that text, the points written), for the process that writes the history's end."""
    before, after = _around_history(fmt, report, pricing, piece.model, cell)
    stream.write(before)
    history = pricing.history
    history.runs = piece.runs
    points = _write_history_piece(fmt, job.currency, pricing, history, stream, cell, write)
    if piece.upto is None:
        stream.write(after)
        return None
    return after, points


def _around_history(fmt: str, report: PriceReport, pricing, model: int, cell) -> tuple[str, str]:
    """The model's text before its history and after it (JSON: its object around the points
    of its history; CSV: its own and its competitors' records, nothing after)."""
    if fmt == "json":
        before, after = render.model_json_around_history(pricing)
        return ("[\n    " if model == 0 else ",\n    ") + before, after
    text = io.StringIO()
    render.write_csv_figures(report, pricing, text, cell)
    return text.getvalue(), ""


def _write_history_piece(fmt: str, currency: str, entry, history, stream, cell, write) -> int:
    """A piece of a model's history; `write` writes it (`_history_writer`)."""
    if fmt == "json":
        return write(entry, history, stream)
    return write(currency, entry, history, stream, cell)


def _write_history(reader, job: PriceJob, fmt: str, plan: HistoryPlan, pieces, stream):
    """A worker's pieces into its file: [(piece, first byte, end byte, points)]."""
    converter = Converter(job.currency, dict(job.config.pricing.rates))
    prices = PricePoints(converter)
    newest = _newest_runs(job.runs)
    cell = cell_writer()
    write_history = _history_writer(job, fmt)
    written = []
    for piece in pieces:
        stream.flush()
        start = stream.buffer.tell()
        names = plan.names[piece.model]
        history = PriceHistoryRows(
            reader, names, job.condition, newest, converter, prices, piece.runs
        )
        entry = plan.models[piece.model]
        points = _write_history_piece(
            fmt, job.currency, entry, history, stream, cell, write_history
        )
        stream.flush()
        written.append((piece, start, stream.buffer.tell(), points))
    return written


def _join_pieces(fmt: str, plan: HistoryPlan, aside, stream, results, paths) -> None:
    """After this process's part: each model set aside, its figures and its history's pieces
    from the workers' files, in order (JSON: the pieces' points joined by ", ")."""
    kept, points = results[0]
    if any(path is None for path in paths[1:]):
        raise AssertionError("the history's pieces were not written by workers")
    found: dict[int, list] = {}
    with contextlib.ExitStack() as files:
        for path, written in zip(paths[1:], results[1:], strict=True):
            handle = files.enter_context(open(path, "rb"))
            for piece, start, end, count in written:
                found.setdefault(piece.model, []).append((handle, start, end, count))
        for model in sorted(kept):
            start, middle, end = kept[model]
            _copy_range(stream, aside, start, middle - start)
            for handle, first, last, count in found.get(model, []):
                if fmt == "json" and points and count:
                    stream.write(", ")
                _copy_range(stream, handle, first, last - first)
                points += count
            _copy_range(stream, aside, middle, end - middle)
            points = 0


def _write_kept_part(store, job: PriceJob, fmt: str, plan: HistoryPlan, part, stream):
    """A part of a plan through the history cache (`_kept_plan`): the models it begins, each
    with its figures and its history (maybe but its newest run), made from one copy of its
    kept listings (`model_pricings`' `kept`), and maybe first the newest run's history of a
    model the part before began. Returns (that history's end byte in `stream` and its
    points, or None; the text after the history of a model this part begins but does not
    end and the points it wrote of it, or None)."""
    with part_store(store, job.parent, job.database) as reader:
        return _write_kept_pieces(reader, job, fmt, plan, part, stream)


def _write_kept_pieces(reader, job: PriceJob, fmt: str, plan: HistoryPlan, part, stream):
    _, pieces = part
    report = PriceReport(job.currency, job.condition, job.data_as_of, ())
    begun = tuple(plan.models[piece.model] for piece in pieces if piece.after is None)
    pricings = model_pricings(
        reader, job.runs, job.config, job.currency, job.condition, begun, True, True
    )
    cell = cell_writer()
    write_history = _history_writer(job, fmt)
    head = tail = None
    try:
        for piece in pieces:
            if piece.after is not None:  # the rest of a model's history, first in this part
                ((_, _, end, points),) = _write_history(reader, job, fmt, plan, [piece], stream)
                head = (end, points)
                continue
            pricing = next(pricings)  # its kept listings' copy lasts until the next is asked for
            rest = _write_begun(fmt, job, report, pricing, piece, stream, cell, write_history)
            if rest is not None:  # its history goes on in the next part
                tail = rest
    finally:  # the last model's kept listings' copy dropped, even on an error
        pricings.close()
    return head, tail


def _join_kept(fmt: str, stream, results, paths) -> None:
    """After this process's part (written into `stream`): each worker's file copied in
    order, the text after a model's history put after the history's last piece (JSON: the
    pieces' points joined by ", ")."""
    if any(path is None for path in paths[1:]):
        raise AssertionError("the parts were not written by workers")
    pending = results[0][1]
    for path, (head, tail) in zip(paths[1:], results[1:], strict=True):
        with open(path, "rb") as handle:
            start = 0
            if head is not None:
                end, points = head
                if fmt == "json" and pending[1] and points:
                    stream.write(", ")
                _copy_range(stream, handle, 0, end)
                stream.write(pending[0])
                start = end
            _copy_range(stream, handle, start, os.fstat(handle.fileno()).st_size - start)
        pending = tail


def _copy_range(stream: IO[str], source, start: int, length: int) -> None:
    if length:
        source.seek(start)
        copy_into(stream, source, length)
