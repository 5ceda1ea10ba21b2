"""`grayhound prices --format json` writes each model's history straight from its points:
the same text json writes for the model turned into plain data."""

from __future__ import annotations

import dataclasses

from reports.pricing.build import HistoryPoint, plain, stream_price_report
from reports.pricing.competitors import PricePoint
from reports.pricing.render import _dumps, model_json

HOSTILE = ['"history": "\x00history\x00"', "\x00history\x00", "naïve «seller» \u202e", "a\\b\n"]


def test_a_models_json_is_json_of_its_plain_data(priced_store, example_config):
    report = stream_price_report(priced_store, priced_store.runs(), example_config)
    models = [model for model in report.models if model.history]
    assert models
    for model in models:
        assert model_json(model) == _dumps(plain(model))


def test_hostile_sellers_and_odd_numbers_are_written_as_json_writes_them(
    priced_store, example_config
):
    report = stream_price_report(priced_store, priced_store.runs(), example_config)
    model = next(model for model in report.models if model.history)
    amounts = [1e-07, 1e22, float("inf"), float("nan"), -0.0, 3]
    points = tuple(
        HistoryPoint(n, "2026-01-15", seller, None if n % 2 else "bazaar", n,
                     PricePoint(amount, None if n % 3 else "EUR", None), bool(n % 2))
        for n, (seller, amount) in enumerate(zip(HOSTILE * 2, amounts, strict=False))
    )  # fmt: skip
    rivals = tuple(dataclasses.replace(c, seller=HOSTILE[0]) for c in model.competitors)
    odd = dataclasses.replace(model, history=points, competitors=rivals)
    assert model_json(odd) == _dumps(plain(odd))


def test_the_terminal_table_builds_no_history(example_config_path, example_config, monkeypatch):
    from grayhound.cli import main
    from grayhound.store import open_store
    from reports.pricing import build
    from tests.reports.conftest import populate

    with open_store(example_config.storage.database) as store:
        populate(store)
        full = list(stream_price_report(store, store.runs(), example_config).models)
        bare = stream_price_report(store, store.runs(), example_config, history=False)
        assert [dataclasses.replace(m, history=()) for m in full] == list(bare.models)
    built, real = [], build.PriceHistoryRows.raw
    monkeypatch.setattr(build.PriceHistoryRows, "raw", lambda self: built.append(1) or real(self))
    out = str(example_config_path.parent / "prices.txt")
    assert main(["--config", str(example_config_path), "prices", "--out", out]) == 0
    assert built == []  # a point per observation, that the table never shows
    # (the JSON reads the history through `raw` where it renders it whole)
    argv = ["--config", str(example_config_path), "prices", "--format", "json", "--no-cache"]
    assert main(argv) == 0
    assert built
