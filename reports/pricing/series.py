"""What a model's price chart draws, whoever draws it: per seller (and source) the cheapest
converted price of each crawl run, the cheapest current sellers first, and their legend labels.
No drawing library here: the report's SVG (`svgchart`) and serve's matplotlib (`chart`) share it."""

from __future__ import annotations

from datetime import datetime

from grayhound.text import terminal_text
from reports.pricing.history import HistorySummary

MAX_SERIES = 8  # more lines than this are unreadable; the cheapest sellers are drawn
LABEL_CHARS = 32  # seller names are page text of any length


def price_series(summary: HistorySummary) -> list[tuple[str, list[tuple[datetime, float]]]]:
    """Per seller, the cheapest converted price per crawl run; cheapest sellers first."""
    current, times = summary.current, summary.run_times
    by_seller = {
        key: {run: (times[run], value) for run, value in runs.items()}
        for key, runs in summary.converted.items()
    }
    ranked = sorted(
        by_seller.items(), key=lambda item: (item[0] not in current, _latest(item[1]), item[0])
    )
    return [
        (series_label(seller, source, (seller, source) in current), [runs[r] for r in sorted(runs)])
        for (seller, source), runs in ranked[:MAX_SERIES]
    ]


def _latest(runs: dict[int, tuple[datetime, float]]) -> float:
    return runs[max(runs)][1]


def series_label(seller: str, source: str, is_current: bool) -> str:
    """A legend entry: page text with its escape sequences and controls removed (matplotlib
    would warn about each missing glyph on stderr) and its invisible characters shown."""
    name = terminal_text(seller, LABEL_CHARS)
    return f"{name} ({terminal_text(source)})" + ("" if is_current else " — listing gone")
