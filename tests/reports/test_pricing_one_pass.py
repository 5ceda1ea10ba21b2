"""`grayhound prices` reads every catalog model's current listings in one pass over the store
(`Store.price_listings_of_models`): the same rows, model by model, as reading each model's
through the index, on random stores; and the stores where that pass is not the cheaper one
(or not possible) read model by model, with the same report."""

from __future__ import annotations

import json
import random

import pytest

import grayhound.store.pricing as pricing
from reports.currency import Converter
from reports.pricing.build import _newest_runs, _rated, stored_names, stream_price_report
from tests.reports.conftest import judge_as, phone_listing
from tests.reports.test_pricing_random import _config, _populate, _written


def _groups(store, config):
    stored = store.price_model_names()
    return [stored_names(stored, entry) for entry in config.catalog]


def _model_by_model(store, groups, condition, newest, rated):
    return [
        (at, *row)
        for at, names in enumerate(groups)
        for row in store.model_price_listings(names, condition, newest, rated)
        if names
    ]


def _temp_tables(store) -> list[str]:
    return [name for (name,) in store.db.execute("SELECT name FROM temp.sqlite_master")]


def test_the_one_pass_gives_each_models_rows(store, example_config, monkeypatch):
    monkeypatch.setattr(pricing, "TAIL_LIMIT", 10**9)  # taken whenever it can be
    config = _config(example_config)
    taken = 0
    for seed in range(12):
        store.db.execute("DELETE FROM findings")
        _populate(store, random.Random(seed))
        groups, newest = _groups(store, config), _newest_runs(store.runs())
        sources = store.listing_sources()
        assert sources == sorted(
            {row[0] for row in store.db.execute("SELECT source FROM listings")}
        )
        for condition in ("new", "any", "used"):
            for rated in ([], _rated(Converter("EUR", dict(config.pricing.rates)))):
                rows = store.price_listings_of_models(groups, condition, newest, rated)
                if rows is None:  # only when a source's listings have no finished run
                    assert min(max(newest.get(s, 0), newest.get(None, 0)) for s in sources) == 0
                    continue
                taken += 1
                assert list(rows) == _model_by_model(store, groups, condition, newest, rated)
                assert _temp_tables(store) == []
    assert taken >= 12


def test_names_and_counts_are_those_of_every_judgement(store, example_config):
    for seed in range(4):
        _populate(store, random.Random(seed))
        distinct = [
            name
            for (name,) in store.db.execute(
                "SELECT DISTINCT model FROM findings WHERE subject_kind = 'listing'"
                " AND is_current = 1 AND model IS NOT NULL ORDER BY model"
            )
        ]
        assert store.price_model_names() == distinct
        groups = _groups(store, example_config) + [[], distinct]
        expected = [
            store.db.execute(
                "SELECT COUNT(*) FROM findings WHERE subject_kind = 'listing'"
                " AND is_current = 1 AND model IN (SELECT value FROM json_each(?))",
                [json.dumps(names)],
            ).fetchone()[0]
            for names in groups
        ]
        assert store.price_listing_counts(groups) == expected
        assert expected[-1] > 0


def _two_runs(store, sources_of_second, finished=True):
    """Phone 1 and 2 of bazaar and Phone 3 of souk, all judged Xiaomi 14 Pro, seen in a run of
    both sources, then in a second run of `sources_of_second`."""
    ids = []
    for day, sources in enumerate((["bazaar", "souk"], sources_of_second), start=1):
        at = f"2026-02-0{day}T10:00:00.000Z"
        run = store.start_run(sources, at)
        for key, source in ((1, "bazaar"), (2, "bazaar"), (3, "souk")):
            if source in sources:
                listing = phone_listing(source, key, f"{600 + day * 10 + key}.00")
                ids.append(store.record_listing(run, source, listing, None, at)[0])
        store.finish_run(run, at, "finished" if finished or day == 1 else "failed", {})
    judge_as(store, ids)


@pytest.mark.parametrize(
    ("second", "finished", "limit", "taken"),
    [
        (["bazaar", "souk"], True, 2, True),  # the current run: one observation a listing
        (["bazaar"], True, 2, True),  # souk's current run is the first: two a listing read
        (["bazaar"], True, 1, False),  # ... more than one a listing: model by model
        (["bazaar"], False, 2, True),  # the second run failed: the first is current
    ],
)
def test_the_one_pass_is_taken_only_when_cheaper(
    store, example_config, monkeypatch, second, finished, limit, taken
):
    monkeypatch.setattr(pricing, "TAIL_LIMIT", limit)
    _two_runs(store, second, finished)
    groups, newest = _groups(store, example_config), _newest_runs(store.runs())
    rows = store.price_listings_of_models(groups, "new", newest, [])
    assert (rows is not None) == taken
    expected = _model_by_model(store, groups, "new", newest, [])
    assert len(expected) == 3  # souk's listing is current in each case
    if rows is not None:
        assert list(rows) == expected


def test_a_source_without_a_finished_run_is_read_model_by_model(store, example_config):
    _two_runs(store, ["bazaar"])
    store.db.execute("UPDATE crawl_runs SET sources = '[\"bazaar\"]'")  # souk: never finished
    groups, newest = _groups(store, example_config), _newest_runs(store.runs())
    assert newest == {"bazaar": 2}
    assert store.price_listings_of_models(groups, "new", newest, []) is None
    rows = _model_by_model(store, groups, "new", newest, [])
    assert [row[6] for row in rows] == ["bazaar", "bazaar", "souk"]  # souk's: all current
    report = stream_price_report(store, store.runs(), example_config)
    assert next(m for m in report.models if m.model == "Xiaomi 14 Pro").listings == 3


def test_a_name_in_two_models_is_read_model_by_model(store, example_config):
    _two_runs(store, ["bazaar", "souk"])
    newest = _newest_runs(store.runs())
    groups = [["Xiaomi 14 Pro"], ["Xiaomi 14 Pro"]]
    assert store.price_listings_of_models(groups, "new", newest, []) is None


def test_the_copy_is_dropped_when_reading_stops_early(store, example_config):
    _two_runs(store, ["bazaar", "souk"])
    store.db.conn.commit()
    groups, newest = _groups(store, example_config), _newest_runs(store.runs())
    rows = store.price_listings_of_models(groups, "any", newest, [])
    next(rows)
    assert [name[: len("price_latest_")] for name in _temp_tables(store)] == ["price_latest_"]
    rows.close()
    assert _temp_tables(store) == []
    assert not store.db.conn.in_transaction  # as it was: no snapshot kept open
    assert len(list(store.price_listings_of_models(groups, "any", newest, []))) == 3
    assert not store.db.conn.in_transaction


def test_a_copy_that_cannot_be_dropped_yet_does_not_stop_the_next(store, example_config):
    _two_runs(store, ["bazaar", "souk"])
    groups, newest = _groups(store, example_config), _newest_runs(store.runs())
    reading = store.db.conn.execute("SELECT id FROM listings")  # a statement still reading
    next(reading)
    rows = store.price_listings_of_models(groups, "any", newest, [])
    next(rows)
    rows.close()  # SQLite refuses the DROP while a statement reads: left for the connection
    assert len(_temp_tables(store)) == 1
    assert len(list(store.price_listings_of_models(groups, "any", newest, []))) == 3
    reading.close()


@pytest.mark.parametrize("seed", range(2))
def test_the_report_is_the_same_read_in_one_pass_or_model_by_model(
    store, example_config, monkeypatch, seed
):
    _populate(store, random.Random(seed))
    config = _config(example_config)
    written = {}
    for limit in (10**9, 0):  # 0: never in one pass
        monkeypatch.setattr(pricing, "TAIL_LIMIT", limit)
        for options in ({}, {"condition": "any", "currency": "EUR"}):
            for fmt in ("json", "table"):
                report = stream_price_report(
                    store, store.runs(), config, history=fmt != "table", **options
                )
                written.setdefault((str(options), fmt), set()).add(_written(report, fmt))
    assert all(len(texts) == 1 for texts in written.values())
