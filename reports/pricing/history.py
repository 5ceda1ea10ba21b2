"""One model's price history folded in one pass into what the HTML page draws and tabulates:
per seller (and source) and crawl run the cheapest price, the crawl runs and their times, who
is still current. Memory: sellers × crawl runs, whatever the number of observations. Folded
from the history's points (`summarize`, `summarize_rows`), or from the groups SQLite folded
them into (`summarize_groups`: Python's work per group, not per observation)."""

from __future__ import annotations

import math
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


def summarize_groups(groups, price, rates) -> HistorySummary | None:
    """`summarize_rows` of a model's history from the store's groups of it
    (`Store.model_price_history_groups`: run, seller, source, currency, time form, first time,
    cheapest price in cents, points, is_current), or None where the groups cannot give
    the same summary and the rows must be folded: a price or a time SQLite did not read (cents
    -1), a conversion that might not keep the order of amounts (`rates`: a rate negative or
    not a number), or two groups of a seller's run equally cheap in other currencies (the
    first in history order wins: a listing's order the groups do not keep).

    Why the groups give the same: a plain price's cents are its exact value, so the cheapest
    cents of a (seller, source, run, currency) is its cheapest amount, whose point is that of
    any of its rows; a conversion with a positive rate keeps the order of amounts (a product,
    a quotient and `round` never invert it), so the cheapest converted price of a currency is
    its cheapest amount's; the store's times of one day, digits at fixed places, are ordered
    as text (a time that is not is a group of its own)."""
    if not all(_keeps_order(rate) for rate in rates):
        return None
    summary = HistorySummary()
    dates, times, current = summary.run_dates, summary.run_times, summary.current
    cheapest, converted = summary.cheapest, summary.converted
    count = 0
    for run, seller, source, code, _, first_at, cents, points, is_current in groups:
        if cents < 0:
            return None
        count += points
        dates.add((run, first_at[:10]))  # a group's times are of one day, or one time
        when = datetime.fromisoformat(first_at.replace("Z", "+00:00"))
        first = times.get(run)
        if first is None or when < first:
            times[run] = when
        key = (seller, source)
        if is_current:
            current.add(key)
        point = price(f"{cents // 100}.{cents % 100:02d}", code)  # the same Decimal value
        runs = cheapest.get(key)
        if runs is None:
            runs = cheapest[key] = {}
        best = runs.get(run)
        if best is None or point.amount < best.amount:
            runs[run] = point
        elif point.amount == best.amount and point != best:
            return None  # equally cheap in another currency: the first listing's
        value = point.converted
        if value is not None:
            lows = converted.get(key)
            if lows is None:
                lows = converted[key] = {}
            low = lows.get(run)
            if low is None or value < low:
                lows[run] = value
    summary.points = count
    summary.run_ids = {run for run, _ in dates}
    return summary


def _keeps_order(rate) -> bool:
    """Whether converting with `rate` keeps the order of amounts (0: no conversion at all)."""
    return isinstance(rate, int | float) and (rate == 0 or (math.isfinite(rate) and rate > 0))


_NOTHING = object()
