"""A small world for the digest tests: crawl runs, listings, sellers and findings written
through the store's own named functions, with real `Listing` and `Seller` records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grayhound.models import Listing, Seller

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def stamp(hours: float) -> str:
    return at(hours).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def figures(listings: int, pages: int = 40, failures: int = 0, **shares: float) -> dict:
    """Source figures as the crawler records them; shares default to 100 %."""
    return {
        "pages_fetched": pages,
        "listings": listings,
        "failures": failures,
        **{
            f"with_{name}": round(listings * shares.get(name, 1.0))
            for name in ("title", "price", "currency", "seller")
        },
    }


class World:
    """Writes a crawl history into `store`; times are hours after T0."""

    at = staticmethod(at)
    stamp = staticmethod(stamp)
    figures = staticmethod(figures)

    def __init__(self, store):
        self.store = store

    @staticmethod
    def finding(*args, **kwargs) -> dict:
        return listing_finding(*args, **kwargs)

    def run(self, hours: float, sources: dict[str, dict], failures=()) -> int:
        run_id = self.store.start_run(list(sources), stamp(hours))
        for source, url, status, reason in failures:
            self.store.record_failure(run_id, source, url, status, reason, stamp(hours))
        self.store.finish_run(run_id, stamp(hours + 0.5), "finished", {"sources": sources})
        return run_id

    def listing(self, run_id: int, hours: float, number: int, **fields) -> int:
        source = fields.pop("source", "bazaar")
        seller = fields.pop("seller", "XiaomiWorld")
        domain = fields.pop("domain", None)
        seller_key = f"seller:{seller.lower()}"
        self.store.record_seller(
            run_id, source, seller_key, Seller(name=seller, domain=domain), stamp(hours)
        )
        url = f"http://127.0.0.1:8301/item/{number}.html"
        listing = Listing(
            url=url,
            canonical_url=url,
            is_product=True,
            seller=seller,
            seller_domain=domain,
            currency=fields.pop("currency", "USD"),
            condition="new",
            **fields,
        )
        listing_id, _ = self.store.record_listing(run_id, source, listing, seller_key, stamp(hours))
        return listing_id

    def judge(self, run_id: int, hours: float, *findings: dict) -> dict:
        return self.store.record_findings(findings, run_id, stamp(hours))


def listing_finding(listing_id: int, verdict="suspicious", score=0.7, flags=(), **more) -> dict:
    return {
        "subject_kind": "listing",
        "subject_id": listing_id,
        "brand": more.pop("brand", "xiaomi"),
        "score": score,
        "verdict": verdict,
        "flags": list(flags),
        "reasons": more.pop("reasons", [f"{verdict} listing for the test"]),
        "msrp_currency": more.pop("msrp_currency", "USD"),
        **more,
    }


@pytest.fixture
def world(store) -> World:
    return World(store)


@pytest.fixture
def config_world(example_config):
    """A World on the example config's own database, for tests that go through the CLI."""
    from grayhound.store import open_store

    with open_store(example_config.storage.database) as store:
        yield World(store)
