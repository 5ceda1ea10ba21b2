"""`grayhound prices` output: a terminal table (rich), CSV, JSON and one self-contained HTML file
with a price-over-time chart per model. All four show the numbers of `reports.pricing.build`."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from reports.crawledtext import install as install_crawled_text
from reports.currency import format_money, format_signed, format_with_conversion
from reports.pricing.build import (
    _UNKNOWN,
    ModelPricing,
    PriceHistoryRows,
    PriceReport,
    history_points,
    plain,
)
from reports.pricing.competitors import Competitor, PricePoint
from reports.pricing.history import HistorySummary, summarize
from reports.tabular import cell_writer, csv_quoted

TEMPLATES = Path(__file__).parent / "templates"
HISTORY_COLUMNS = 12  # the most recent crawl runs shown in the HTML history table
CSV_FIELDS = (
    "record",  # model | competitor | history
    "brand",
    "model",
    "report_currency",
    "seller",
    "source",
    "listing_id",
    "url",
    "crawl_run_id",
    "observed_at",
    "price",
    "currency",
    "price_converted",
    "msrp_position",
    "msrp_basis",
    "landed_cost",
    "landed_currency",
    "margin",
    "landed_gap",
    "below_landed",
    "first_seen",
    "price_since",
    "below_landed_since",
    "listings",
    "sellers",
    "unknown_currency",
    "no_rate",
    "min_converted",
    "median_converted",
    "max_converted",
    "median_position",
    "msrp_variant",
)


def write_json(report: PriceReport, stream: IO[str]) -> None:
    """Keys sorted; one model per line, written as it is built. Each line is written by json's
    C encoder: the indenting encoder is pure Python and took ~10 s for a 100,000-listing
    store's history."""
    write_json_head(report, stream)
    written = write_json_models(report.models, stream)
    write_json_foot(report, stream, written)


def _json_keys(report: PriceReport) -> tuple[list[str], list[str]]:
    """The report's keys, sorted, before and after "models"."""
    names = sorted(field.name for field in dataclasses.fields(report))
    at = names.index("models")
    return names[:at], names[at + 1 :]


def write_json_head(report: PriceReport, stream: IO[str]) -> None:
    """The JSON up to the models' list."""
    before, _ = _json_keys(report)
    stream.write("{")
    for n, key in enumerate(before):
        stream.write(("," if n else "") + f"\n  {json.dumps(key)}: ")
        stream.write(_dumps(plain(getattr(report, key))))
    stream.write(("," if before else "") + '\n  "models": ')


def write_json_models(models, stream: IO[str], first: bool = True, history=None) -> int:
    """The models' lines; `first`: these open the list (else they follow models already
    written); `history`: what writes a model's history (see `write_model_json`). Returns the
    number of models written."""
    written = 0
    for model in models:
        stream.write("[\n    " if first and not written else ",\n    ")
        write_model_json(model, stream, history)
        written += 1
    return written


def write_json_foot(report: PriceReport, stream: IO[str], written: int) -> None:
    """The JSON after the models' lines (`written`: how many there were)."""
    _, after = _json_keys(report)
    stream.write("\n  ]" if written else "[]")
    for key in after:
        stream.write(f",\n  {json.dumps(key)}: " + _dumps(plain(getattr(report, key))))
    stream.write("\n}\n")


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


HISTORY_MARK = "\x00history\x00"


def model_json(model: ModelPricing) -> str:
    text = io.StringIO()
    write_model_json(model, text)
    return text.getvalue()


def write_model_json(model: ModelPricing, stream: IO[str], history=None) -> None:
    """`_dumps(plain(model))`, its history (most of it: a point per observation) written
    straight from the points, one at a time, instead of through a dict each. `history(model,
    its history, stream)` writes the points as `write_history_json` does (None: that)."""
    head, tail = model_json_around_history(model)
    stream.write(head)
    if history is None:
        write_history_json(model.history, stream)
    else:
        history(model, model.history, stream)
    stream.write(tail)


def model_json_around_history(model: ModelPricing) -> tuple[str, str]:
    """`_dumps(plain(model))` before its history's points (up to `"history": [`) and after
    them (from the `]` on): the points between, joined by ", ", make the whole."""
    data = plain(dataclasses.replace(model, history=()))
    data["history"] = HISTORY_MARK
    mark = f'"history": {_dumps(HISTORY_MARK)}'  # no string value can hold it unescaped
    head, _, tail = _dumps(data).partition(mark)
    return head + '"history": [', "]" + tail


def write_history_json(history, stream: IO[str]) -> int:
    """The history's points as `_dumps` writes them in its list, joined by ", " (no brackets);
    returns how many."""
    count = 0
    batch: list[str] = []
    for point in _history_json(history):
        batch.append(point)
        if len(batch) >= 2048:
            stream.write((", " if count else "") + ", ".join(batch))
            count += len(batch)
            batch.clear()
    if batch:
        stream.write((", " if count else "") + ", ".join(batch))
        count += len(batch)
    return count


def write_json_history_rows(rows, price, stream: IO[str], memo=None, marks=None) -> int:
    """The points of history rows as `PriceHistoryRows.raw` gives them (`price` its `prices`),
    each written after ", " (the points of `write_history_json` with a ", " before the first).
    `memo`: the text made so far (a dict) for rows written in several calls; `marks`: each
    point's listing and its length in UTF-8 bytes (its ", " included) appended to it, in
    order. Returns how many points."""
    listings: list | None = None if marks is None else []
    count = 0
    batch: list[str] = []
    for point in _json_points(rows, price, {} if memo is None else memo, listings):
        batch.append(", " + point)
        if len(batch) >= 2048:
            count += _flush_points(batch, stream, listings, marks)
    return count + _flush_points(batch, stream, listings, marks)


def _flush_points(batch: list[str], stream: IO[str], listings, marks) -> int:
    stream.write("".join(batch))
    if marks is not None:
        marks.extend(
            zip(listings, [len(p) if p.isascii() else len(p.encode()) for p in batch], strict=True)
        )
        listings.clear()
    count = len(batch)
    batch.clear()
    return count


def _history_json(history) -> Iterator[str]:
    """Each history point as `_dumps(plain(point))` writes it (keys sorted). From the store's
    rows the text of a price, a seller and a source is made once per value."""
    if not isinstance(history, PriceHistoryRows):
        text: dict = {}
        for point in history_points(history):
            yield _tuple_json(point, text)
        return
    yield from _json_points(history.raw(), history.prices, {})


def _json_points(rows, price, known: dict, listings: list | None = None) -> Iterator[str]:
    """`_history_json` of the store's rows (`PriceHistoryRows.raw`; `price` its `prices`);
    `known`: the text made so far (price, currency → the price's JSON, None: no amount; names
    → JSON); `listings`: each point's listing appended to it."""
    last_at, at_text = _UNKNOWN, ""  # the time of the last row, and its JSON
    for run, at, seller, source, listing_id, amount, code, is_current in rows:
        price_text = known.get((amount, code), _UNKNOWN)  # a miss raises nothing: most are new
        if price_text is _UNKNOWN:
            if len(known) > 100_000:
                known.clear()
            point = price(amount, code)
            price_text = known[amount, code] = None if point is None else _price_json(point)
        if price_text is None:
            continue
        try:
            seller_text = known[seller]
        except KeyError:
            seller_text = known[seller] = _scalar(seller)
        try:
            source_text = known[source]
        except KeyError:
            source_text = known[source] = _scalar(source)
        # a run's rows share a time in a generated store, not in a crawl's; only equal text
        # is written alike (1, 1.0 and True are equal, and written apart)
        if type(at) is not str or at != last_at:
            last_at, at_text = at, _scalar(at)
        if listings is not None:
            listings.append(listing_id)
        yield (
            f'{{"crawl_run_id": {run if type(run) is int else _scalar(run)}, '
            f'"is_current": {"true" if is_current else "false"}, '
            f'"listing_id": {listing_id if type(listing_id) is int else _scalar(listing_id)}, '
            f'"observed_at": {at_text}, "price": {price_text}, '
            f'"seller": {seller_text}, "source": {source_text}}}'
        )


def _price_json(price: PricePoint) -> str:
    return (
        f'{{"amount": {_scalar(price.amount)}, '
        f'"converted": {_scalar(price.converted)}, "currency": {_scalar(price.currency)}}}'
    )


def _tuple_json(point: tuple, text: dict) -> str:
    """`_point_json` of a point as `history_points` gives it; `text` caches what repeats."""
    run, at, seller, source, listing_id, price, is_current = point
    try:
        price_text = text[price]
    except KeyError:
        price_text = text[price] = _price_json(price)
    try:
        seller_text = text[seller]
    except KeyError:
        seller_text = text[seller] = _scalar(seller)
    try:
        source_text = text[source]
    except KeyError:
        source_text = text[source] = _scalar(source)
    if len(text) > 100_000:
        text.clear()
    return (
        f'{{"crawl_run_id": {_scalar(run) if type(run) is not int else run}, '
        f'"is_current": {"true" if is_current is True else _scalar(is_current)}, '
        f'"listing_id": {_scalar(listing_id) if type(listing_id) is not int else listing_id}, '
        f'"observed_at": {_scalar(at)}, "price": {price_text}, '
        f'"seller": {seller_text}, "source": {source_text}}}'
    )


def _scalar(value) -> str:
    if type(value) is str:
        return _ENCODE_TEXT(value)
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)
    return _dumps(value)  # None, booleans, integers, NaN and infinities as json writes them


_ENCODE_TEXT = json.encoder.encode_basestring  # json's (C) string encoder, ensure_ascii=False


def write_price_csv(report: PriceReport, stream: IO[str]) -> int:
    """`reports.tabular.write_csv` with the cells of a history record made quicker: most are
    empty, and text repeats (sellers, sources, crawl times) — 31 cells a row, 180,000 rows at
    100,000 listings took most of the report's time."""
    csv.writer(stream, lineterminator="\n").writerow(CSV_FIELDS)
    return write_csv_models(report, report.models, stream)


def write_csv_models(report: PriceReport, models, stream: IO[str], history=None) -> int:
    """The records of `models` (the header: `write_price_csv`); returns how many. `history`
    writes a model's history (default `write_csv_history`; the same arguments)."""
    write_history = write_csv_history if history is None else history
    cell = cell_writer()
    count = 0
    for model in models:
        count += write_csv_figures(report, model, stream, cell)
        count += write_history(report.currency, model, model.history, stream, cell)
    return count


def write_csv_figures(report: PriceReport, model: ModelPricing, stream: IO[str], cell) -> int:
    """The model's own record and its competitors' (`_csv_records`); returns how many."""
    writer = csv.writer(stream, lineterminator="\n")
    count = 0
    for row in _csv_records(report, model):
        writer.writerow([cell(row.get(name)) for name in CSV_FIELDS])
        count += 1
    return count


HISTORY_CSV_AT = CSV_FIELDS.index("seller")
HISTORY_CSV_TAIL = "," * (len(CSV_FIELDS) - 1 - CSV_FIELDS.index("price_converted"))


def write_csv_history(currency: str, model, history, stream: IO[str], cell) -> int:
    """The history records of `model` (its `brand` and `model` name; `history` its history or
    a part of it), as `writer.writerow` writes the cells `_csv_records` gave them: the cells
    that repeat (model, seller and source, price) are made once per value and the rest
    (mostly empty) written as text. Returns the number of records."""
    if isinstance(history, PriceHistoryRows):
        # the price as stored: made into cells once per value
        return write_csv_history_rows(currency, model, history.raw(), history.prices, stream, cell)
    points = (p[:5] + (p[5], None, p[6]) for p in history_points(history))
    return write_csv_history_rows(currency, model, points, None, stream, cell)


def write_csv_history_rows(
    currency: str,
    model,
    rows,
    price,
    stream: IO[str],
    cell,
    memo: tuple | None = None,
    marks: list | None = None,
) -> int:
    """`write_csv_history` of history rows as `PriceHistoryRows.raw` gives them (`price` its
    `prices`), or of points (`price` None: each row's price its PricePoint). `memo`: the
    cells made so far (two dicts, `csv_history_memo`), for rows of the same model and
    `cell` written in several calls. `marks`: each record's listing and its length in UTF-8
    bytes appended to it, in order."""
    if CSV_FIELDS[HISTORY_CSV_AT : HISTORY_CSV_AT + 9] != (
        "seller", "source", "listing_id", "url", "crawl_run_id", "observed_at", "price",
        "currency", "price_converted",
    ):  # fmt: skip
        raise AssertionError("CSV_FIELDS changed: update write_csv_history_rows")
    head = _csv_line(["history", model.brand, model.model, currency], cell)
    text, names = csv_history_memo() if memo is None else memo
    count = 0
    batch = []
    last_at, when = _UNKNOWN, ""  # the time of the last row, and its cell
    for run, at, seller, source, listing_id, amount, code, _ in rows:
        cost = text.get((amount, code), _UNKNOWN)  # a miss raises nothing: most are new
        if cost is _UNKNOWN:
            if len(text) > 100_000:
                text.clear()
            point = amount if price is None else price(amount, code)
            cost = text[amount, code] = None if point is None else _price_cells(point, cell)
        if cost is None:
            continue  # no amount: not in the history
        try:
            who = names[seller, source]
        except KeyError:
            if len(names) > 100_000:
                names.clear()
            who = names[seller, source] = _csv_line([seller, source], cell)
        # a run's rows share a time in a generated store, not in a crawl's; only equal text
        # is written alike (1, 1.0 and True are equal, and written apart)
        if type(at) is not str or at != last_at:
            last_at = at  # the store's own form is a cell as it is (a digit first, no quotes)
            when = at if type(at) is str and _STORE_TIME(at) else _time_cell(at, cell)
        line = (
            f"{head},{who},{listing_id if type(listing_id) is int else cell(listing_id)},,"
            f"{run if type(run) is int else cell(run)},{when},{cost}{HISTORY_CSV_TAIL}\n"
        )
        batch.append(line)
        if marks is not None:
            marks.append((listing_id, len(line) if line.isascii() else len(line.encode())))
        count += 1
        if len(batch) >= 2048:
            stream.write("".join(batch))
            batch.clear()
    stream.write("".join(batch))
    return count


def csv_history_memo() -> tuple[dict, dict]:
    """What `write_csv_history_rows` remembers: (price, currency) → its cells (None: no
    amount), and (seller, source) → their cells."""
    return {}, {}


# A time as the store writes it (`timestamps.utc_now`), or with seconds only or microseconds:
# digits, "-", ":", "T", "." and "Z" only, a digit first: `_time_cell` gives it as it is.
_STORE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z"
).fullmatch


def _time_cell(at, cell) -> str:
    when = cell(at)
    if "," in when or '"' in when or "\n" in when or "\r" in when:
        when = _csv_line([when], lambda value: value)
    return when


def _price_cells(point: PricePoint, cell) -> str:
    """`_csv_line` of the price's three cells, without a csv writer made for each price (a
    third of a history's points have a price of their own)."""
    fields = _price_fields(point)
    return ",".join(
        csv_quoted(cell(fields[name])) for name in ("price", "currency", "price_converted")
    )


def _csv_line(values: list, cell) -> str:
    """The cells of `values` as csv.writer joins them (quoted where it quotes), no newline."""
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow([*map(cell, values), ""])
    return line.getvalue()[:-2]  # the trailing empty cell keeps one lone "" from being quoted


def _csv_records(report: PriceReport, model: ModelPricing):
    """The model's own record and its competitors' (the history: `write_csv_history`)."""
    base = {"brand": model.brand, "model": model.model, "report_currency": report.currency}
    yield {
        **base,
        "record": "model",
        "listings": model.listings,
        "sellers": model.sellers,
        "unknown_currency": model.unknown_currency,
        "no_rate": model.no_rate,
        "min_converted": _converted(model.price_min),
        "median_converted": _converted(model.price_median),
        "max_converted": _converted(model.price_max),
        "median_position": model.median_position,
        "landed_cost": model.landed_converted,
        "landed_currency": report.currency if model.landed_converted is not None else None,
    }
    for rival in model.competitors:
        yield {**base, "record": "competitor", **_competitor_fields(rival)}


def _competitor_fields(rival: Competitor) -> dict:
    fields = {
        name: getattr(rival, name)
        for name in CSV_FIELDS
        if hasattr(rival, name) and name not in ("price", "currency")
    }
    return {**fields, **_price_fields(rival.price)}


def _price_fields(point: PricePoint) -> dict:
    return {
        "price": f"{point.amount:.2f}",
        "currency": point.currency,
        "price_converted": point.converted,
    }


def _converted(point: PricePoint | None) -> float | None:
    return point.converted if point else None


# -- HTML -------------------------------------------------------------------------------------
SECTIONS = "\x00sections\x00"  # where the models' sections go in prices.html


def render_html(report: PriceReport) -> str:
    page = io.StringIO()
    write_html(report, page)
    return page.getvalue()


def write_html(report: PriceReport, stream: IO[str]) -> None:
    """The page opens with an overview of every model, so each model's section is rendered as
    its pricing is built and set aside in a temporary file; the overview keeps only the
    model's figures (no competitors, no history). Memory: one model's listings."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as sections:
        overview = write_html_sections(report.currency, report.models, sections)
        write_html_page(report, overview, sections, stream)


def write_html_sections(currency: str, models, stream: IO[str]) -> list[dict]:
    """Each model's section (those with listings or a history), written as it is built;
    returns the overview's entry of each model (its figures, no competitors, no history)."""
    from reports.pricing.svgchart import price_chart_svg

    section = _environment().get_template("price_model.html")
    overview = []
    for model in models:
        view = _model_view(model, currency, price_chart_svg)
        if view["section"]:
            stream.write(section.render(m=view) + "\n")
        summary = dataclasses.replace(model, competitors=(), history=())
        overview.append({"model": summary, "anchor": view["anchor"], "section": view["section"]})
        del view, model
    return overview


def write_html_page(
    report: PriceReport, overview: list[dict], sections: IO[str], stream: IO[str]
) -> None:
    """The page: its overview of every model (`overview`), then the `sections` written into
    that file (read from its start)."""
    page = (
        _environment()
        .get_template("prices.html")
        .render(report=report, models=overview, sections=Markup(SECTIONS))
    )
    head, _, foot = page.rpartition(SECTIONS)
    stream.write(head)
    sections.seek(0)
    shutil.copyfileobj(sections, stream)
    stream.write(foot)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=pct, day=day)
    install_crawled_text(env)
    env.globals.update(money=format_money, signed=format_signed)
    return env


def _model_view(model: ModelPricing, currency: str, chart) -> dict:
    history = model.history
    if isinstance(history, PriceHistoryRows):  # from the store, grouped by SQLite if it can
        summary = history.summary()
    else:
        summary = summarize(history_points(history))
    svg = chart(model, currency, summary) if summary.points else None
    return {
        "model": model,
        "anchor": "m-" + "".join(c if c.isalnum() else "-" for c in model.model.lower()),
        "section": bool(model.listings or summary.points),
        "has_history": bool(summary.points),
        "price": lambda point: _shown(point, currency),
        "msrp": " · ".join(format_money(v, k) for k, v in model.msrp.items())
        + "".join(
            f" ({storage}: " + " · ".join(format_money(v, k) for k, v in table.items()) + ")"
            for storage, table in model.variant_msrp.items()
        ),
        "landed": [_landed_text(model, code) for code in model.landed_cost],
        "undercutters": [c for c in model.competitors if c.below_landed],
        "chart": Markup(svg) if svg else None,
        "history": _history_table(summary),
    }


def _shown(point: PricePoint | None, currency: str) -> str:
    if point is None:
        return "—"
    return format_with_conversion(point.amount, point.currency, point.converted, currency)


def _landed_text(model: ModelPricing, code: str) -> str:
    total = format_money(model.landed_cost[code], code)
    parts = model.landed_components.get(code) or {}
    if not parts:
        return total
    shown = [
        f"{name.replace('_pct', '')} {value:g} %"
        if name == "duties_pct"
        else f"{name} {format_money(value, code)}"
        for name, value in parts.items()
    ]
    return f"{total} ({' + '.join(shown)})"


def _history_table(summary: HistorySummary) -> dict:
    """Sellers × recent crawl runs: the seller's cheapest price in each run."""
    runs = sorted(summary.run_dates)[-HISTORY_COLUMNS:]
    shown_runs = {run_id for run_id, _ in runs}
    cells: dict[tuple[str, str], dict[int, PricePoint]] = {}
    for key, prices in summary.cheapest.items():
        shown = {run: price for run, price in prices.items() if run in shown_runs}
        if shown:
            cells[key] = shown
    current = summary.current
    rows = [
        {
            "seller": seller,
            "source": source,
            "gone": (seller, source) not in current,
            "prices": [prices.get(r) for r, _ in runs],
        }
        for (seller, source), prices in sorted(cells.items(), key=_cheapest_now(current))
    ]
    hidden = max(0, len(summary.run_ids) - HISTORY_COLUMNS)
    return {"runs": runs, "rows": rows, "hidden_runs": summary.points and hidden}


def _cheapest_now(current: set):
    """Current sellers first, by their latest price; gone sellers after."""

    def key(item):
        (seller, source), prices = item
        latest = prices[max(prices)]
        amount = latest.converted if latest.converted is not None else float("inf")
        return ((seller, source) not in current, amount, seller, source)

    return key


def pct(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "—"
    text = f"{value * 100:+.1f} %" if signed else f"{value * 100:.1f} %"
    return text.replace("-", "−")


def day(value: str | None) -> str:
    return value[:10] if value else "—"
