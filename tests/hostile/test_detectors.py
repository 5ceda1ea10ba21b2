"""Detectors on hostile input: long and odd Unicode (controls, bidi overrides, combining marks,
confusables, emoji, huge numbers) never raises and always yields a judgement in range."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import BrandBook, ListingFacts, assess_listings, score_input
from grayhound.config import load_config
from grayhound.models import FLAGS, VERDICTS

ROOT = Path(__file__).resolve().parents[2]
ODD = st.text(
    alphabet=st.characters(
        categories=["Cc", "Cf", "Mn", "Zs", "Zl", "So", "Lo", "Nd", "Pd", "Sm"],
        include_characters="xiaomi.-@/\\%",
    ),
    max_size=300,
)
ANY_TEXT = st.one_of(st.text(max_size=2000), ODD)


@pytest.fixture(scope="module")
def book() -> BrandBook:
    return BrandBook.from_config(load_config(ROOT / "grayhound" / "example.toml"))


@settings(max_examples=200, deadline=None)
@given(text=ANY_TEXT, kind=st.sampled_from(["auto", "name", "domain"]))
def test_score_input_on_any_text(book, text, kind):
    found = score_input(text, kind, book)
    assert 0.0 <= found.score <= 1.0 and found.verdict in VERDICTS
    assert all(isinstance(reason, str) for reason in found.reasons)


@settings(max_examples=100, deadline=None)
@given(
    title=ANY_TEXT,
    seller=st.one_of(st.none(), ODD),
    domain=st.one_of(st.none(), ODD),
    price=st.one_of(st.none(), st.sampled_from(["1e999", "-0", "NaN", "1" * 400, "0.000001"])),
)
def test_assess_listings_on_any_text(book, title, seller, domain, price):
    facts = ListingFacts("1", title, price, "USD", "new", seller_name=seller, seller_domain=domain)
    (found,) = assess_listings([facts], book)
    assert 0.0 <= found.risk <= 1.0 and found.verdict in VERDICTS
    assert set(found.flags) <= set(FLAGS)
