"""`grayhound prices` streams: one catalog model's observations are read, priced and written
before the next model's are read, and the streamed report is the whole-store report."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import fields

import pytest

from reports.pricing.build import (
    HistoryPoint,
    plain,
    price_report,
    stream_price_report,
)
from reports.pricing.competitors import PricePoint
from reports.pricing.render import render_html, write_json, write_price_csv
from reports.pricing.table import print_table


class CountingSource:
    """The store's price history, counting the rows read so far: one per current listing,
    one per observation of the history, one per entry of a listing's price trail."""

    def __init__(self, store):
        self.store = store
        self.listings = self.history = self.whole = 0

    def price_model_names(self):
        return self.store.price_model_names()

    def price_data_as_of(self):
        return self.store.price_data_as_of()

    def model_price_listings(self, names, condition, newest, rated=()):
        for row in self.store.model_price_listings(names, condition, newest, rated):
            self.listings += 1
            yield row

    def model_price_history(self, names, condition, newest):
        for row in self.store.model_price_history(names, condition, newest):
            self.history += 1
            yield row

    def listings_price_trails(self, listing_ids):
        for listing_id, trail in self.store.listings_price_trails(listing_ids):
            self.whole += len(trail)
            yield listing_id, trail


def whole(store, config, **options):
    return price_report(list(store.price_observations()), store.runs(), config, **options)


@pytest.mark.parametrize(
    "options", [{}, {"condition": "any"}, {"condition": "used", "currency": "EUR"}]
)
def test_the_streamed_report_is_the_whole_store_report(priced_store, example_config, options):
    streamed = stream_price_report(priced_store, priced_store.runs(), example_config, **options)
    expected = whole(priced_store, example_config, **options)
    assert (streamed.currency, streamed.condition, streamed.data_as_of) == (
        expected.currency,
        expected.condition,
        expected.data_as_of,
    )
    assert tuple(streamed.models) == expected.models


def test_each_model_is_read_only_when_the_one_before_is_written(priced_store, example_config):
    source = CountingSource(priced_store)
    report = stream_price_report(source, priced_store.runs(), example_config)
    expected = {m.model: m for m in whole(priced_store, example_config).models}
    listings = history = whole_rows = 0
    for model in report.models:
        listings += model.listings  # one row per current listing (all priced here), no more
        whole_rows += 3 * (len(model.competitors) + 1)  # each seller's cheapest, the median
        assert source.listings == listings and source.whole <= whole_rows
        assert source.history == history  # the history is read only when it is walked
        points = tuple(model.history)
        history += len(points)
        assert source.history == history
        assert dataclasses.replace(model, history=points) == expected[model.model]
    assert listings == sum(m.listings for m in expected.values()) > 0


@pytest.mark.parametrize("fmt", ["json", "csv", "html", "table"])
def test_every_format_writes_the_streamed_report_as_the_whole_one(
    priced_store, example_config, fmt
):
    def written(report):
        out = io.StringIO()
        if fmt == "json":
            write_json(report, out)
        elif fmt == "csv":
            write_price_csv(report, out)
        elif fmt == "html":
            out.write(render_html(report))
        else:
            print_table(report, out)
        return out.getvalue()

    streamed = stream_price_report(priced_store, priced_store.runs(), example_config)
    assert written(streamed) == written(whole(priced_store, example_config))


def test_a_history_point_becomes_json_with_every_field():
    point = HistoryPoint(
        3, "2026-01-15", "Seller", "bazaar", 7, PricePoint(9.5, "EUR", 10.26), True
    )
    data = plain(point)
    assert set(data) == {f.name for f in fields(HistoryPoint)}
    assert data["price"] == {"amount": 9.5, "currency": "EUR", "converted": 10.26}
    assert {name: data[name] for name in data if name != "price"} == {
        f.name: getattr(point, f.name) for f in fields(HistoryPoint) if f.name != "price"
    }
