"""A listing's price over time: an inline SVG drawn by matplotlib like `grayhound prices`'
charts (text as paths, so a seller's words can never become markup), with the MSRP and the
low/high thresholds as reference lines."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime, timedelta

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from reports.currency import format_money  # noqa: E402
from reports.pricing.chart import CHART_RC, date_axis  # noqa: E402


def price_history_svg(
    observations: list[dict], msrp: float | None, msrp_currency: str | None, pricing
) -> str | None:
    """An <svg> element of the listing's price per crawl run, or None when it has no price.

    Only prices in the listing's usual currency are drawn; the MSRP line only when it is in
    that currency too (no silent conversion in a picture)."""
    currency, points = _points(observations)
    if not points:
        return None
    with matplotlib.rc_context(CHART_RC):
        figure = Figure(figsize=(8, 2.8), layout="constrained")
        axes = figure.add_subplot()
        dates, prices = zip(*points, strict=True)
        axes.plot(dates, prices, marker="o", markersize=5, drawstyle="steps-post", label="price")
        if msrp and msrp_currency == currency:
            axes.axhline(msrp, color="#555", linestyle="--", linewidth=1, label="MSRP")
            axes.axhline(
                msrp * pricing.low_ratio, color="#c0392b", linestyle=":", linewidth=1,
                label=f"low ({pricing.low_ratio:.0%} of MSRP)",
            )  # fmt: skip
        if max(dates) - min(dates) < timedelta(hours=1):  # one crawl, or a few close together
            axes.set_xlim(min(dates) - timedelta(hours=12), max(dates) + timedelta(hours=12))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_money(v, currency)))
        date_axis(axes, maxticks=6)
        axes.margins(x=0.05, y=0.2)
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="upper left", fontsize=8, frameon=False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _points(observations: list[dict]) -> tuple[str | None, list[tuple[datetime, float]]]:
    currencies = Counter(o["currency"] for o in observations if o.get("price") is not None)
    if not currencies:
        return None, []
    currency = currencies.most_common(1)[0][0]
    points = []
    for o in observations:
        if o.get("price") is None or o.get("currency") != currency:
            continue
        try:
            price = float(o["price"])
        except ValueError:
            continue
        when = datetime.fromisoformat(o["observed_at"].replace("Z", "+00:00"))
        points.append((when, price))
    return currency, points
