"""Seller identity in the store: references become one seller only on strong evidence."""

from __future__ import annotations

import pytest

from grayhound.models import Seller

PROFILE_A = "http://m.example/seller/a"
PROFILE_B = "http://m.example/seller/b"


@pytest.fixture
def run(store):
    return store.start_run(["m"], "2026-01-01T00:00:00.000Z")


def profile(url: str, name: str, website: str | None = None, **more) -> Seller:
    found = [("profile", url, "profile page URL"), ("name", name, "profile json-ld name")]
    if website:
        found.append(("website", website, "profile text (website)"))
    found += [(kind, value, "profile text") for kind, value in more.items()]
    return Seller(name=name, url=url, claimed_domain=website, identifiers=tuple(found))


def reference(name: str | None = None, website: str | None = None) -> tuple[str, Seller]:
    found = [("name", name, "listing json-ld seller name")] if name else []
    if website:
        found.append(("website", website, "listing json-ld seller URL"))
    key = f"web:{website}" if website else f"name:{name.lower()}"
    return key, Seller(name=name, identifiers=tuple(found))


def record(store, run, key, seller) -> int:
    return store.record_seller(run, "m", key, seller, "2026-01-01T00:00:01.000Z")


@pytest.mark.parametrize("profile_first", [True, False])
def test_a_listing_naming_only_the_website_joins_the_profile_that_claims_it(
    store, run, profile_first
):
    steps = [
        (PROFILE_A, profile(PROFILE_A, "NovaTel", "novatel.com")),
        reference(website="novatel.com"),
    ]
    ids = [record(store, run, *step) for step in (steps if profile_first else steps[::-1])]
    assert ids[0] == ids[1] and len(list(store.sellers())) == 1
    assert ids[0] == min(ids)  # the older record keeps its id


def test_two_profiles_never_merge_on_a_shared_website_or_a_similar_name(store, run):
    a = record(store, run, PROFILE_A, profile(PROFILE_A, "Mobile World", "shared.com"))
    b = record(store, run, PROFILE_B, profile(PROFILE_B, "Mobile World Plus", "shared.com"))
    assert a != b
    # a reference by that website names neither in particular: it stays apart
    other = record(store, run, *reference(website="shared.com"))
    assert other not in (a, b)


def test_a_name_only_reference_joins_the_one_seller_of_that_exact_name(store, run):
    seller = record(store, run, PROFILE_A, profile(PROFILE_A, "Kiwi Mobile"))
    assert record(store, run, *reference(name="Kiwi Mobile")) == seller
    assert record(store, run, *reference(name="Kiwi Mobiles")) != seller  # similar is not same


def test_a_rename_keeps_the_seller_and_both_names(store, run):
    first = record(store, run, PROFILE_A, profile(PROFILE_A, "Galaxy Phone Hub"))
    again = record(store, run, PROFILE_A, profile(PROFILE_A, "GPH Wireless"))
    assert first == again
    names = {a["raw"] for a in store.seller_aliases(first) if a["kind"] == "name"}
    assert {"Galaxy Phone Hub", "GPH Wireless"} <= names


def test_a_merge_moves_listings_and_the_younger_id_leads_to_the_older(store, run):
    from grayhound.models import Listing

    key, ref = reference(name="Zenith Imports")
    younger_first = record(store, run, key, ref)
    listing = Listing(url="http://m.example/item/1", is_product=True, title="x")
    listing_id, _ = store.record_listing(run, "m", listing, key, "2026-01-01T00:00:02.000Z")
    keep = record(store, run, PROFILE_A, profile(PROFILE_A, "Other"))
    store.merge_sellers(min(keep, younger_first), max(keep, younger_first), "test")
    assert store.resolved_seller_id(max(keep, younger_first)) == min(keep, younger_first)
    assert store.listing_by_id(listing_id)["seller_id"] == min(keep, younger_first)
    assert len(list(store.sellers())) == 1
