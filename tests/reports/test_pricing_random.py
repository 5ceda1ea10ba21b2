"""`grayhound prices` from SQL equals the report computed from every observation in Python
(`price_report`, the computation it replaced), in all four formats, on generated stores with
random histories: listings that come, change price, currency, seller and condition, and go;
sources crawled apart and together; unfinished runs; hostile, empty and missing seller names;
unparseable prices; currencies without a rate; accessories; storage variants."""

from __future__ import annotations

import dataclasses
import io
import random

import pytest

from grayhound.models import Listing, Seller
from reports.pricing.build import price_report, stream_price_report
from reports.pricing.render import render_html, write_json, write_price_csv
from reports.pricing.table import print_table
from tests.reports.conftest import command_price_page, listing_judgement

SOURCES = ("bazaar", "gadgetcorner", "=souk")
SELLERS = (
    "CheapPhones", "Gadget Corner", '=HYPERLINK("http://evil.example")', "<b>bold</b> & co",
    "naïve «seller» \u202e", "a,b;\"c\"\n", "", None, "Zed", "zed",
)  # fmt: skip
PRICES = ("699.00", "549.00", "549", "1e3", " 12.5 ", "abc", None, "0.10", "1_000", "-5", "NaN")
CURRENCIES = ("USD", "USD", "EUR", "GBP", "CHF", None, "")
CONDITIONS = ("new", "used", "refurbished", "unknown", None, "")
MODELS = ("Xiaomi 14 Pro", "xiaomi 14 pro", "Xiaomi 14", "iPhone 15", "Unlisted Phone")


def _populate(store, rng: random.Random) -> None:
    ids: dict[int, int] = {}
    for day in range(rng.randint(2, 5)):
        seen_at = f"2026-02-{day + 1:02d}T{rng.randint(0, 23):02d}:00:00.000Z"
        crawled = rng.choice([list(SOURCES), [SOURCES[0]], [SOURCES[1], SOURCES[2]], []])
        run_id = store.start_run(crawled, seen_at)
        recorded: set[str] = set()
        for key in range(40):
            source = SOURCES[key % 3] if crawled == [] else rng.choice(crawled)
            if key in ids and rng.random() < 0.25:
                continue  # not seen this run: gone, or back later
            seller = rng.choice(SELLERS)
            seller_key = None
            if rng.random() < 0.8:
                number = rng.randint(0, 6)
                seller_key = f"https://{source}.example/seller/{number}"
                if seller_key not in recorded:  # a seller's page is read once a run
                    recorded.add(seller_key)
                    name = "" if number == 0 else f"{SELLERS[number]} {source}"  # one each
                    store.record_seller(
                        run_id, source, seller_key, Seller(name, url=seller_key), seen_at
                    )
            listing = Listing(
                url=f"https://{source}.example/item/{key}",
                is_product=True,
                title=f"Phone {key}",
                price=rng.choice(PRICES) if rng.random() < 0.5 else f"{rng.randint(300, 900)}.00",
                currency=rng.choice(CURRENCIES),
                condition=rng.choice(CONDITIONS),
                seller=seller,
                seller_domain=rng.choice([None, "", "shop.example", "=cmd.example"]),
                seller_url=seller_key,
            )
            ids[key], _ = store.record_listing(run_id, source, listing, seller_key, seen_at)
        status = "finished" if rng.random() < 0.8 else "failed"
        store.finish_run(run_id, seen_at, status, {"sources": {}})
    findings = []
    for listing_id in sorted(set(ids.values())):
        if rng.random() < 0.1:
            continue  # never judged
        findings.append(
            listing_judgement(
                listing_id,
                rng.choice(MODELS),
                is_accessory=rng.choice([0, 0, 0, 1, None]),
                condition=rng.choice(CONDITIONS),
                attributes=rng.choice([None, {"storage": "512GB"}, {"storage": "1TB"}, "{bad"]),
            )
        )
    store.record_findings(findings, None, "2026-03-01T00:00:00.000Z")


def _written(report, fmt: str) -> str:
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


def _config(example_config):
    """The example config with a storage variant, a landed cost in EUR and no rate for CHF
    (the variant's CHF MSRP ranks a CHF price, which cannot be converted, by its storage)."""
    catalog = list(example_config.catalog)
    catalog[0] = dataclasses.replace(
        catalog[0],
        variant_msrp={"1TB": {"USD": 1199.0, "CHF": 1100.0}, "512GB": {"EUR": 1150.0}},
    )
    return catalog and dataclasses.replace(example_config, catalog=tuple(catalog))


@pytest.mark.parametrize("seed", range(4))
def test_the_report_from_sql_is_the_report_from_every_observation(store, example_config, seed):
    rng = random.Random(seed)
    _populate(store, rng)
    config = _config(example_config)
    runs = store.runs()
    for options in ({}, {"condition": "any", "currency": "EUR"}, {"condition": "used"}):
        for fmt in ("json", "csv", "html", "table"):
            old = price_report(list(store.price_observations()), runs, config, **options)
            new = stream_price_report(store, runs, config, history=fmt != "table", **options)
            assert _written(new, fmt) == _written(old, fmt), (seed, options, fmt)
        # the command's HTML page (kept listings copied: `command_price_page`)
        old = price_report(list(store.price_observations()), runs, config, **options)
        page = command_price_page(store, config, options)
        assert page == _written(old, "html"), (seed, options)
        new = stream_price_report(store, runs, config, **options)
        models = [dataclasses.replace(m, history=tuple(m.history)) for m in new.models]
        expected = price_report(store.price_observations(), runs, config, **options).models
        assert repr(models) == repr(list(expected))  # repr: a NaN price equals itself


def test_a_price_without_a_rate_is_ranked_by_its_storage_msrp(store, example_config):
    """One seller, two listings in CHF (no rate): the 1TB one, below its variant's CHF MSRP,
    is the seller's offer, not the cheaper one whose storage has no CHF MSRP."""
    seen_at = "2026-02-01T10:00:00.000Z"
    run_id = store.start_run(["bazaar"], seen_at)
    seller_url = "https://bazaar.example/seller/1"
    store.record_seller(run_id, "bazaar", seller_url, Seller("Zed", url=seller_url), seen_at)
    ids = []
    for key, price in ((1, "600.00"), (2, "1000.00")):
        listing = Listing(
            url=f"https://bazaar.example/item/{key}", is_product=True, title=f"Phone {key}",
            price=price, currency="CHF", condition="new", seller="Zed", seller_url=seller_url,
        )  # fmt: skip
        ids.append(store.record_listing(run_id, "bazaar", listing, seller_url, seen_at)[0])
    store.finish_run(run_id, seen_at, "finished", {"sources": {}})
    store.record_findings(
        [
            listing_judgement(
                listing_id,
                "Xiaomi 14 Pro",
                is_accessory=0,
                condition="new",
                attributes={"storage": storage},
            )
            for listing_id, storage in zip(ids, ("512GB", "1TB"), strict=True)
        ],
        None,
        "2026-03-01T00:00:00.000Z",
    )
    config = _config(example_config)
    report = stream_price_report(store, store.runs(), config)
    (offer,) = next(iter(report.models)).competitors
    assert (offer.listing_id, offer.msrp_variant) == (ids[1], "1TB")
    expected = price_report(store.price_observations(), store.runs(), config)
    assert _written(stream_price_report(store, store.runs(), config), "json") == _written(
        expected, "json"
    )
