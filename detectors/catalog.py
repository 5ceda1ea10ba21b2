"""Titles → catalog model, accessory or device, and condition.

A catalog name is read as: line words (brand terms: 'Xiaomi', 'Galaxy', 'iPhone'), series prefix
('Note', 'Z Flip', 'S'), model number ('14') and modifiers ('Pro', 'Max', 'Ultra'). A title
matches when the number is there with exactly that prefix right before it and exactly those
modifiers right after it, so 'iPhone 15 Pro' never matches 'iPhone 15' or 'iPhone 15 Pro Max',
and storage, colours and '5G' after the model are ignored. Only the line words are fuzzy
(rapidfuzz), so 'Xiaomy 14 Pro' still finds its model; the listing's brand field may stand in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from detectors._data import (
    ACCESSORY_WORDS,
    BUNDLE_WORDS,
    CONDITION_PHRASES,
    FITS_WORDS,
    MODEL_MODIFIERS,
    SIZE_UNITS,
    WEAK_ACCESSORY_WORDS,
    WEARABLE_QUALIFIERS,
)
from detectors.normalize import fold, split_camel
from grayhound.config import CatalogModel

# A misspelt line word ('Xiaomy', 'Samsng') still names the line at this rapidfuzz ratio.
LINE_FUZZ_MIN = 80
# 'Pro+' is a model ('Note 13 Pro+'); '12GB+512GB' and ' + Case' are separators or bundles.
_PLUS_MODEL = re.compile(r"(?<=[a-z0-9])\+(?![0-9a-z])")
_PLUS_BUNDLE = re.compile(r"\s\+\s")
_TOKEN = re.compile(r"[a-z]+|[0-9]+")
_SPEC = re.compile(r"\d+\s*(gb|tb|mb)\b|\b\d+\s*/\s*\d+\b")
_CONDITION = re.compile(
    r"\b(" + "|".join(re.escape(p) for p, _ in CONDITION_PHRASES) + r")\b", re.IGNORECASE
)
_CONDITION_RANK = {phrase: (rank, cond) for rank, (phrase, cond) in enumerate(CONDITION_PHRASES)}


@dataclass(frozen=True)
class ModelSpec:
    model: CatalogModel
    line: frozenset[str]
    prefix: tuple[str, ...]
    number: str
    modifiers: frozenset[str]


@dataclass(frozen=True)
class TitleReading:
    model: CatalogModel | None
    is_accessory: bool
    condition: str
    reasons: tuple[str, ...] = ()


def title_tokens(text: str) -> list[str]:
    """Lowercase letter runs and digit runs: 'Galaxy S24+ 8/256GB' → galaxy s 24 plus 8 256 gb."""
    lowered = split_camel(fold(text).text).lower()
    lowered = _PLUS_BUNDLE.sub(" with ", _PLUS_MODEL.sub(" plus ", lowered))
    return _TOKEN.findall(lowered)


class CatalogIndex:
    def __init__(self, models: tuple[CatalogModel, ...], line_words: frozenset[str]):
        self.line_words = line_words
        self.by_number: dict[str, list[ModelSpec]] = {}
        for model in models:
            for name in (model.model, *model.aliases):
                spec = self._spec(model, title_tokens(name))
                if spec:
                    self.by_number.setdefault(spec.number, []).append(spec)

    def _spec(self, model: CatalogModel, tokens: list[str]) -> ModelSpec | None:
        line = []
        while tokens and tokens[0] in self.line_words:
            line.append(tokens.pop(0))
        digits = [i for i, t in enumerate(tokens) if t.isdigit()]
        if not digits:
            return None
        at = digits[0]
        return ModelSpec(
            model, frozenset(line), tuple(tokens[:at]), tokens[at], frozenset(tokens[at + 1 :])
        )

    def match(self, tokens: list[str], brand: str | None = None) -> CatalogModel | None:
        """The most specific catalog model the tokens name, or None."""
        best, best_rank = None, -1
        for k, token in enumerate(tokens):
            for spec in self.by_number.get(token, ()):
                if not _fits(spec, tokens, k):
                    continue
                if spec.model.brand != brand and not _names_line(spec.line, tokens[:k]):
                    continue
                rank = len(spec.prefix) + len(spec.modifiers)
                if rank > best_rank:
                    best, best_rank = spec.model, rank
        return best


def _fits(spec: ModelSpec, tokens: list[str], k: int) -> bool:
    width = len(spec.prefix)
    if width and tuple(tokens[k - width : k]) != spec.prefix:
        return False
    modifiers = set()
    for token in tokens[k + 1 :]:
        if token not in MODEL_MODIFIERS:
            break
        modifiers.add(token)
    return modifiers == spec.modifiers


def _names_line(line: frozenset[str], before: list[str]) -> bool:
    if not line:
        return True
    for token in before:
        if token in line:
            return True
        if len(token) >= 4 and any(fuzz.ratio(token, w) >= LINE_FUZZ_MIN for w in line):
            return True
    return False


def is_accessory(tokens: list[str], title: str, line_words: frozenset[str]) -> str | None:
    """The word that makes the title an accessory ('case', 'for iphone'), or None."""
    has_spec = bool(_SPEC.search(title.lower()))
    for k, token in enumerate(tokens):
        bundled = any(t in BUNDLE_WORDS for t in tokens[max(0, k - 2) : k])
        if token in ACCESSORY_WORDS and not bundled and not _wearable_band(tokens, k):
            return token
        if token in WEAK_ACCESSORY_WORDS and not bundled and not has_spec:
            return token
        if token in FITS_WORDS and k + 1 < len(tokens) and tokens[k + 1] in line_words:
            return f"{token} {tokens[k + 1]}"
    return None


def _wearable_band(tokens: list[str], k: int) -> bool:
    """'Smart Band 8', 'Band 7 Pro': a fitness band (the device), not a watch strap."""
    if tokens[k] not in ("band", "bands"):
        return False
    if k and tokens[k - 1] in WEARABLE_QUALIFIERS:
        return True
    after = tokens[k + 1 : k + 3]
    return bool(after) and after[0].isdigit() and (after[1:] or [""])[0] not in SIZE_UNITS


def condition_from_text(text: str | None, *, new_allowed: bool = True) -> tuple[str, str] | None:
    """(condition, phrase) from the most specific condition phrase in `text`."""
    if not text:
        return None
    lowered = fold(text).text.replace("-", " ")
    best = None
    for match in _CONDITION.finditer(lowered):
        rank, condition = _CONDITION_RANK[match.group(1).lower()]
        if condition == "new" and not new_allowed:
            continue
        if best is None or rank < best[0]:
            best = (rank, condition, match.group(1))
    return (best[1], best[2]) if best else None


def read_condition(extracted: str, title: str, description: str | None) -> tuple[str, str | None]:
    """Condition and the sentence explaining where it came from.

    The extracted value wins, except that an extracted 'new' gives way to a title saying
    refurbished or used: marketplaces default structured data to NewCondition."""
    from_title = condition_from_text(title)
    if extracted in ("used", "refurbished"):
        return extracted, None
    if extracted == "new":
        if from_title and from_title[0] != "new":
            return from_title[0], f"title says '{from_title[1]}' although the page data says new"
        return "new", None
    if from_title:
        return from_title[0], f"condition '{from_title[0]}' read from the title ('{from_title[1]}')"
    from_description = condition_from_text(description, new_allowed=False)
    if from_description:
        cond, phrase = from_description
        return cond, f"condition '{cond}' read from the description ('{phrase}')"
    return "unknown", None


def read_title(
    index: CatalogIndex,
    title: str,
    extracted_condition: str = "unknown",
    description: str | None = None,
    brand: str | None = None,
) -> TitleReading:
    tokens = title_tokens(title)
    model = index.match(tokens, brand)
    accessory_word = is_accessory(tokens, title, index.line_words)
    condition, condition_reason = read_condition(extracted_condition, title, description)
    reasons = []
    if accessory_word:
        reasons.append(f"accessory: the title says '{accessory_word}'")
    if condition_reason:
        reasons.append(condition_reason)
    return TitleReading(model, accessory_word is not None, condition, tuple(reasons))
