"""Model matching as a property of identity tokens: attribute words around a model's name never
change its model; a sibling's suffix after it always does. Over every name of three catalogs
(the example's, the blind set's and the second blind set's: 16 brands, 87 models)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from detectors import BrandBook
from grayhound.config import load_config

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = (
    ROOT / "grayhound" / "example.toml",
    ROOT / "fixtures" / "catalog" / "blind" / "catalog.toml",
    ROOT / "fixtures" / "catalog" / "blind2" / "catalog.toml",
)

# What marketplaces put around a model's name: storage and RAM, colour, network, SIM,
# region, condition, maker codes. None of it names a model.
ATTRIBUTES = st.sampled_from(
    [
        "128GB",
        "256 GB",
        "1TB",
        "8/128",
        "12/256GB",
        "8GB+256GB",
        "12GB RAM 512GB ROM",
        "(Black, 256 GB) (12 GB RAM)",
        "16+512",
        "128 Go",
        "5G",
        "4G LTE",
        "Dual SIM",
        "SIMフリー",
        "Unlocked",
        "Global Version",
        "Malaysia Set",
        "国行",
        "Garansi Resmi",
        "Midnight Black",
        "Titanium Gray",
        "Schwarz",
        "黑色",
        "Brand New Sealed",
        "Refurbished - Excellent:",
        "NEU OVP",
        "中古",
        "CPH2581",
        "XQ-DQ44",
        "Android 14",
        "1 Year Warranty",
        "5000mAh",
        "120Hz",
    ]
)
# A sibling's suffix: a suffix word, a '+', or a letter glued to the name.
SUFFIXES = st.sampled_from(
    [" Pro", " Plus", "+", " Max", " Ultra", " Lite", " FE", " mini", " Neo", "s", "a", "T", " R"]
)


@cache
def books() -> tuple[BrandBook, ...]:
    return tuple(BrandBook.from_config(load_config(path)) for path in CATALOGS)


def names() -> list[tuple[int, str, str]]:
    """(catalog, name, model) for every model name and alias."""
    out = []
    for i, book in enumerate(books()):
        for model in book.config.catalog:
            out.extend((i, name, model.model) for name in (model.model, *model.aliases))
    return out


NAMES = names()


def matched(catalog: int, title: str) -> str | None:
    found = books()[catalog].catalog.match(title)
    return found.model.model if found.model else None


@pytest.mark.parametrize(("catalog", "name", "model"), NAMES, ids=[n for _, n, _ in NAMES])
def test_every_catalog_name_matches_its_own_model(catalog, name, model):
    assert matched(catalog, name) == model


@settings(max_examples=400, deadline=None)
@given(
    entry=st.sampled_from(NAMES),
    before=st.lists(ATTRIBUTES, max_size=2),
    after=st.lists(ATTRIBUTES, max_size=4),
)
def test_attribute_words_never_change_the_model(entry, before, after):
    catalog, name, model = entry
    title = " ".join([*before, name, *after])
    assert matched(catalog, title) == model, title


@settings(max_examples=400, deadline=None)
@given(entry=st.sampled_from(NAMES), suffix=SUFFIXES, after=st.lists(ATTRIBUTES, max_size=3))
def test_a_siblings_suffix_always_changes_the_model(entry, suffix, after):
    catalog, name, model = entry
    assume(not (name.endswith("+") and suffix == "+"))  # '12++' is no model's name
    head, _, last = name.rpartition(" ")
    if last.upper() in ("5G", "4G"):  # the suffix goes after the model, not its network
        sibling = f"{head}{suffix} {last}"
    else:
        sibling = name + suffix
    title = " ".join([sibling, *after])
    assert matched(catalog, title) != model, title
