"""Item condition: new | used | refurbished | unknown, from schema.org itemCondition values
and from the words shops and sellers use in titles and condition fields."""

from __future__ import annotations

import re

from crawler.pages._data import CONDITION_WORDS_FIELD, CONDITION_WORDS_STRICT, SCHEMA_CONDITIONS

_STRICT = tuple(
    (re.compile(rf"(?<![\w-])({words})(?![\w])", re.I), condition)
    for words, condition in CONDITION_WORDS_STRICT
)
_FIELD = tuple(
    (re.compile(rf"(?<![\w-])({words})(?![\w])", re.I), condition)
    for words, condition in CONDITION_WORDS_FIELD
)


def schema_condition(value: object) -> str | None:
    """'https://schema.org/UsedCondition', 'UsedCondition', 'used' → 'used'."""
    if not isinstance(value, str) or not value.strip():
        return None
    short = re.split(r"[/#:]", value.strip())[-1].lower()
    if short in SCHEMA_CONDITIONS:
        return SCHEMA_CONDITIONS[short]
    return condition_from_field(value)


def condition_from_title(title: str | None) -> str | None:
    """Only words that are never mere marketing: 'Renewed', 'Pre-owned', 'Brand New'."""
    return _first_match(title, _STRICT)


def condition_from_field(text: str | None) -> str | None:
    """A labelled condition field may also say just 'New' or 'Neu'."""
    return _first_match(text, _STRICT) or _first_match(text, _FIELD)


def _first_match(text: str | None, table) -> str | None:
    if not text:
        return None
    for pattern, condition in table:
        if pattern.search(text):
            return condition
    return None
