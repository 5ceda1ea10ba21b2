"""`grayhound prices` outputs: HTML escapes page text, CSV neutralises formulas, the formats agree."""

from __future__ import annotations

import csv
import io
import json
import warnings
from datetime import UTC, datetime, timedelta

import pytest

from grayhound.cli import main
from grayhound.config import Pricing
from grayhound.store import open_store
from reports.pricing.build import price_report
from reports.pricing.render import render_html, write_json, write_price_csv


def build(store, config, **options):
    return price_report(list(store.price_observations()), store.runs(), config, **options)


def test_html_escapes_a_hostile_seller_and_is_self_contained(priced_store, example_config):
    html = render_html(build(priced_store, example_config))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<svg" in html and " src=" not in html and "<link" not in html
    assert html == render_html(build(priced_store, example_config))  # same data, same bytes


def test_html_answers_who_undercuts_by_how_much_since_when(priced_store, example_config):
    html = render_html(build(priced_store, example_config))
    alert = html[html.index("seller below your landed cost") :][:1200]
    assert "CheapPhones" in alert
    assert "$27.00 below your landed cost" in alert
    assert "Below your cost since <strong>2026-01-08</strong>" in alert


def test_csv_neutralises_formulas_and_carries_the_json_numbers(
    priced_store, example_config, hostile_seller
):
    report = build(priced_store, example_config)
    text, data = io.StringIO(), io.StringIO()
    write_price_csv(report, text)
    write_json(report, data)
    rows = list(csv.DictReader(io.StringIO(text.getvalue())))
    sellers = [r["seller"] for r in rows if r["record"] == "competitor"]
    assert "'" + hostile_seller in sellers and hostile_seller not in sellers
    cheap = next(r for r in rows if r["record"] == "competitor" and r["seller"] == "CheapPhones")
    pro = next(m for m in json.loads(data.getvalue())["models"] if m["model"] == "Xiaomi 14 Pro")
    first = pro["competitors"][0]
    assert float(cheap["margin"]) == first["margin"] == round((549 - 576) / 549, 4)
    assert (cheap["price"], cheap["below_landed"], cheap["below_landed_since"]) == (
        "549.00",
        "true",
        first["below_landed_since"],
    )
    history = [r for r in rows if r["record"] == "history" and r["seller"] == "CheapPhones"]
    assert [r["price"] for r in history] == ["699.00", "549.00", "549.00"]


def test_json_has_every_model_and_stable_keys(priced_store, example_config):
    out = io.StringIO()
    write_json(build(priced_store, example_config), out)
    data = json.loads(out.getvalue())
    assert len(data["models"]) == len(example_config.catalog)
    assert list(data) == sorted(data)
    assert list(data["models"][0]) == sorted(data["models"][0])


def test_cli_prices_for_one_model(example_config_path, example_config, populate_store, tmp_path):
    with open_store(example_config.storage.database) as store:
        populate_store(store)
    out = tmp_path / "prices.json"
    argv = ["--config", str(example_config_path), "prices", "--model", "Mi 14 Pro"]
    assert main([*argv, "--format", "json", "--out", str(out)]) == 0
    (model,) = json.loads(out.read_text())["models"]
    assert (model["model"], model["sellers"], model["below_landed"]) == ("Xiaomi 14 Pro", 4, 1)
    assert main([*argv, "--currency", "XYZ"]) == 2


@pytest.mark.parametrize(
    "span",
    [timedelta(minutes=20), timedelta(hours=2, minutes=50), timedelta(hours=4, minutes=9),
     timedelta(hours=40), timedelta(days=45), timedelta(days=700)],
    ids=["20min", "2h50", "4h09", "40h", "45d", "700d"],
)  # fmt: skip
def test_a_price_chart_draws_any_span_of_crawl_runs_without_a_console_warning(span):
    """Two crawls a few hours apart (the demo run twice) made matplotlib print "unable to pick
    an appropriate interval" once per chart; the axis must fit every span quietly."""
    from reports.serve.charts import price_history_svg

    start = datetime(2026, 12, 3, 4, 28, tzinfo=UTC)
    observations = [
        {"price": "599.00", "currency": "USD", "observed_at": (start + step).isoformat()}
        for step in (timedelta(0), span / 2, span)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = price_history_svg(observations, 1299.0, "USD", Pricing())
    assert svg.startswith("<svg")
