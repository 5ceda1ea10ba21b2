"""Titles → catalog model, kind of goods and condition: what `read_title` tells the price check.

The model comes from `detectors.models` (identity tokens, refusals said), the kind of goods
from `detectors.goods` (device, accessory, part, packaging, dummy, service), the condition from
the words below; the variant attributes (storage, RAM, colour, network…) ride along."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from detectors._data import CONDITION_PHRASES
from detectors.goods import Goods, classify_goods
from detectors.models import CatalogIndex, ModelMatch
from detectors.normalize import fold
from detectors.phrases import Phrases
from grayhound.config import CatalogModel

_CONDITION = Phrases(r"\b({})\b", (p for p, _ in CONDITION_PHRASES))
_CONDITION_RANK = {phrase: (rank, cond) for rank, (phrase, cond) in enumerate(CONDITION_PHRASES)}
# Chinese second-hand grades: '99新', '95新', '9成新' (99 % new: used, like new); not '全新'.
_USED_GRADE = re.compile(r"(?<!\d)(?:9\d|[5-9]成)新")

__all__ = [
    "CatalogIndex",
    "TitleReading",
    "TitleWords",
    "read_condition",
    "read_title",
    "read_title_words",
    "reading_from_state",
    "reading_of",
    "reading_state",
    "title_words_from_state",
    "title_words_state",
]

# A title longer than this is a description pasted in (or an attack): its head is the title.
MAX_TITLE = 400


@dataclass(frozen=True)
class TitleReading:
    model: CatalogModel | None
    is_accessory: bool  # not the device itself: accessory, part, box, dummy or service
    condition: str
    reasons: tuple[str, ...] = ()
    kind: str = "device"
    model_reason: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    broken: str | None = None  # 'for parts', 'not working': the price says nothing of MSRP

    @property
    def storage(self) -> str | None:
        return self.attributes.get("storage")


def condition_from_text(text: str | None, *, new_allowed: bool = True) -> tuple[str, str] | None:
    """(condition, phrase) from the most specific condition phrase in `text`."""
    if not text:
        return None
    lowered = fold(text).text.replace("-", " ")
    grade = _USED_GRADE.search(text)
    best = (_CONDITION_RANK["used"][0], "used", grade.group()) if grade else None
    for start, end in _CONDITION.spans(lowered):
        phrase = lowered[start:end]
        rank, condition = _CONDITION_RANK[phrase.lower()]
        if condition == "new" and not new_allowed:
            continue
        if best is None or rank < best[0]:
            best = (rank, condition, phrase)
    return (best[1], best[2]) if best else None


def read_condition(extracted: str, title: str, description: str | None) -> tuple[str, str | None]:
    """Condition and the sentence explaining where it came from.

    The extracted value wins, except that an extracted 'new' gives way to a title saying
    refurbished or used: marketplaces default structured data to NewCondition."""
    return _condition(extracted, condition_from_text(title), description)


def _condition(
    extracted: str, from_title: tuple[str, str] | None, description: str | None
) -> tuple[str, str | None]:
    """`read_condition` given what the title says (`condition_from_text`)."""
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
    category: str | None = None,
) -> TitleReading:
    words = read_title_words(index, title, brand, category)
    return reading_of(words, extracted_condition, description)


@dataclass(frozen=True)
class TitleWords:
    """What a title says by itself, with the listing's brand (its id) and category: the
    model, the kind of goods, the attributes and the condition it names — the costly part
    of `read_title`, the same for every listing with that title, brand and category."""

    model: CatalogModel | None
    model_reason: str
    attributes: dict[str, str]
    kind: str
    goods_reason: str | None
    broken: str | None
    condition: tuple[str, str] | None  # (condition, phrase) the title names


def read_title_words(
    index: CatalogIndex, title: str, brand: str | None = None, category: str | None = None
) -> TitleWords:
    title = (title or "")[:MAX_TITLE]
    match: ModelMatch = index.match(title, brand)
    goods: Goods = classify_goods(
        title,
        has_storage="storage" in match.attributes,
        device_words=index.device_words,
        category=category,
    )
    return TitleWords(
        model=match.model,
        model_reason=match.reason,
        attributes=dict(match.attributes),
        kind=goods.kind,
        goods_reason=goods.reason,
        broken=goods.broken,
        condition=condition_from_text(title),
    )


def reading_of(words: TitleWords, extracted_condition: str, description: str | None):
    """A listing's reading: its title's words, with the condition its page data states
    (`extracted_condition`) and, when neither says one, its description."""
    condition, condition_reason = _condition(extracted_condition, words.condition, description)
    reasons = [words.goods_reason] if words.goods_reason else []
    if condition_reason:
        reasons.append(condition_reason)
    return TitleReading(
        model=words.model,
        is_accessory=words.kind != "device",
        condition=condition,
        reasons=tuple(reasons),
        kind=words.kind,
        model_reason=words.model_reason,
        attributes=dict(words.attributes),
        broken=words.broken,
    )


def title_words_state(words: TitleWords) -> dict:
    """A title's words as plain data, its model by brand and name (what `grayhound detect`
    keeps so that a title another listing has is not read again)."""
    model = words.model
    return {
        "model": [model.brand, model.model] if model else None,
        "model_reason": words.model_reason,
        "attributes": dict(words.attributes),
        "kind": words.kind,
        "goods_reason": words.goods_reason,
        "broken": words.broken,
        "condition": list(words.condition) if words.condition else None,
    }


def title_words_from_state(state: dict, models: dict[tuple[str, str], CatalogModel]):
    """The words `title_words_state` kept; None when their model left the catalog."""
    model = None
    if state["model"] is not None:
        model = models.get(tuple(state["model"]))
        if model is None:
            return None
    condition = state["condition"]
    return TitleWords(
        model=model,
        model_reason=state["model_reason"],
        attributes=dict(state["attributes"]),
        kind=state["kind"],
        goods_reason=state["goods_reason"],
        broken=state["broken"],
        condition=tuple(condition) if condition else None,
    )


def reading_state(reading: TitleReading) -> dict:
    """A reading as plain data, its model named by brand and name: what `grayhound detect`
    keeps so that a listing whose title did not change is not read again."""
    model = reading.model
    return {
        "model": [model.brand, model.model] if model else None,
        "is_accessory": reading.is_accessory,
        "condition": reading.condition,
        "reasons": list(reading.reasons),
        "kind": reading.kind,
        "model_reason": reading.model_reason,
        "attributes": dict(reading.attributes),
        "broken": reading.broken,
    }


def reading_from_state(state: dict, models: dict[tuple[str, str], CatalogModel]):
    """The reading `reading_state` kept, against the catalog's models by (brand, name); None
    when its model is no longer in the catalog."""
    model = None
    if state["model"] is not None:
        model = models.get(tuple(state["model"]))
        if model is None:
            return None
    return TitleReading(
        model=model,
        is_accessory=state["is_accessory"],
        condition=state["condition"],
        reasons=tuple(state["reasons"]),
        kind=state["kind"],
        model_reason=state["model_reason"],
        attributes=dict(state["attributes"]),
        broken=state["broken"],
    )
