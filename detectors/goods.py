"""Device or not: what kind of goods a listing is, with the words that say so.

A title that names a phone is often not the phone: its case, its battery, its empty box, a
display dummy, a repair or unlocking service. `classify_goods` reads the title (and the
listing's category or breadcrumbs where it has them) in this order — service, dummy,
packaging, part, accessory — and returns the first kind whose words are there. Words after a
bundle word ('with charger', '+ free case') belong to a device's bundle, not to its kind. A
battery, screen or adapter counts only when the title names no storage: a phone's title names
its storage, a part's does not. A phone sold broken ('for parts', 'ジャンク') stays a device,
marked `broken`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from detectors import _goods_data as data
from detectors.titles import normal_form

KINDS = ("device", "accessory", "part", "packaging", "dummy", "service")
_LATIN_WORD = re.compile(r"[a-z]+")
_BUNDLE_MARK = re.compile(r"\s\+\s")


@dataclass(frozen=True)
class Goods:
    kind: str  # one of KINDS
    reason: str | None = None
    broken: str | None = None  # the phrase saying the device is sold broken

    @property
    def is_device(self) -> bool:
        return self.kind == "device"


class _Words:
    """One word table: Latin words (whole words, German compound heads), phrases, and words of
    scripts without spaces (found anywhere)."""

    def __init__(self, *tables: str | tuple[str, ...]):
        entries = [e for t in tables for e in (t if isinstance(t, tuple) else t.split())]
        entries = [normal_form(e) for e in entries]
        self.words = frozenset(e for e in entries if e.isascii() and " " not in e)
        phrases = sorted((e for e in entries if e.isascii() and " " in e), key=len, reverse=True)
        alternatives = "|".join(re.escape(p) for p in phrases)
        self.phrases = re.compile(rf"(?<![a-z])(?:{alternatives})(?![a-z])") if phrases else None
        self.unspaced = tuple(e for e in entries if not e.isascii())

    def find(self, text: str, words: list[str], heads: tuple[str, ...] = ()) -> str | None:
        hits = self.words.intersection(words)
        for word in words if hits or heads else ():
            if word in hits:
                return word
            if heads and len(word) > 6 and any(word.endswith(h) and h in self.words for h in heads):
                return word
        found = self.phrases.search(text) if self.phrases else None
        if found:
            return found.group()
        return next((w for w in self.unspaced if w in text), None)


SERVICE = _Words(data.SERVICE_WORDS, data.SERVICE_PHRASES)
SERVICE_NOUN = _Words(data.SERVICE_NOUNS)
WARRANTY = _Words(data.WARRANTY_WORDS)
DUMMY = _Words(data.DUMMY_WORDS, data.DUMMY_PHRASES)
BOX = _Words(data.BOX_WORDS)
EMPTY = _Words(data.EMPTY_WORDS, data.EMPTY_PHRASES)
PACKAGING = _Words(data.PACKAGING_WORDS)
NEGATIONS = frozenset(data.NEGATIONS.split())
PART = _Words(data.PART_WORDS, data.PART_PHRASES)
WEAK_PART = _Words(data.WEAK_PART_WORDS)
COVER = _Words(data.COVER_WORDS)
COVER_PART = _Words(data.COVER_PART_HINTS)
ACCESSORY = _Words(data.ACCESSORY_WORDS, data.ACCESSORY_PHRASES)
WEAK_ACCESSORY = _Words(data.WEAK_ACCESSORY_WORDS)
BUNDLE = frozenset(normal_form(w) for w in data.BUNDLE_WORDS.split())
FITS = _Words(data.FITS_WORDS)
BROKEN = _Words(data.BROKEN_PHRASES)
CATEGORY = {kind: _Words(words) for kind, words in data.CATEGORY_NON_DEVICE.items()}


def classify_goods(
    title: str,
    *,
    has_storage: bool = False,
    device_words: frozenset[str] = frozenset(),
    category: str | None = None,
) -> Goods:
    """`has_storage`: the title names a storage size. `device_words`: brand and line words, so
    'case for Pixel' points at a device. `category`: breadcrumbs, category, additionalType."""
    return _classify(title or "", has_storage, device_words, category or "")


@lru_cache(maxsize=4096)
def _classify(title: str, has_storage: bool, device_words: frozenset[str], category: str) -> Goods:
    text = normal_form(title)
    words = _LATIN_WORD.findall(text)
    head_text, head = _head(text, words)
    broken = BROKEN.find(text, words)
    for kind, found in _strong_kinds(text, words, head_text, head):
        if found:
            return Goods(kind, f"{kind}: the title says '{found}'", broken)
    if not has_storage:
        found = WEAK_PART.find(head_text, head)
        if found:
            return Goods("part", f"part: the title says '{found}' and names no storage", broken)
    pointed = _fits_device(words, device_words)
    if pointed:
        return Goods("accessory", f"accessory: the title says '{pointed}'", broken)
    if not has_storage:
        found = WEAK_ACCESSORY.find(head_text, head)
        if found:
            return Goods("accessory", f"accessory: the title says '{found}' and names no storage")
    for kind, table in CATEGORY.items():
        found = table.find(normal_form(category), _LATIN_WORD.findall(normal_form(category)))
        if found:
            return Goods(kind, f"{kind}: the listing's category says '{found}'", broken)
    return Goods("device", None, broken)


def _strong_kinds(text: str, words: list[str], head_text: str, head: list[str]):
    """(kind, the words that say so) in the order they are tried."""
    yield "service", SERVICE.find(text, words) or _service_noun(text, words, head_text, head)
    yield "dummy", DUMMY.find(text, words)
    yield "packaging", _packaging(text, words)
    yield "part", PART.find(text, words) or _cover_part(text, words)
    yield (
        "accessory",
        ACCESSORY.find(head_text, head, data.COMPOUND_HEADS) or COVER.find(head_text, head),
    )


_WEARABLE = re.compile(
    r"(?:(?:" + "|".join(data.WEARABLE_QUALIFIERS) + r")\s+bands?)"
    r"|bands?(?=\s+\d+(?!\d)(?!\s*(?:" + "|".join(data.SIZE_UNITS) + r")))"
)


def _head(text: str, words: list[str]) -> tuple[str, list[str]]:
    """The title before its first bundle word or spaced '+': what is sold, not what comes with
    it; a wearable's 'band' ('Smart Band 8', 'Band 7 Pro') is its name, not a strap."""
    cut = len(text)
    plus = _BUNDLE_MARK.search(text)
    if plus:
        cut = plus.start()
    for match in _LATIN_WORD.finditer(text):
        if match.group() in BUNDLE and match.start() < cut:
            cut = match.start()
            break
    head_text = _WEARABLE.sub(" ", text[:cut])
    return head_text, _LATIN_WORD.findall(head_text)


def _service_noun(text: str, words: list[str], head_text: str, head: list[str]) -> str | None:
    if WARRANTY.find(text, words):
        return None
    return SERVICE_NOUN.find(head_text, head)


def _packaging(text: str, words: list[str]) -> str | None:
    found = PACKAGING.find(text, words)
    if found:
        return found
    boxes = [w for i, w in enumerate(words) if w in BOX.words and not _negated(words, i)]
    box = boxes[0] if boxes else next((w for w in BOX.unspaced if w in text), None)
    empty = EMPTY.find(text, words) if box else None
    return f"{box} … {empty}" if box and empty else None


def _negated(words: list[str], i: int) -> bool:
    return any(w in NEGATIONS for w in words[max(0, i - 2) : i])


def _cover_part(text: str, words: list[str]) -> str | None:
    cover = COVER.find(text, words)
    hint = COVER_PART.find(text, words) if cover else None
    return f"{cover} … {hint}" if cover and hint else None


def _fits_device(words: list[str], device_words: frozenset[str]) -> str | None:
    """'case for pixel', 'charger para motorola': a fits-word pointing at a brand or line."""
    for i, word in enumerate(words[:-1]):
        if word in FITS.words and words[i + 1] in device_words:
            return f"{word} {words[i + 1]}"
    return None
