"""The price-over-time chart of one catalog model in prices.html: an inline SVG written from a
template, no drawing library. Per seller a step line of the cheapest price of each crawl run
(markers with their date and price on hover), the MSRP and landed-cost lines, price and date
axes, a legend below. Every text in it is page text escaped by jinja2; the same data gives the
same bytes. (matplotlib's import and layout cost ~1.7 s a report; serve keeps `chart`.)"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from reports.currency import format_money
from reports.pricing.build import ModelPricing, history_points
from reports.pricing.history import HistorySummary, summarize
from reports.pricing.series import price_series

WIDTH, PLOT_TOP, PLOT_HEIGHT = 1050, 12, 270  # px; the page scales the drawing to its width
PLOT_LEFT, PLOT_RIGHT = 86, 1034  # room for the prices and the axis title on the left
LEGEND_COLUMNS, LEGEND_ROW, LEGEND_WIDTH = 3, 20, 290
# matplotlib's default cycle, so the lines keep the colours the chart had
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
MAX_DATE_TICKS = 8
Y_MARGIN = 0.12  # of the price span, above and below, as the matplotlib chart had
X_MARGIN = 0.05
# date tick steps that read well, in seconds (then months: MONTH_STEPS)
STEPS = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,  # seconds and minutes
    3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600,  # hours, days, weeks
)  # fmt: skip
MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60)

_TEMPLATE = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # seller names are page text
    trim_blocks=True,
    lstrip_blocks=True,
).get_template("price_chart.svg")


def price_chart_svg(
    model: ModelPricing, currency: str, summary: HistorySummary | None = None
) -> str | None:
    """An SVG <svg> element, or None when the model has no convertible history."""
    if summary is None:
        summary = summarize(history_points(model.history))
    # a price that is not a number (NaN from the page) is no point: matplotlib left a gap
    # and a time stored without an offset is UTC, as the store writes every time
    series = [
        (label, [(_utc(when), value) for when, value in points if math.isfinite(value)])
        for label, points in price_series(summary)
    ]
    references = [line for line in _references(model, currency) if math.isfinite(line[1])]
    times = [when for _, points in series for when, _ in points]
    prices = [value for _, points in series for _, value in points]
    if not times:
        return None
    prices += [value for _, value, *_ in references]
    x_axis = _date_scale(min(times), max(times))
    y_axis = _price_scale(min(prices), max(prices))
    lines = [
        _line(label, points, COLOURS[n % len(COLOURS)], x_axis, y_axis, currency)
        for n, (label, points) in enumerate(series)
    ]
    legend_top = PLOT_TOP + PLOT_HEIGHT + 46
    rows = math.ceil(len(lines) / LEGEND_COLUMNS)
    legend_left = (PLOT_LEFT + PLOT_RIGHT - min(len(lines), LEGEND_COLUMNS) * LEGEND_WIDTH) / 2
    svg = _TEMPLATE.render(
        width=WIDTH,
        height=legend_top + rows * LEGEND_ROW + 4,
        left=PLOT_LEFT,
        right=PLOT_RIGHT,
        top=PLOT_TOP,
        bottom=PLOT_TOP + PLOT_HEIGHT,
        title=f"Cheapest price per seller and crawl run: {model.model}",
        axis_title=f"cheapest price per seller, {currency}",
        price_ticks=[(_y(v, y_axis), format_money(v, currency)) for v in y_axis[2]],
        date_ticks=[(_x(when, x_axis), label, day) for when, label, day in x_axis[2]],
        references=[
            (_y(value, y_axis), text, colour, dash, width)
            for text, value, colour, dash, width in references
        ],
        lines=lines,
        legend=[
            (
                legend_left + (n % LEGEND_COLUMNS) * LEGEND_WIDTH,
                legend_top + (n // LEGEND_COLUMNS) * LEGEND_ROW,
                line,
            )
            for n, line in enumerate(lines)
        ],
    )
    return svg + "\n"  # as matplotlib's file ended: the page around it keeps its bytes


def _references(model: ModelPricing, currency: str) -> list[tuple]:
    """(text, value, colour, dash pattern, stroke width) of the MSRP and landed-cost lines."""
    drawn = []
    if model.msrp_converted is not None:
        value = model.msrp_converted
        drawn.append((f"MSRP {format_money(value, currency)}", value, "#555", "6 4", 1.0))
    if model.landed_converted is not None:
        value = model.landed_converted
        text = f"your landed cost {format_money(value, currency)}"
        drawn.append((text, value, "#c0392b", "1.5 3", 1.5))
    return drawn


def _line(label, points, colour, x_axis, y_axis, currency) -> dict:
    """A seller's steps (each price held until the next run's) and its markers."""
    xy = [(_x(when, x_axis), _y(value, y_axis)) for when, value in points]
    path = "".join(f"H{x:.1f}V{y:.1f}" if n else f"M{x:.1f},{y:.1f}" for n, (x, y) in enumerate(xy))
    marks = [
        (x, y, f"{label}: {format_money(value, currency)} on {when:%Y-%m-%d %H:%M}")
        for (x, y), (when, value) in zip(xy, points, strict=True)
    ]
    return {"label": label, "colour": colour, "path": path, "marks": marks}


def _x(when: datetime, axis) -> float:
    low, high, _ = axis
    span = (high - low).total_seconds()
    return PLOT_LEFT + (when - low).total_seconds() / span * (PLOT_RIGHT - PLOT_LEFT)


def _y(value: float, axis) -> float:
    low, high, _ = axis
    return PLOT_TOP + (high - value) / (high - low) * PLOT_HEIGHT


def _price_scale(lowest: float, highest: float) -> tuple[float, float, list[float]]:
    """The price range drawn (a margin either side) and round prices to mark on it."""
    span = highest - lowest
    if span <= 0:
        span = abs(highest) * 0.1 or 1.0
    low, high = lowest - span * Y_MARGIN, highest + span * Y_MARGIN
    if not math.isfinite(high - low):  # prices near the largest float: no margin, no marks
        return lowest, highest if highest > lowest else lowest + 1.0, []
    step = _round_step((high - low) / 8)
    first = math.ceil(low / step)
    ticks = [n * step for n in range(first, math.floor(high / step) + 1)]
    return low, high, ticks


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _round_step(rough: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, the smallest at least `rough`."""
    if not rough > 0:  # prices so close together that their span underflows: unit steps
        return 1.0
    power = 10 ** math.floor(math.log10(rough))
    return next(n * power for n in (1, 2, 2.5, 5, 10) if n * power >= rough)


def _date_scale(first: datetime, last: datetime) -> tuple[datetime, datetime, list[tuple]]:
    """The time range drawn and its ticks: (instant, label, second line or "") at most
    MAX_DATE_TICKS; hours and minutes when the runs share days, the date under the first tick
    of each day. One instant (one crawl run): a day either side."""
    if last == first:
        low, high = first - timedelta(days=1), last + timedelta(days=1)
    else:
        pad = (last - first) * X_MARGIN
        low, high = first - pad, last + pad
    span = (high - low).total_seconds()
    step = next((s for s in STEPS if span / s <= MAX_DATE_TICKS - 1), None)
    if step is None:
        instants = _month_ticks(low, high)
    else:
        epoch = datetime(1970, 1, 1, tzinfo=low.tzinfo)  # stored times are UTC: midnights
        start = math.ceil((low - epoch).total_seconds() / step) * step
        instants = [
            epoch + timedelta(seconds=start + n * step)
            for n in range(int((span - (start - (low - epoch).total_seconds())) // step) + 1)
        ]
    ticks, day = [], None
    for when in instants:
        if step is not None and step < 86400:
            shown_day = f"{when:%Y-%m-%d}" if when.date() != day else ""
            ticks.append((when, when.strftime("%H:%M:%S" if step < 60 else "%H:%M"), shown_day))
            day = when.date()
        else:
            ticks.append((when, f"{when:%Y-%m-%d}", ""))
    return low, high, ticks


def _month_ticks(low: datetime, high: datetime) -> list[datetime]:
    months = (high.year - low.year) * 12 + high.month - low.month + 1
    step = next((m for m in MONTH_STEPS if months / m <= MAX_DATE_TICKS - 1), MONTH_STEPS[-1])
    year, month = low.year, low.month
    ticks = []
    while True:
        when = datetime(year, month, 1, tzinfo=low.tzinfo)
        if when > high:
            return ticks
        if when >= low and (year * 12 + month - 1) % step == 0:
            ticks.append(when)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
