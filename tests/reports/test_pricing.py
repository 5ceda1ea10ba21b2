"""Competitor pricing figures, computed by hand from the store in conftest.py."""

from __future__ import annotations

import pytest

from grayhound.errors import UsageError
from reports.pricing.build import price_report, select_models


def report_for(store, config, **options):
    return price_report(list(store.price_observations()), store.runs(), config, **options)


def by_model(report):
    return {m.model: m for m in report.models}


def test_every_catalog_model_appears_with_zero_counts_when_unlisted(priced_store, example_config):
    models = by_model(report_for(priced_store, example_config))
    assert list(models) == [m.model for m in example_config.catalog]
    iphone = models["iPhone 15"]
    assert (iphone.listings, iphone.sellers, iphone.competitors) == (0, 0, ())
    assert iphone.price_min is None and iphone.median_position is None


def test_counts_new_only_without_accessories_or_gone_listings(priced_store, example_config):
    pro = by_model(report_for(priced_store, example_config))["Xiaomi 14 Pro"]
    # a (USD 549), b (EUR 899), c (USD 950), f (no currency); not d (case), e (used), g (gone)
    assert (pro.listings, pro.sellers, pro.unknown_currency, pro.no_rate) == (4, 4, 1, 0)
    assert pro.price_min.amount == 549.0
    # converted: 549, 950, 899 × 1.08 = 970.92 → low median 950, max the euro listing
    assert (pro.price_median.amount, pro.price_median.currency) == (950.0, "USD")
    assert (pro.price_max.amount, pro.price_max.currency, pro.price_max.converted) == (
        899.0,
        "EUR",
        970.92,
    )
    assert pro.median_position == round(950 / 999 - 1, 4)


def test_condition_any_takes_used_listings(priced_store, example_config):
    pro = by_model(report_for(priced_store, example_config, condition="any"))["Xiaomi 14 Pro"]
    assert pro.listings == 5 and pro.price_min.amount == 400.0


def test_msrp_position_uses_the_catalog_msrp_in_the_listing_currency(priced_store, example_config):
    pro = by_model(report_for(priced_store, example_config))["Xiaomi 14 Pro"]
    euro = next(c for c in pro.competitors if c.seller == "Gadget Corner")
    assert euro.msrp_basis == "EUR"
    assert euro.msrp_position == round(899 / 1099 - 1, 4)  # not 970.92 / 999 − 1
    # the landed cost exists only in USD: the price is converted for the margin
    assert euro.landed_currency == "USD"
    assert euro.margin == round((970.92 - 576) / 970.92, 4)
    assert not euro.below_landed


def test_conversion_when_the_catalog_lacks_the_listing_currency(priced_store, example_config):
    xiaomi14 = by_model(report_for(priced_store, example_config))["Xiaomi 14"]
    (uk,) = xiaomi14.competitors
    converted = round(450 * 1.27, 2)  # 571.50: no GBP MSRP for the Xiaomi 14
    assert (uk.price.converted, uk.msrp_basis) == (converted, "USD")
    assert uk.msrp_position == round(converted / 799 - 1, 4)
    # landed cost from components: 520 + 12 + 520 × 5 % + 3 + 25 = 586
    assert xiaomi14.landed_cost == {"USD": 586.0}
    assert uk.landed_cost == 586.0 and uk.below_landed
    assert uk.landed_gap == round(converted - 586, 2)
    assert uk.margin == round((converted - 586) / converted, 4)


def test_currency_without_rate_is_counted_apart(priced_store, example_config):
    ultra = by_model(report_for(priced_store, example_config))["Xiaomi 14 Ultra"]
    assert (ultra.listings, ultra.no_rate, ultra.price_min) == (1, 1, None)
    (swiss,) = ultra.competitors
    assert swiss.price.converted is None and swiss.msrp_position is None


def test_undercutter_margin_and_since_when(priced_store, example_config, run_dates, hostile_seller):
    pro = by_model(report_for(priced_store, example_config))["Xiaomi 14 Pro"]
    cheapest = pro.competitors[0]
    assert cheapest.seller == "CheapPhones"
    assert cheapest.below_landed and pro.below_landed == 1
    assert cheapest.landed_gap == 549 - 576
    assert cheapest.margin == round((549 - 576) / 549, 4)
    assert cheapest.msrp_position == round(549 / 999 - 1, 4)
    # 699 in run 1, 549 from run 2 on
    assert cheapest.price_since == run_dates[1]
    assert cheapest.below_landed_since == run_dates[1]
    assert cheapest.first_seen == run_dates[0]
    assert [c.seller for c in pro.competitors] == [
        "CheapPhones",
        hostile_seller,
        "Gadget Corner",
        "Mystery",
    ]


def test_history_over_three_runs(priced_store, example_config):
    pro = by_model(report_for(priced_store, example_config))["Xiaomi 14 Pro"]
    cheap = [(p.crawl_run_id, p.price.amount) for p in pro.history if p.seller == "CheapPhones"]
    assert cheap == [(1, 699.0), (2, 549.0), (3, 549.0)]
    gone = [(p.crawl_run_id, p.price.amount) for p in pro.history if p.seller == "GoneSeller"]
    assert gone == [(1, 500.0)]  # gone from the current figures, kept in the history
    assert all(p.seller != "CaseKing" for p in pro.history)


def test_report_in_another_currency(priced_store, example_config):
    pro = by_model(report_for(priced_store, example_config, currency="EUR"))["Xiaomi 14 Pro"]
    assert pro.price_min.converted == round(549 * 1 / 1.08, 2)
    assert pro.msrp_converted == 1099.0


def test_select_models_by_alias_and_brand(example_config):
    assert [m.model for m in select_models(example_config.catalog, "mi 14 pro")] == [
        "Xiaomi 14 Pro"
    ]
    assert len(select_models(example_config.catalog, brand="apple")) == 3
    with pytest.raises(UsageError, match="not in the catalog"):
        select_models(example_config.catalog, "Nokia 3310")


def test_observations_are_read_once_as_the_store_yields_them(priced_store, example_config):
    streamed = price_report(priced_store.price_observations(), priced_store.runs(), example_config)
    assert streamed == report_for(priced_store, example_config)
    assert streamed.data_as_of == "2026-01-15T06:00:00.000Z"


def test_observations_must_come_grouped_by_listing(priced_store, example_config):
    rows = list(priced_store.price_observations())
    with pytest.raises(ValueError, match="not grouped together"):
        price_report([rows[0], rows[-1], rows[1]], priced_store.runs(), example_config)


def test_a_listing_of_a_storage_variant_is_compared_with_that_variants_msrp(store, example_config):
    """variant_msrp (issue 21): the 1TB listing against the 1TB MSRP (USD 1399, EUR 1499), the
    256GB one (no variant MSRP) against the model's; the same in CSV and the median."""
    from dataclasses import replace

    from grayhound.models import Listing, Seller

    catalog = tuple(
        replace(m, variant_msrp={"1TB": {"USD": 1399.0, "EUR": 1499.0}})
        if m.model == "Xiaomi 14 Pro"
        else m
        for m in example_config.catalog
    )
    config = replace(example_config, catalog=catalog)
    at = "2026-01-01T06:00:00.000Z"
    run_id = store.start_run(["bazaar"], at)
    findings = []
    for key, storage, price, currency in (("big", "1TB", "1199.00", "USD"),
                                          ("eu", "1TB", "1199.00", "EUR"),
                                          ("small", "256GB", "899.00", "USD")):  # fmt: skip
        seller_url = f"https://bazaar.example/seller/{key}"
        store.record_seller(run_id, "bazaar", seller_url, Seller(key, url=seller_url), at)
        listing = Listing(
            url=f"https://bazaar.example/item/{key}", is_product=True,
            title=f"Xiaomi 14 Pro {storage}", price=price, currency=currency,
            condition="new", seller=key, seller_url=seller_url,
        )  # fmt: skip
        listing_id, _ = store.record_listing(run_id, "bazaar", listing, seller_url, at)
        findings.append({
            "subject_kind": "listing", "subject_id": listing_id, "subject": key,
            "brand": "xiaomi", "score": 0.1, "verdict": "clean", "model": "Xiaomi 14 Pro",
            "is_accessory": 0, "condition": "new", "attributes": {"storage": storage},
        })  # fmt: skip
    store.finish_run(run_id, at, "finished", {"sources": {}})
    store.record_findings(findings, run_id, at)
    pro = by_model(report_for(store, config))["Xiaomi 14 Pro"]
    found = {c.seller: (c.msrp_position, c.msrp_basis, c.msrp_variant) for c in pro.competitors}
    assert found == {
        "big": (round(1199 / 1399 - 1, 4), "USD", "1TB"),
        "eu": (round(1199 / 1499 - 1, 4), "EUR", "1TB"),
        "small": (round(899 / 999 - 1, 4), "USD", None),
    }
    assert pro.median_position == round(1199 / 1399 - 1, 4)  # low median: 899, 1199, 1294.92
