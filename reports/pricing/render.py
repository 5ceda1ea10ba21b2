"""`grayhound prices` output: a terminal table (rich), CSV, JSON and one self-contained HTML file
with a price-over-time chart per model. All four show the numbers of `reports.pricing.build`."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import shutil
import tempfile
from pathlib import Path
from typing import IO

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from reports.crawledtext import install as install_crawled_text
from reports.currency import format_money, format_signed, format_with_conversion
from reports.pricing.build import HistoryPoint, ModelPricing, PriceReport, plain
from reports.pricing.competitors import Competitor, PricePoint
from reports.tabular import cell_writer

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
    names = sorted(field.name for field in dataclasses.fields(report))
    stream.write("{")
    for n, key in enumerate(names):
        stream.write(("," if n else "") + f"\n  {json.dumps(key)}: ")
        if key == "models":
            _write_models(report.models, stream)
        else:
            stream.write(_dumps(plain(getattr(report, key))))
    stream.write("\n}\n")


def _write_models(models, stream: IO[str]) -> None:
    written = False
    for model in models:
        stream.write(",\n    " if written else "[\n    ")
        write_model_json(model, stream)
        written = True
    stream.write("\n  ]" if written else "[]")


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


HISTORY_MARK = "\x00history\x00"


def model_json(model: ModelPricing) -> str:
    text = io.StringIO()
    write_model_json(model, text)
    return text.getvalue()


def write_model_json(model: ModelPricing, stream: IO[str]) -> None:
    """`_dumps(plain(model))`, its history (most of it: a point per observation) written
    straight from the points, one at a time, instead of through a dict each."""
    if not model.history:
        stream.write(_dumps(plain(model)))
        return
    data = plain(dataclasses.replace(model, history=()))
    data["history"] = HISTORY_MARK
    mark = f'"history": {_dumps(HISTORY_MARK)}'  # no string value can hold it unescaped
    head, _, tail = _dumps(data).partition(mark)
    stream.write(head + '"history": [')
    for n, point in enumerate(model.history):
        stream.write(", " + _point_json(point) if n else _point_json(point))
    stream.write("]" + tail)


def _point_json(point: HistoryPoint) -> str:
    """One `HistoryPoint` as `_dumps(plain(point))` writes it (keys sorted)."""
    price = point.price
    return (
        f'{{"crawl_run_id": {_scalar(point.crawl_run_id)}, '
        f'"is_current": {_scalar(point.is_current)}, '
        f'"listing_id": {_scalar(point.listing_id)}, '
        f'"observed_at": {_scalar(point.observed_at)}, '
        f'"price": {{"amount": {_scalar(price.amount)}, '
        f'"converted": {_scalar(price.converted)}, "currency": {_scalar(price.currency)}}}, '
        f'"seller": {_scalar(point.seller)}, "source": {_scalar(point.source)}}}'
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
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    cell = cell_writer()
    count = 0
    for row in _csv_records(report):
        writer.writerow([cell(row.get(name)) for name in CSV_FIELDS])
        count += 1
    return count


def _csv_records(report: PriceReport):
    for model in report.models:
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
        for point in model.history:
            yield {
                **base,
                "record": "history",
                "seller": point.seller,
                "source": point.source,
                "listing_id": point.listing_id,
                "crawl_run_id": point.crawl_run_id,
                "observed_at": point.observed_at,
                **_price_fields(point.price),
            }


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
    from reports.pricing.chart import price_chart_svg

    env = _environment()
    section = env.get_template("price_model.html")
    overview = []
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as sections:
        for model in report.models:
            view = _model_view(model, report.currency, price_chart_svg)
            if view["section"]:
                sections.write(section.render(m=view) + "\n")
            summary = dataclasses.replace(model, competitors=(), history=())
            overview.append(
                {"model": summary, "anchor": view["anchor"], "section": view["section"]}
            )
            del view, model
        page = env.get_template("prices.html").render(
            report=report, models=overview, sections=Markup(SECTIONS)
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
    svg = chart(model, currency) if model.history else None
    return {
        "model": model,
        "anchor": "m-" + "".join(c if c.isalnum() else "-" for c in model.model.lower()),
        "section": bool(model.listings or model.history),
        "price": lambda point: _shown(point, currency),
        "msrp": " · ".join(format_money(v, k) for k, v in model.msrp.items())
        + "".join(
            f" ({storage}: " + " · ".join(format_money(v, k) for k, v in table.items()) + ")"
            for storage, table in model.variant_msrp.items()
        ),
        "landed": [_landed_text(model, code) for code in model.landed_cost],
        "undercutters": [c for c in model.competitors if c.below_landed],
        "chart": Markup(svg) if svg else None,
        "history": _history_table(model),
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


def _history_table(model: ModelPricing) -> dict:
    """Sellers × recent crawl runs: the seller's cheapest price in each run."""
    runs = sorted({(p.crawl_run_id, p.observed_at[:10]) for p in model.history})
    runs = runs[-HISTORY_COLUMNS:]
    shown_runs = {run_id for run_id, _ in runs}
    cells: dict[tuple[str, str], dict[int, PricePoint]] = {}
    for point in model.history:
        if point.crawl_run_id not in shown_runs:
            continue
        row = cells.setdefault((point.seller, point.source), {})
        best = row.get(point.crawl_run_id)
        if best is None or point.price.amount < best.amount:
            row[point.crawl_run_id] = point.price
    current = {(p.seller, p.source) for p in model.history if p.is_current}
    rows = [
        {
            "seller": seller,
            "source": source,
            "gone": (seller, source) not in current,
            "prices": [prices.get(r) for r, _ in runs],
        }
        for (seller, source), prices in sorted(cells.items(), key=_cheapest_now(current))
    ]
    return {"runs": runs, "rows": rows, "hidden_runs": len(model.history) and _hidden(model)}


def _cheapest_now(current: set):
    """Current sellers first, by their latest price; gone sellers after."""

    def key(item):
        (seller, source), prices = item
        latest = prices[max(prices)]
        amount = latest.converted if latest.converted is not None else float("inf")
        return ((seller, source) not in current, amount, seller, source)

    return key


def _hidden(model: ModelPricing) -> int:
    return max(0, len({p.crawl_run_id for p in model.history}) - HISTORY_COLUMNS)


def pct(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "—"
    text = f"{value * 100:+.1f} %" if signed else f"{value * 100:.1f} %"
    return text.replace("-", "−")


def day(value: str | None) -> str:
    return value[:10] if value else "—"
