"""Finding brand terms inside one label or name: exact, typo'd, split by separators or written in
leetspeak, and what words stand beside them. Domains and names both judge these hits.

How a term is matched:
- The text is compacted ('Xiao-Mi Store' → 'xiaomistore', with the separator positions kept) and
  scanned once; every term and every typo variant of a strong term is a dict entry keyed by its
  first three letters, so a scan is a few dict lookups per character.
- What stands beside a hit is split at separators into chunks, and each chunk is segmented into
  known words (retail, claim, support, region, model, brand, filler words, digits). A chunk that
  does not segment is "unknown": 'pine' in 'pineapple', 'fans' in 'xiaomifans'.
- A country code counts as a word only as a chunk of its own, or glued to a distinctive term
  ('xiaomiuk'); glued to a short term it is too often the rest of a word ('redmi' + 'ne').
- A distinctive term followed, glued, by nothing but a word ending ('-d', '-ng') is the
  stem of another word ('siphoned', 'xiaoming'): not a hit. A glued 's' is a plural
  ('cheapiphones'), read as the term.
The judges (domains.py, names.py) decide what a hit means; this module only reports it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple

from detectors import fuzzy
from detectors._data import (
    CLAIM_WORDS,
    COMMUNITY_WORDS,
    CORPORATE_WORDS,
    COUNTRY_CODES,
    FILLER_WORDS,
    LEET,
    REGION_WORDS,
    RETAIL_WORDS,
    STEM_TAILS,
    SUPPORT_WORDS,
)
from detectors._world_data import (
    WORLD_AFTERMARKET_WORDS,
    WORLD_CLAIM_WORDS,
    WORLD_RETAIL_WORDS,
    WORLD_SCRIPT_WORDS,
    WORLD_SUPPORT_WORDS,
)
from detectors.lookalikes import skeleton
from detectors.normalize import compact, has_leet, has_leet_l, leet_compact
from detectors.typos import typo_variants
from detectors.words import common_word

# Coined names this long ('xiaomi', 'samsung', 'iphone') are rarely the inside of other words.
DISTINCTIVE_MIN_LEN = 6
# Typos are generated for strong terms this long ('nike', 'lego', 'poco'); a variant that is an
# ordinary word in some language ('nice', 'logo', 'loco': detectors/words.py) is left out, so
# the cut is made by word frequency, not by length. Shorter terms ('mi') are all words.
TYPO_MIN_LEN = 4
# Entries are indexed by their first four letters: small buckets, so few candidates per position.
_SCAN_PREFIX = 4
# A plural 's' glued to a distinctive term ('iphones'): a word of its own, that signals nothing.
PLURAL = "s"


@dataclass(frozen=True)
class Term:
    text: str
    brand: str
    strong: bool
    official_label: bool = False  # the label of an official domain ('mi' of mi.com)
    configured: bool = True  # listed in `terms`/`weak_terms`, not only an official domain's label
    local: bool = False  # written in another script ('小米', 'сяоми'): read by scripts.py

    @cached_property  # asked for every hit and every word beside one
    def distinctive(self) -> bool:
        return self.strong and len(self.text) >= DISTINCTIVE_MIN_LEN


Pieces = list[tuple[int, int]]


class Hit(NamedTuple):
    """One occurrence of a term (or a typo of it) and the words around it.

    A NamedTuple rather than a dataclass: a scan makes many, and tuples are built in C."""

    term: Term
    matched: str
    technique: str | None  # None when the term itself is present
    words: tuple[str, ...] = ()
    classes: frozenset[str] = frozenset()
    unknown: tuple[str, ...] = ()
    split: bool = False  # the term spans a separator ('xiao-mi')
    view: str = "plain"  # "plain" | "leet"

    @property
    def local(self) -> bool:
        return self.term.local

    @property
    def exact(self) -> bool:
        return self.technique is None

    @property
    def alone(self) -> bool:
        return not self.words and not self.unknown

    @property
    def signal_words(self) -> tuple[str, ...]:
        quiet = _QUIET_WORDS
        return tuple(w for w in self.words if not w.isdigit() and w not in quiet)


class TermIndex:
    """All brand terms and their typo variants, with the vocabulary used to read what surrounds
    them. Built once per BrandBook."""

    def __init__(self, terms: list[Term], model_words: frozenset[str]):
        self.terms = terms
        self.word_class: dict[str, str] = {}
        for cls, words in (
            ("filler", FILLER_WORDS),
            ("about", COMMUNITY_WORDS),
            ("region", REGION_WORDS),
            ("retail", RETAIL_WORDS | WORLD_RETAIL_WORDS | WORLD_AFTERMARKET_WORDS),
            ("support", SUPPORT_WORDS | WORLD_SUPPORT_WORDS),
            ("claim", CLAIM_WORDS | WORLD_CLAIM_WORDS),
            ("corporate", CORPORATE_WORDS),
            ("model", model_words),
            ("brand", frozenset(t.text for t in terms)),
        ):
            self.word_class.update(dict.fromkeys(words, cls))
        for cls, words in WORLD_SCRIPT_WORDS.items():  # other scripts: only scripts.py meets them
            self.word_class.update(dict.fromkeys(words, "retail" if cls == "aftermarket" else cls))
        self.local_terms = [t for t in terms if t.local]
        terms = [t for t in terms if not t.local]
        self.max_word = max(len(w) for w in self.word_class if w.isascii())
        # first four letters → ({entry text: (text, term, technique)}, entry lengths)
        self._by_prefix: dict[str, tuple[dict[str, tuple], list[int]]] = {}
        self._short: dict[str, tuple[str, Term, str | None]] = {}  # entries under four letters
        self._short_typos: dict[str, tuple[str, Term, str | None]] = {}
        reserved = frozenset(self.word_class)
        for term in terms:
            self._add(term.text, term, None)
        for term in terms:
            if not (term.strong and len(term.text) >= TYPO_MIN_LEN):
                continue
            if not term.configured and not term.distinctive:
                continue  # a short official label ('vmall') is a domain, not the brand's name
            # any-letter insertion only for short terms: near spellings cover distinctive ones
            skip = ("insertion",) if term.distinctive else ()
            for variant, technique in typo_variants(term.text, reserved, skip).items():
                if term.distinctive or not common_word(variant, any_language=False):
                    self._add(variant, term, technique)
        # glyph skeleton → term, for look-alike letters stacked any number of times ('sarnsvng')
        self._skeletons = {
            skeleton(t.text)[0]: t for t in terms if t.strong and len(t.text) >= TYPO_MIN_LEN
        }
        # one C-level search says whether any skeleton is there at all (most text: none)
        self._any_skeleton = re.compile("|".join(map(re.escape, self._skeletons)) or "(?!)")
        self.by_text = {t.text: t for t in [*terms, *self.local_terms]}
        self._near_terms: dict[str, list[Term]] = {}
        for term in terms:
            if term.distinctive:
                self._near_terms.setdefault(term.text[0], []).append(term)
        self._class_sets: dict[frozenset[str], frozenset[str]] = {}
        self.segment = lru_cache(maxsize=1 << 16)(self._segment)
        # Labels and name words repeat across TLDs, sources and runs: remember recent readings.
        self.find = lru_cache(maxsize=1 << 16)(self._find)

    def _add(self, text: str, term: Term, technique: str | None) -> None:
        if len(text) < _SCAN_PREFIX and technique is not None:
            # a three-letter typo ('nke', 'lgo') counts only as a whole word: inside a longer
            # word it is that word's letters ('bankers', 'algorithm')
            self._short_typos.setdefault(text, (text, term, technique))
            return
        if len(text) < _SCAN_PREFIX:
            self._short.setdefault(text, (text, term, technique))
            return
        entries, lengths = self._by_prefix.setdefault(text[:_SCAN_PREFIX], ({}, []))
        if text not in entries:
            entries[text] = (text, term, technique)
            if len(text) not in lengths:
                lengths.append(len(text))
                lengths.sort(reverse=True)

    # -- reading the words around a hit ------------------------------------------------------
    def _segment(self, chunk: str, country_ok: bool) -> tuple[str, ...] | None:
        """Split a chunk into known words and digit runs, or None if it will not split.

        A chunk that only splits once read as leetspeak ('0fficial', 'st0re') splits that way:
        the claim next to a brand term is spelt evasively as often as the term itself."""
        found = self._segment_plain(chunk, country_ok)
        if found is None and not _LEET_LETTERS.isdisjoint(chunk) and not chunk.isdigit():
            found = self._segment_plain(chunk.translate(_LEET_READ), country_ok)
        return found

    def _segment_plain(self, chunk: str, country_ok: bool) -> tuple[str, ...] | None:
        known = self.word_class
        if chunk in known or chunk.isdigit():
            return (chunk,)
        if country_ok and chunk in COUNTRY_CODES:
            return (chunk,)
        # best[end] splits chunk[:end], its last word from the leftmost start that works; only
        # starts that themselves split are tried, so an unknown chunk costs little
        best: dict[int, tuple[str, ...]] = {0: ()}
        starts = [0]
        for end in range(1, len(chunk) + 1):
            for start in starts:
                if start < end - self.max_word:
                    continue
                piece = chunk[start:end]
                if piece in known or piece.isdigit():
                    best[end] = (*best[start], piece)
                    starts.append(end)
                    break
        return best.get(len(chunk))

    def _surroundings(
        self,
        c: str,
        cuts: frozenset[int],
        pieces: Pieces,
        start: int,
        end: int,
        term: Term,
        exact: bool = False,
    ):
        """Known words and unknown chunks on both sides of c[start:end]."""
        glued_left = start > 0 and start not in cuts
        glued_right = end < len(c) and end not in cuts
        left = [c[a : min(b, start)] for a, b in pieces if a < start] if start else []
        right = [c[max(a, end) : b] for a, b in pieces if b > end] if end < len(c) else []
        after = len(left)  # the index of the first chunk right of the hit
        words: list[str] = []
        unknown: list[str] = []
        for k, chunk in enumerate(left + right):
            glued = (glued_left and k == after - 1) or (glued_right and k == after)
            country_ok = not glued or (term.distinctive and chunk not in STEM_TAILS)
            found = self.segment(chunk, country_ok)
            if found is None and glued and k == after and exact and term.distinctive:
                found = self._plural(chunk)
            if found is None:
                unknown.append(chunk)
            else:
                words.extend(found)
        return tuple(words), tuple(unknown)

    def _plural(self, chunk: str) -> tuple[str, ...] | None:
        """'s' or 's' + known words glued after a distinctive term: 'iphones', 'iphonesdeals'."""
        if not chunk.startswith(PLURAL):
            return None
        rest = chunk[len(PLURAL) :]
        found = self.segment(rest, True) if rest else ()
        return None if found is None else (PLURAL, *found)

    def classes_of(self, words: tuple[str, ...]) -> frozenset[str]:
        return self._classes(words)

    def _classes(self, words: tuple[str, ...]) -> frozenset[str]:
        word_class = self.word_class
        found = frozenset("filler" if w == PLURAL else word_class.get(w, "other") for w in words)
        # there are few distinct sets: every hit shares one, and remembered hits hold no copies
        return self._class_sets.setdefault(found, found)

    @staticmethod
    def _stem_of_another_word(c: str, cuts: frozenset[int], end: int) -> bool:
        """'siphoned', 'xiaoming': only a word ending glued after the term."""
        if end == len(c) or end in cuts:
            return False
        stop = min((p for p in cuts if p > end), default=len(c))
        return c[end:stop] in STEM_TAILS

    # -- scanning ------------------------------------------------------------------------------
    def _find(self, text: str) -> tuple[Hit, ...]:
        """Every term hit in `text` (ASCII-folded, any case), in the plain and leet readings."""
        c, cuts = compact(text)
        hits = self._scan(c, cuts, None, "plain")
        if has_leet(text) and not any(h.exact and h.term.strong for h in hits):
            for read_one_as_l in (False, True) if has_leet_l(text) else (False,):
                c2, cuts2, changed = leet_compact(text, read_one_as_l)
                hits.extend(self._scan(c2, cuts2, changed, "leet"))
        if not hits or not any(h.exact and h.term.strong for h in hits):
            hits.extend(fuzzy.glyph_hits(self, c, cuts))
        if not hits or not any(h.term.strong for h in hits):  # a weak 'mi' hides nothing
            hits.extend(fuzzy.near_hits(self, c, cuts))
        return tuple(hits)

    def _scan(self, c, cuts, changed, view) -> list[Hit]:
        by_prefix, width = self._by_prefix, _SCAN_PREFIX
        starts = [i for i in range(len(c) - width + 1) if c[i : i + width] in by_prefix]
        candidates = []
        for i in starts:
            entries, lengths = by_prefix[c[i : i + width]]
            for length in lengths:
                entry = entries.get(c[i : i + length])
                if entry:
                    candidates.append((i, entry))
        for short, entry in self._short.items():
            at = c.find(short)
            while at != -1:
                candidates.append((at, entry))
                at = c.find(short, at + 1)
        for short, entry in self._short_typos.items():
            at = c.find(short)
            while at != -1:
                if _whole(c, cuts, at, at + len(short)):
                    candidates.append((at, entry))
                at = c.find(short, at + 1)
        if not candidates:
            return []  # most text: no term or variant anywhere
        kept = []
        for i, entry in candidates:
            text, term, technique = entry
            end = i + len(text)
            if changed is not None and not any(i <= p < end for p in changed):
                continue
            split = bool(cuts) and any(i < p < end for p in cuts)
            if split and (technique is not None or not _whole(c, cuts, i, end)):
                continue  # split terms must be made of whole pieces ('xiao-mi')
            kept.append((i, end, entry, split))
        exact_spans = [
            (i, end) for i, end, (_, term, tech), _ in kept if tech is None and term.strong
        ]
        hits = []
        pieces = pieces_of(c, cuts) if kept else []
        for i, end, (text, term, technique), split in kept:
            if (
                exact_spans
                and (technique is not None or not term.strong)
                and any(a <= i and end <= b and (a, b) != (i, end) for a, b in exact_spans)
            ):
                continue  # 'xiaom' or 'mi' inside an exact 'xiaomi' adds nothing
            exact = technique is None
            if exact and term.distinctive and self._stem_of_another_word(c, cuts, end):
                continue
            words, unknown = self._surroundings(c, cuts, pieces, i, end, term, exact)
            hits.append(
                Hit(term, text, technique, words, self._classes(words), unknown, split, view)
            )
        return hits


def _whole(c: str, cuts: frozenset[int], start: int, end: int) -> bool:
    return (start == 0 or start in cuts) and (end == len(c) or end in cuts)


def pieces_of(c: str, cuts: frozenset[int]) -> Pieces:
    """Where each separator-free piece of c starts and ends: ('xiaomistore', {6}) → (0, 6), (6, 11).

    Found once per reading, so the words beside each hit are slices, not a new search."""
    if not cuts:
        return [(0, len(c))] if c else []
    bounds = [0, *sorted(cuts), len(c)]
    return list(zip(bounds, bounds[1:], strict=False))


_QUIET_WORDS = FILLER_WORDS | COMMUNITY_WORDS | {PLURAL}
_LEET_READ = str.maketrans(LEET)
_LEET_LETTERS = frozenset(LEET)
