"""The price-over-time chart of one catalog model drawn by matplotlib, for `grayhound serve`: an
inline SVG, readable offline, the same bytes for the same data (matplotlib's Agg/SVG backends
with a fixed hash salt and no date stamp). prices.html draws its charts without matplotlib
(`svgchart`)."""

from __future__ import annotations

import io
from datetime import timedelta

import matplotlib

matplotlib.use("Agg")

from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from reports.currency import format_money  # noqa: E402
from reports.pricing.build import ModelPricing, history_points  # noqa: E402
from reports.pricing.history import HistorySummary, summarize  # noqa: E402
from reports.pricing.series import price_series as _series  # noqa: E402

CHART_RC = {
    "svg.hashsalt": "grayhound-prices",  # stable element ids → identical files for same data
    "svg.fonttype": "path",  # glyphs as paths: no font needed to read the file offline
    "text.parse_math": False,  # a seller called "$$$ deals" is text, not mathtext
    "font.size": 9,
}


def price_chart_svg(
    model: ModelPricing, currency: str, summary: HistorySummary | None = None
) -> str | None:
    """An SVG <svg> element, or None when the model has no convertible history. `summary`:
    the model's history summarised (`history.summarize`), else summarised here."""
    if summary is None:
        summary = summarize(history_points(model.history))
    series = _series(summary)
    if not series:
        return None
    with matplotlib.rc_context(CHART_RC):
        figure = Figure(figsize=(11, 4.2), layout="constrained")
        axes = figure.add_subplot()
        for label, points in series:
            dates, prices = zip(*points, strict=True)
            axes.plot(dates, prices, marker="o", markersize=4, drawstyle="steps-post", label=label)
        _reference_lines(axes, model, currency)
        _widen_single_day(axes, series)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_money(v, currency)))
        date_axis(axes, maxticks=8)
        axes.set_ylabel(f"cheapest price per seller, {currency}")
        axes.margins(y=0.12)
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=3, frameon=False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def date_axis(axes, maxticks: int) -> None:
    """Dates on the x axis, hours when the runs share a day. minticks=2: with the default 5,
    a span of a few hours asks for minute ticks no interval fits, and matplotlib warns on the
    console ("AutoDateLocator was unable to pick an appropriate interval") for every chart."""
    locator = AutoDateLocator(minticks=2, maxticks=maxticks)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _widen_single_day(axes, series) -> None:
    """One crawl run gives one date: show a day either side instead of a zero-width axis."""
    dates = {when for _, points in series for when, _ in points}
    if len(dates) == 1:
        (only,) = dates
        axes.set_xlim(only - timedelta(days=1), only + timedelta(days=1))


def _reference_lines(axes, model: ModelPricing, currency: str) -> None:
    if model.msrp_converted is not None:
        _reference_line(axes, model.msrp_converted, "MSRP", currency, "#555", "--", 1.0)
    if model.landed_converted is not None:
        _reference_line(
            axes, model.landed_converted, "your landed cost", currency, "#c0392b", ":", 1.5
        )


def _reference_line(axes, value, label, currency, color, style, width) -> None:
    axes.axhline(value, color=color, linestyle=style, linewidth=width)
    axes.annotate(
        f"{label} {format_money(value, currency)}",
        (0, value),
        xycoords=("axes fraction", "data"),
        xytext=(4, 2),
        textcoords="offset points",
        color=color,
        va="bottom",
    )
