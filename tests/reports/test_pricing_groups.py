"""The HTML page's history summary from the groups SQLite folds a model's history into
(`Store.model_price_history_groups`, `history.summarize_groups`) is the summary folded from
every row (`summarize_rows`), and the page is the page computed from every observation: on
generated stores whose prices are plain (cents) in every spelling, equal in other currencies,
and whose times fall in one run on several days and in other forms than the store's. Where the
groups cannot tell (a price SQLite does not read, a tie between currencies, a rate that does
not keep the order), the rows are folded instead: the same page either way."""

from __future__ import annotations

import random

import pytest

from grayhound.models import Listing, Seller
from reports.currency import Converter
from reports.pricing.build import (
    PriceHistoryRows,
    _newest_runs,
    price_report,
    stored_names,
    stream_price_report,
)
from reports.pricing.history import summarize_groups, summarize_rows
from reports.pricing.render import render_html
from tests.reports.conftest import command_price_page, listing_judgement

SOURCES = ("bazaar", "gadgetcorner")
SELLERS = ("CheapPhones", "Gadget Corner", "<b>bold</b> & co", "", None, "Zed", "zed")
# plain prices (digits, at most one point and two decimals) in every spelling SQLite reads
PLAIN = ("549", "549.0", "549.00", "0549.5", "549.", ".50", "0", "0.01", "1200.99", "99.9",
         "99", "05", "7")  # fmt: skip
ODD = ("1e3", " 12.5 ", "abc", "1_000", "-5", "NaN", "5.5.5", "1..5", ".", "", "549.000",
       "99\x00x")  # fmt: skip
TIMES = ("{day}T{hour}:00:00.000Z", "{day}T{hour}:30:00.250Z", "{day}T{hour}:00:00Z",
         "{day}T{hour}:00:00+00:00", "{day}T{hour}:00:00.000+00:00")  # fmt: skip
MODELS = ("Xiaomi 14 Pro", "xiaomi 14 pro", "iPhone 15")


def _populate(store, rng: random.Random, odd: float, forms: int) -> None:
    """Crawl runs of listings whose prices are plain but for a share `odd`, observed at times
    of the first `forms` forms, a run's listings on its day and the next."""
    ids: dict[int, int] = {}
    for day in range(rng.randint(2, 4)):
        started = f"2026-02-{day + 1:02d}T23:00:00.000Z"
        run_id = store.start_run(list(SOURCES), started)
        recorded: set[str] = set()
        for key in range(36):
            if key in ids and rng.random() < 0.2:
                continue  # not seen this run
            source = rng.choice(SOURCES)
            seller_url = f"https://{source}.example/seller/{rng.randint(0, 3)}"
            seen_at = rng.choice(TIMES[:forms]).format(
                day=f"2026-02-{day + 1 + rng.randint(0, 1):02d}", hour=rng.choice(["23", "00"])
            )
            if seller_url not in recorded:  # a seller's page is read once a run
                recorded.add(seller_url)
                store.record_seller(
                    run_id, source, seller_url, Seller("S", url=seller_url), seen_at
                )
            price = f"{rng.randint(300, 900)}.{rng.randint(0, 99):02d}"
            if rng.random() < 0.2:  # not too often: equal cheapest prices in two currencies
                price = rng.choice(PLAIN)  # send the model to its rows
            if rng.random() < odd:
                price = rng.choice(ODD)
            listing = Listing(
                url=f"https://{source}.example/item/{key}",
                is_product=True,
                title=f"Phone {key}",
                price=None if rng.random() < 0.05 else price,
                currency=rng.choice(["USD", "USD", "EUR", "GBP", "CHF", None, ""]),
                condition=rng.choice(["new", "used", None]),
                seller=rng.choice(SELLERS),
                seller_url=seller_url if rng.random() < 0.7 else None,
            )
            ids[key], _ = store.record_listing(run_id, source, listing, seller_url, seen_at)
        store.finish_run(run_id, started, "finished", {"sources": {}})
    findings = [
        listing_judgement(
            listing_id,
            rng.choice(MODELS),
            is_accessory=rng.choice([0, 0, 1]),
            condition=rng.choice(["new", "used", None]),
        )
        for listing_id in sorted(set(ids.values()))
    ]
    store.record_findings(findings, None, "2026-03-01T00:00:00.000Z")


def _summaries(store, config, currency: str, condition: str):
    """(catalog model, summary from the groups or None, summary from the rows) of each model."""
    converter = Converter(currency, dict(config.pricing.rates))
    stored, newest = store.price_model_names(), _newest_runs(store.runs())
    for entry in config.catalog:
        rows = PriceHistoryRows(store, stored_names(stored, entry), condition, newest, converter)
        groups = store.model_price_history_groups(rows.names, condition, newest)
        grouped = summarize_groups(groups, rows.prices, converter.rates.values())
        yield entry, grouped, summarize_rows(rows.raw(), rows.prices), rows.summary()


OPTIONS = ({"currency": "USD", "condition": "new"}, {"currency": "EUR", "condition": "any"})


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("forms", [1, len(TIMES)])
def test_the_summary_from_groups_is_the_summary_from_every_row(store, example_config, seed, forms):
    _populate(store, random.Random(seed), odd=0.0, forms=forms)
    grouped_models = 0
    for options in OPTIONS:
        for entry, grouped, folded, summary in _summaries(store, example_config, **options):
            assert summary == folded, (entry.model, options)
            if folded.points:
                # plain prices: only a tie between currencies sends a model to its rows
                grouped_models += grouped is not None
                assert grouped is None or grouped == folded, (entry.model, options)
        _assert_same_page(store, example_config, options)
    assert grouped_models  # the groups were used, not only the rows


@pytest.mark.parametrize("seed", range(4))
def test_a_price_sqlite_does_not_read_sends_the_model_to_its_rows(store, example_config, seed):
    _populate(store, random.Random(seed), odd=0.3, forms=len(TIMES))
    for options in OPTIONS:
        for entry, grouped, folded, summary in _summaries(store, example_config, **options):
            assert grouped is None or grouped == folded, (entry.model, options)
            assert summary == folded, (entry.model, options)
        _assert_same_page(store, example_config, options)


def _assert_same_page(store, config, options: dict) -> None:
    """prices.html from the store is the page computed from every observation."""
    runs = store.runs()
    whole = price_report(list(store.price_observations()), runs, config, **options)
    streamed = stream_price_report(store, runs, config, **options)
    assert render_html(streamed) == render_html(whole), options
    # the command's page: each model's groups read from the copy of its kept listings
    assert command_price_page(store, config, options) == render_html(whole), options


CENTS = {"549": 54900, "549.0": 54900, "549.00": 54900, "0549.5": 54950, "549.": 54900,
         ".50": 50, "0": 0, "0.01": 1, "1200.99": 120099, "99.9": 9990,
         "99": 9900, "05": 500, "7": 700}  # fmt: skip


def _one_run(store, offers, seen_at: str = "2026-02-01T10:00:00.000Z") -> None:
    """One finished run of `offers` ((seller, price, currency[, observed at]) a listing each) of
    the iPhone 15."""
    run_id = store.start_run(["bazaar"], seen_at)
    findings = []
    for key, (seller, price, currency, *at) in enumerate(offers):
        listing = Listing(
            url=f"https://bazaar.example/item/{key}", is_product=True, title=f"Phone {key}",
            price=price, currency=currency, condition="new", seller=seller,
        )  # fmt: skip
        listing_id, _ = store.record_listing(run_id, "bazaar", listing, None, *at or [seen_at])
        findings.append(
            {"subject_kind": "listing", "subject_id": listing_id, "subject": "x",
             "brand": "xiaomi", "score": 0.1, "verdict": "clean", "model": "iPhone 15"}
        )  # fmt: skip
    store.record_findings(findings, None, seen_at)
    store.finish_run(run_id, seen_at, "finished", {"sources": {}})


def test_groups_read_a_plain_price_as_its_cents_and_no_other(store, example_config):
    """A seller a price: each plain spelling is its value in cents, any other spelling -1
    (what Python reads of it, SQLite does not: the rows are folded); one seller with every
    plain spelling is one group, its cheapest "0", its points every priced observation."""
    texts = [*CENTS, *ODD]
    _one_run(store, [*((text, text, "USD") for text in texts), *(("Zed", t, "USD") for t in CENTS)])
    newest = _newest_runs(store.runs())
    groups = list(store.model_price_history_groups(["iPhone 15"], "new", newest))
    read = {seller: cents for _, seller, _, _, _, _, cents, _, _ in groups}
    odd = {text or "(unnamed, bazaar)": -1 for text in ODD}  # "": no name, no price
    assert read == {**CENTS, **odd, "Zed": 0}
    prices = PriceHistoryRows(store, ["iPhone 15"], "new", newest, Converter()).prices
    zed = [group for group in groups if group[1] == "Zed"]
    summary = summarize_groups(zed, prices, [])
    assert summary.points == len(CENTS) and summary.cheapest[("Zed", "bazaar")][1].amount == 0


def test_equally_cheap_in_two_currencies_the_first_listing_is_shown(store, example_config):
    """One seller's two listings at 500, in USD then in EUR: the first one (in history order,
    by listing) is the run's cheapest, though EUR's group comes first."""
    _one_run(store, [("Zed", "500", "USD"), ("Zed", "500.00", "EUR"), ("Ann", "700", "EUR")])
    page = render_html(stream_price_report(store, store.runs(), example_config))
    table = page[page.index("<table", page.index('id="m-iphone-15"')) :]
    assert "$500.00" in table.split("Ann")[0] and "€500.00" not in table
    _assert_same_page(store, example_config, {})


def test_a_run_over_two_days_has_both_dates_and_starts_at_its_first_time(store):
    """One seller's listings seen in one run on two days (a crawl past midnight): in the
    store's form, the later day's time is not the first; in other forms, the first text is not
    the first time (an offset). The run has both dates and starts at its earliest time."""
    times = ["2026-02-01T23:59:00.000Z", "2026-02-02T00:01:00.000Z",
             "2026-02-01T23:30:00-02:00", "2026-02-01T23:45:00Z"]  # fmt: skip
    _one_run(store, [("Zed", f"{500 + n}", "USD", at) for n, at in enumerate(times)])
    newest = _newest_runs(store.runs())
    groups = store.model_price_history_groups(["iPhone 15"], "new", newest)
    prices = PriceHistoryRows(store, ["iPhone 15"], "new", newest, Converter()).prices
    summary = summarize_groups(groups, prices, [])
    assert summary.run_dates == {(1, "2026-02-01"), (1, "2026-02-02")}
    assert summary.run_times[1].isoformat() == "2026-02-01T23:45:00+00:00"
    assert summary == summarize_rows(
        store.model_price_history(["iPhone 15"], "new", newest), prices
    )


def test_a_time_without_an_offset_beside_the_stores_fails_as_the_rows_fold_does(store):
    """A date alone (a time without an offset) and the store's times in one run: Python cannot
    order them, and the summary from the groups fails as the fold of the rows does."""
    _one_run(store, [("Zed", "500", "USD", "2026-02-01"), ("Zed", "400", "USD")])
    newest = _newest_runs(store.runs())
    prices = PriceHistoryRows(store, ["iPhone 15"], "new", newest, Converter()).prices
    with pytest.raises(TypeError):
        summarize_rows(store.model_price_history(["iPhone 15"], "new", newest), prices)
    with pytest.raises(TypeError):
        summarize_groups(store.model_price_history_groups(["iPhone 15"], "new", newest), prices, [])


@pytest.mark.parametrize("rate", [-1.08, float("nan"), float("inf")])
def test_a_rate_that_may_not_keep_the_order_sends_the_model_to_its_rows(rate):
    prices = {}

    def price(text, code):
        return prices.get((text, code))

    groups = [(1, "Zed", "bazaar", "EUR", "2026-02-01", "2026-02-01T10:00:00.000Z", 100, 1, 1)]
    assert summarize_groups(groups, price, [1.27, rate]) is None
