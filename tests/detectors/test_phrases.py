"""Phrases found fast on ASCII text are exactly those the case-blind regex finds (issue 19:
the gray-import wording and the condition words are searched in every judged listing)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from detectors._data import CONDITION_PHRASES, GRAY_IMPORT_PHRASES
from detectors.phrases import Phrases

GRAY_TEMPLATE = r"(?<![\w])({})(?![\w])"
CONDITION_TEMPLATE = r"\b({})\b"
CONDITION_WORDS = [p for p, _ in CONDITION_PHRASES]
# pieces of the phrases in both cases, words around them, and characters that fold oddly
PIECES = [
    *GRAY_IMPORT_PHRASES[:8], *CONDITION_WORDS[:12], "GLOBAL Version", "Like-New", "NEU",
    " ", "-", "_", "'", ".", "x", "9", "ſ", "\u212a", "İ", "í", "é", "Sin Garantía", "neuf",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


def _blind(template: str, phrases) -> re.Pattern:
    alternation = "|".join(re.escape(p) for p in phrases)
    return re.compile(template.format(alternation), re.IGNORECASE)


@settings(max_examples=400)
@given(texts)
def test_the_fast_search_finds_what_the_case_blind_regex_finds(text):
    for template, phrases in (
        (GRAY_TEMPLATE, GRAY_IMPORT_PHRASES),
        (CONDITION_TEMPLATE, CONDITION_WORDS),
    ):
        blind = _blind(template, phrases)
        found = Phrases(template, phrases)
        first = blind.search(text)
        assert found.search(text) == (first.span(1) if first else None)
        assert list(found.spans(text)) == [m.span(1) for m in blind.finditer(text)]


def test_ascii_text_takes_the_fast_path_and_other_text_the_case_blind_one():
    found = Phrases(GRAY_TEMPLATE, GRAY_IMPORT_PHRASES)
    assert found.lowered is not None
    text = "Xiaomi 14 GLOBAL VERSION sealed"
    assert text[slice(*found.search(text))] == "GLOBAL VERSION"
    assert found.search("Xiaomi 14 Sin Garantía") == (10, 22)  # not ASCII: case-blind
    assert found.search("globalversion") is None


def test_a_phrase_folding_onto_ascii_keeps_the_case_blind_search():
    found = Phrases(GRAY_TEMPLATE, ["\u212aeine garantie"])  # the Kelvin sign folds onto 'k'
    assert found.lowered is None
    assert found.search("keine garantie") == (0, 14)
