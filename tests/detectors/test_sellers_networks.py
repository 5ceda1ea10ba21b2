"""Seller networks and seller verdicts, as pure functions."""

from __future__ import annotations

import pytest

from detectors import BrandBook, SellerFacts, seller_verdict
from detectors.networks import SellerSignals, find_networks, registrable_domain
from detectors.seller_verdicts import SellerSales
from detectors.sellers import assess_seller


@pytest.fixture
def book(example_config):
    return BrandBook.from_config(example_config)


def signals(seller_id: int, **values) -> SellerSignals:
    return SellerSignals(seller_id=seller_id, source=values.pop("source", "m"), **values)


def members(networks) -> list[tuple[int, ...]]:
    return [n.sellers for n in networks]


def test_a_phone_written_two_ways_ties_two_sellers_across_sources(book):
    found = find_networks(
        [
            signals(1, phones=("+44 20 7946 0321",)),
            signals(2, phones=("020 7946 0321",), source="shop"),
            signals(3, phones=("+44 20 7946 9999",)),
        ],
        book,
    )
    assert members(found) == [(1, 2)] and found[0].sources == ("m", "shop")
    assert found[0].ties[0].kind == "phone"


@pytest.mark.parametrize(
    "a, b, tied",
    [
        ({"domains": ("atlas.gadgetmart.co.uk",)}, {"domains": ("www.gadgetmart.co.uk",)}, True),
        ({"domains": ("a.myshopify.com",)}, {"domains": ("b.myshopify.com",)}, False),
        ({"domains": ("mi.com",)}, {"domains": ("mi.com",)}, False),  # official: anyone claims it
        ({"emails": ("sales@gmail.com",)}, {"emails": ("Sales@Gmail.com",)}, True),
        ({"emails": ("a@gmail.com",)}, {"emails": ("b@gmail.com",)}, False),  # free mail
        ({"emails": ("a@deals-group.com",)}, {"domains": ("deals-group.com",)}, True),
        ({"company_ids": ("91440300MA5G8XK12L",)}, {"company_ids": ("91440300 MA5G8XK12L",)}, True),
        ({"images": ("https://c.example/u/1/no-image.png",)},
         {"images": ("https://c.example/u/1/no-image.png",)}, False),  # placeholder
    ],
)  # fmt: skip
def test_what_ties_sellers_and_what_does_not(book, a, b, tied):
    assert bool(find_networks([signals(1, **a), signals(2, **b)], book)) is tied


def test_a_value_most_sellers_share_is_the_site_s_not_a_network(book):
    footer = [signals(i, phones=("+1 800 555 0100",)) for i in range(1, 8)]
    assert find_networks(footer, book) == []


def test_near_identical_descriptions_tie_and_different_ones_do_not(book):
    text = (
        "Brand new sealed phone shipped from our Shenzhen warehouse within 24 hours, with a "
        "free tempered glass and a twelve month shop warranty on every order we send"
    )
    near = text.replace("twelve", "12")
    other = "Used phone in good condition with light scratches on the frame, battery at 91 %."
    found = find_networks(
        [
            signals(1, descriptions=(text,)),
            signals(2, descriptions=(near,)),
            signals(3, descriptions=(other,)),
        ],
        book,
    )
    assert members(found) == [(1, 2)] and found[0].ties[0].kind == "description"


def test_registrable_domain_keeps_a_hosted_shop_s_own_name():
    assert registrable_domain("www.shop.deals.co.uk") == "deals.co.uk"
    assert registrable_domain("xiaomi-deals.myshopify.com") == "xiaomi-deals.myshopify.com"


def verdict(book, facts: SellerFacts, sales: SellerSales | None = None, **kwargs):
    from detectors.sellers import entitled

    return seller_verdict(
        assess_seller(facts, book), sales or SellerSales(), book, facts.name or "",
        entitled=entitled(facts, book), **kwargs,
    )  # fmt: skip


def test_a_claimed_country_domain_of_the_brand_is_impersonation(book):
    found = verdict(
        book, SellerFacts("1", "Harbor Mobile Supply", claimed_domains=("xiaomi.com.co",))
    )
    assert found.verdict == "impersonation"
    assert "xiaomi.com.co" in found.reasons[0]


def test_an_unauthorized_reseller_is_informational_and_gray_imports_raise_its_score(book):
    plain = SellerSales(listings=2, brands={"xiaomi"}, unauthorized_brands={"xiaomi": 2},
                        flags={"unauthorized_seller": 2})  # fmt: skip
    gray = SellerSales(listings=2, brands={"xiaomi"}, unauthorized_brands={"xiaomi": 2},
                       flags={"unauthorized_seller": 2, "gray_import": 2})  # fmt: skip
    first = verdict(book, SellerFacts("1", "PhoneHub"), plain)
    second = verdict(book, SellerFacts("1", "PhoneHub"), gray)
    assert first.verdict == second.verdict == "unauthorized"
    assert first.score < second.score < 0.4


def test_far_below_msrp_new_goods_make_a_neutral_seller_suspicious(book):
    cheap = SellerSales(listings=2, priced_new=2, lowest_ratio=0.43, flags={"price_low": 2})
    found = verdict(book, SellerFacts("1", "Brightline Deals"), cheap)
    assert found.verdict == "suspicious" and "possible counterfeits" in found.reasons[0]


def test_authorized_sellers_and_networks_never_raise_a_verdict(book):
    assert verdict(book, SellerFacts("1", "TechNova Electronics")).verdict == "authorized"
    tied = verdict(book, SellerFacts("2", "Pacific Phone Depot"),
                   network_peers={"Samsung Outlet Store": "impersonation"})  # fmt: skip
    assert tied.verdict == "clean" and "impersonating seller" in tied.reasons[-1]
