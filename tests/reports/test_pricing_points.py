"""The shortcuts the price report takes per observation give what the plain rules give: a
stored price made into a point once per value (`PricePoints`), and a history summarised with
each crawl run's time counted once (`summarize`)."""

from __future__ import annotations

import itertools
import random
from datetime import datetime

import pytest

from reports.currency import Converter
from reports.pricing.build import PricePoints
from reports.pricing.competitors import PricePoint, point_of, price_amount
from reports.pricing.history import summarize

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
