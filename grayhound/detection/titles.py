"""Titles read once: what a title says by itself (model, kind of goods, attributes, the
condition it names: `detectors.catalog.TitleWords`, the costly part of a reading) is kept in
the store by a key of the title, the listing's brand and category and the fingerprints it was
read with (`title_words`, migration 0013). A listing whose title, brand and category another
listing already had (marketplaces repeat titles: sellers copy them, relist, sell the same
model in many colours) is not read again: its reading is those words with its own condition
and description (`detectors.catalog.reading_of`), exactly what reading the title gives. The
kept words go when the config or the detectors change, or with `detect --full`."""

from __future__ import annotations

import hashlib
import json

from detectors import ListingFacts
from detectors.catalog import (
    MAX_TITLE,
    TitleReading,
    TitleWords,
    reading_of,
    title_words_from_state,
    title_words_state,
)
from detectors.listings import listing_title_words
from grayhound.detection.work import Work
from grayhound.store.detectstate import dumps

_KEY_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps(…, ensure_ascii=False), quicker


def read_titles(work: Work, listings: list[ListingFacts]) -> list[TitleReading]:
    """The readings of these listings' titles: each distinct title (with its brand and
    category) looked up among the kept words, read only when none are kept."""
    book, judged_with = work.book, work.scope.key("brands", "catalog", "detectors")
    keys = [
        words_key(facts.title, book.brand_id(facts.brand), facts.category, judged_with)
        for facts in listings
    ]
    kept = work.kept_title_words(sorted(set(keys)))
    known: dict[str, TitleWords] = {}
    fresh: dict[str, TitleWords] = {}
    out = []
    for facts, key in zip(listings, keys, strict=True):
        words = known.get(key)
        if words is None and key in kept:
            words = title_words_from_state(json.loads(kept[key]), work.models)
        if words is None:
            words = listing_title_words(facts, book)
            fresh[key] = words  # counted when kept (`Work.keep_title_words`)
        known[key] = words
        out.append(reading_of(words, facts.condition, facts.description))
    work.keep_title_words([(key, dumps(title_words_state(w))) for key, w in fresh.items()])
    return out


def words_key(title: str | None, brand: str | None, category: str | None, judged_with: str):
    """The key a title's words are kept under: what they depend on."""
    blob = _KEY_JSON.encode([(title or "")[:MAX_TITLE], brand, category, judged_with])
    return hashlib.sha256(blob.encode()).hexdigest()[:24]
