"""Item condition: new | used | refurbished | unknown, from schema.org itemCondition values
and from the words shops and sellers use in titles and condition fields."""

from __future__ import annotations

import re

from crawler.pages._condition_data import (
    CONDITION_GRADES_USED,
    CONDITION_WORDS_FIELD,
    CONDITION_WORDS_STRICT,
    SCHEMA_CONDITIONS,
)

# Scripts written without spaces between words (Chinese, Japanese, Korean, Thai): a word of
# theirs has no word boundary to test, so it matches inside a longer one ("中古品").
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _words(alternatives: str) -> re.Pattern:
    """One pattern for "a|b|c": whole words for spaced scripts, anywhere for unspaced ones."""
    words = alternatives.split("|")
    spaced = "|".join(w for w in words if not _UNSPACED.search(w))
    unspaced = "|".join(w for w in words if _UNSPACED.search(w))
    parts = [rf"(?<![\w-])(?:{spaced})(?![\w])"] if spaced else []
    parts += [unspaced] if unspaced else []
    return re.compile("|".join(parts), re.I)


_STRICT = tuple((_words(words), condition) for words, condition in CONDITION_WORDS_STRICT)
_FIELD = tuple((_words(words), condition) for words, condition in CONDITION_WORDS_FIELD)
# A field is read: refurbished words, then used-only grades, then the other strict words.
_IN_FIELD = (_STRICT[0], (_words(CONDITION_GRADES_USED), "used"), *_STRICT[1:], *_FIELD)


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


def condition_in_block(text: str | None) -> str | None:
    """The strict word printed first in a block of text: a product box may also list other
    offers ("新品 (3)点 … 中古品 - 非常に良い"), which come after the item's own."""
    if not text:
        return None
    found = ((m.start(), c) for pattern, c in _STRICT if (m := pattern.search(text)) is not None)
    return min(found, default=(0, None))[1]


def condition_from_field(text: str | None) -> str | None:
    """A labelled condition field may also say just 'New', 'Neu' or a used grade ('Good')."""
    return _first_match(text, _IN_FIELD)


def _first_match(text: str | None, table) -> str | None:
    if not text:
        return None
    for pattern, condition in table:
        if pattern.search(text):
            return condition
    return None
