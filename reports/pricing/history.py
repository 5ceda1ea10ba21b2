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
    is_current) in history order (`reports.pricing.build.history_points`)."""
    rows = (point[:6] + (None, point[6]) for point in points)
    return summarize_rows(rows, lambda point, _: point)


def summarize_rows(rows, price, known: dict | None = None) -> HistorySummary:
    """`summarize` of the store's rows as `PriceHistoryRows.raw` gives them: (crawl_run_id,
    observed_at, seller, source, listing_id, price, currency, is_current); `price(price,
    currency)` is the row's PricePoint (None: not a point), `known` its cache. Folded straight
    from the rows, no tuple made per point; the rows come by run and seller, so a run's time
    and a seller's tables are looked up when they change, not at every point."""
    summary = HistorySummary()
    dates, times, current = summary.run_dates, summary.run_times, summary.current
    cheapest, converted = summary.cheapest, summary.converted
    known = {} if known is None else known
    moments: set = set()  # (run, time) pairs already counted: one per crawl run, mostly
    parsed: dict[str, datetime] = {}
    count = 0
    last_run = last_at = last_seller = last_source = _NOTHING
    key = runs = lows = None
    for run, at, seller, source, _, text, code, is_current in rows:
        point = known.get((text, code), _NOTHING)
        if point is _NOTHING:
            point = price(text, code)
        if point is None:
            continue
        count += 1
        if at != last_at or run != last_run:
            last_run, last_at = run, at
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
        if seller != last_seller or source != last_source:
            last_seller, last_source = seller, source
            key = (seller, source)
            runs = cheapest.get(key)
            if runs is None:
                runs = cheapest[key] = {}
            lows = converted.get(key)
        if is_current:
            current.add(key)
        best = runs.get(run)
        if best is None or point.amount < best.amount:
            runs[run] = point
        value = point.converted
        if value is not None:
            if lows is None:
                lows = converted[key] = {}
            low = lows.get(run)
            if low is None or value < low:
                lows[run] = value
    summary.points = count
    summary.run_ids = {run for run, _ in dates}
    return summary


_NOTHING = object()
