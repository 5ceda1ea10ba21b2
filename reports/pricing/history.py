"""One model's price history folded in one pass into what the HTML page draws and tabulates:
per seller (and source) and crawl run the cheapest price, the crawl runs and their times, who
is still current. Memory: sellers × crawl runs, whatever the number of observations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reports.pricing.competitors import PricePoint


@dataclass
class HistorySummary:
    points: int = 0
    run_dates: set[tuple[int, str]] = field(default_factory=set)  # (crawl run, its day)
    run_ids: set[int] = field(default_factory=set)
    run_times: dict[int, datetime] = field(default_factory=dict)  # each run's first instant
    current: set[tuple[str, str]] = field(default_factory=set)  # (seller, source) still listed
    # (seller, source) → run → the cheapest point by amount (the first of equals, in history
    # order), and → run → the cheapest converted price (only sellers with one)
    cheapest: dict[tuple[str, str], dict[int, PricePoint]] = field(default_factory=dict)
    converted: dict[tuple[str, str], dict[int, float]] = field(default_factory=dict)


def summarize(points) -> HistorySummary:
    """`points`: (crawl_run_id, observed_at, seller, source, listing_id, PricePoint,
    is_current) in history order (`reports.pricing.render._history_points`)."""
    summary = HistorySummary()
    dates, times, current = summary.run_dates, summary.run_times, summary.current
    cheapest, converted = summary.cheapest, summary.converted
    moments: set = set()  # (run, time) pairs already counted: one per crawl run, mostly
    parsed: dict[str, datetime] = {}
    count = 0
    for run, at, seller, source, _, price, is_current in points:
        count += 1
        if (run, at) not in moments:
            if len(moments) > 10_000:
                moments.clear()
            moments.add((run, at))
            dates.add((run, at[:10]))
            when = parsed.get(at)
            if when is None:
                if len(parsed) > 10_000:
                    parsed.clear()
                when = parsed[at] = datetime.fromisoformat(at.replace("Z", "+00:00"))
            first = times.get(run)
            if first is None or when < first:
                times[run] = when
        key = (seller, source)
        if is_current:
            current.add(key)
        runs = cheapest.get(key)
        if runs is None:
            runs = cheapest[key] = {}
        best = runs.get(run)
        if best is None or price.amount < best.amount:
            runs[run] = price
        value = price.converted
        if value is not None:
            runs = converted.get(key)
            if runs is None:
                runs = converted[key] = {}
            low = runs.get(run)
            if low is None or value < low:
                runs[run] = value
    summary.points = count
    summary.run_ids = {run for run, _ in dates}
    return summary
