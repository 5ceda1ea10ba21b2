"""The shortcuts the price report takes per observation give what the plain rules give: a
stored price made into a point once per value (`PricePoints`), a history summarised with
each crawl run's time counted once (`summarize`), and summarised straight from the store's rows
(`summarize_rows`, what the HTML page reads) as from their points."""

from __future__ import annotations

import itertools
import random
from datetime import datetime

import pytest

from reports.currency import Converter
from reports.pricing.build import PricePoints
from reports.pricing.competitors import PricePoint, point_of, price_amount
from reports.pricing.history import summarize, summarize_rows

PRICES = ("699.00", "549", "1e3", " 12.5 ", "abc", None, "0.10", "1_000", "-5", "NaN", "", 12)
CURRENCIES = ("USD", "EUR", "GBP", "CHF", None, "")


@pytest.mark.parametrize("target", ["USD", "EUR"])
def test_a_price_point_is_the_point_of_its_row(target):
    converter = Converter(target, {"EUR": 1.08, "GBP": 1.27})
    points = PricePoints(converter)
    for _ in range(2):  # computed, then remembered
        for price, currency in itertools.product(PRICES, CURRENCIES):
            row = {"price": price, "currency": currency}
            expected = point_of(row, converter) if price_amount(row) is not None else None
            # repr: a NaN price is a point too, and NaN equals nothing
            assert repr(points(price, currency)) == repr(expected), (price, currency)


def _plain_summary(points):
    """What the HTML page needs, computed the obvious way."""
    run_times, dates, cheapest = {}, set(), {}
    for run, at, seller, source, _, price, _ in points:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
        run_times[run] = min(run_times.get(run, when), when)
        dates.add((run, at[:10]))
        best = cheapest.setdefault((seller, source), {}).get(run)
        if best is None or price.amount < best.amount:
            cheapest[(seller, source)][run] = price
    return run_times, dates, cheapest


def test_a_summary_counts_every_time_of_a_run():
    """Observations of one run at several times, in any order (a crawl takes hours), the
    earliest not first: the run starts at the earliest."""
    rng = random.Random(7)
    points = []
    for run in (1, 2, 3):
        for listing_id in range(60):
            at = f"2026-03-0{run}T{rng.choice(['23', '09', '10'])}:{rng.randint(10, 59)}:00Z"
            amount = float(rng.randint(100, 120))
            points.append(
                (run, at, rng.choice("ab"), "bazaar", listing_id, PricePoint(amount, "USD", amount),
                 True)
            )  # fmt: skip
    points.sort(key=lambda point: (point[0], point[2], point[4]))
    summary = summarize(points)
    run_times, dates, cheapest = _plain_summary(points)
    assert summary.run_times == run_times
    assert summary.run_dates == dates
    assert summary.cheapest == cheapest
    assert summary.points == len(points)


def _stored_rows(rng: random.Random) -> list[tuple]:
    """History rows as `PriceHistoryRows.raw` gives them (run, time, seller, source, listing,
    price, currency, is_current), in history order: one seller's listings on two sources
    interleaved, a run's times repeating out of order, prices that are no point (skipped),
    NaN, equal amounts in other currencies, no currency, no rate, unnamed sources."""
    rows = []
    for run in (1, 2, 3, 5):
        for listing_id in range(80):
            rows.append((
                run,
                f"2026-03-0{run}T{rng.choice(['23', '09'])}:{rng.choice(['10', '11'])}:00Z",
                rng.choice(["a", "b", "", "(unnamed, x)", None]),
                rng.choice(["bazaar", "shop", None]),
                listing_id,
                rng.choice(["100", "100.00", "99.5", "abc", None, "NaN", "120", 100]),
                rng.choice(["USD", "EUR", "JPY", None, ""]),
                rng.choice([0, 1]),
            ))  # fmt: skip
    rows.sort(key=lambda row: (row[0], str(row[2]), row[4]))
    return rows


@pytest.mark.parametrize("seed", range(6))
def test_a_summary_of_the_stored_rows_is_the_summary_of_their_points(seed):
    rows = _stored_rows(random.Random(seed))
    prices = PricePoints(Converter("USD", {"EUR": 1.08}))
    points = []
    for run, at, seller, source, listing_id, price, currency, is_current in rows:
        point = prices(price, currency)
        if point is not None:
            points.append((run, at, seller, source, listing_id, point, bool(is_current)))
    run_times, dates, cheapest = _plain_summary(points)
    converted, current = {}, set()
    for run, _, seller, source, _, point, is_current in points:
        if is_current:
            current.add((seller, source))
        if point.converted is not None:
            runs = converted.setdefault((seller, source), {})
            runs[run] = min(runs.get(run, point.converted), point.converted)
    for summary in (summarize_rows(rows, prices, prices.known), summarize_rows(rows, prices)):
        assert summary.points == len(points)
        assert (summary.run_times, summary.run_dates) == (run_times, dates)
        assert summary.run_ids == {run for run, _ in dates}
        # the points are the cache's own objects: a NaN amount is equal to itself here
        assert summary.cheapest == cheapest
        assert summary.converted == converted
        assert summary.current == current
        assert summary == summarize(points)
