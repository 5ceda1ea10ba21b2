"""Titles → catalog models, by identity tokens, with the reason and the refusals said.

Each catalog name (model and aliases) is read like a title (detectors/titles.py) and its tokens
take one of three roles (detectors/patterns.py):

- brand words: the brand's name, terms and weak terms ('google', 'pixel', 'xperia', 'moto').
  Optional in a title; present, they are the brand's evidence.
- line words: the other words before the model number ('edge', 'reno', 'phone'). Required,
  in order, anywhere before the number.
- the designation: the model number and what is glued to it or follows it ('8·pro',
  'x·9·b', '2·a·plus', '40·neo'). Required, contiguous.

A name fits a title when all that is required is there and nothing around the designation
names another model: no suffix after it ('pro', 'plus', any single letter: '8' is not '8a',
'Pura 70 Pro' is not 'Pura 70 Pro+'), no unexplained letter glued before it ('reno12' is not
'12'), no other line's word right before it. A designation without a line word of its own
('OnePlus 12', 'vivo V30', 'Moto G84') needs the brand in the title or the listing. Several
models named in one title, or two names that fit equally, give no model: a wrong sibling costs
more than no match."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from detectors._catalog_data import IDENTITY_SUFFIXES, LOCAL_BRAND_NAMES
from detectors.patterns import (
    NamePattern,
    all_names,
    brand_texts,
    letter_words,
    maker_words,
    name_order,
    name_patterns,
)
from detectors.titles import ParsedTitle, Token, parse_title
from grayhound.config import Brand, CatalogModel

# A misspelt brand word ('Xiaomy', 'Samsng') still names the brand at this rapidfuzz ratio.
BRAND_FUZZ_MIN = 80
# Shorter words are too often other words one letter away ('sony'/'song', 'oppo'/'oppa').
FUZZ_MIN_LEN = 5
# Titles whose reading is remembered (a few hundred bytes each).
MATCH_CACHE = 1 << 15


@dataclass(frozen=True)
class Fit:
    pattern: NamePattern
    start: int
    end: int
    found: tuple[str, ...]  # the name's tokens the title has, in the name's order
    conflict: str | None  # a line word of the brand the name lacks ('cmf' for 'Phone (1)')


@dataclass(frozen=True)
class ModelMatch:
    model: CatalogModel | None
    reason: str
    matched: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)


class CatalogIndex:
    """The catalog's names as patterns, indexed by their designation's first token."""

    def __init__(self, models: tuple[CatalogModel, ...], brands: dict[str, Brand]):
        self.brand_of: dict[str, set[str]] = {}  # brand word → brand ids (evidence)
        self.strong_brand_of: dict[str, set[str]] = {}  # without weak terms
        for brand in brands.values():
            for text, strong in brand_texts(brand):
                for word in parse_title(text).tokens:
                    self.brand_of.setdefault(word.text, set()).add(brand.id)
                    if strong:
                        self.strong_brand_of.setdefault(word.text, set()).add(brand.id)
        self.compounds = frozenset(
            w for text in all_names(models, brands) for w in letter_words(text) if len(w) > 3
        )
        own_words = {b: {w for w, ids in self.brand_of.items() if b in ids} for b in brands}
        self.patterns = [
            p
            for m in models
            for p in name_patterns(m, own_words.get(m.brand, set()), self.compounds)
        ]
        self.suffixes = IDENTITY_SUFFIXES | {
            t for p in self.patterns for t in p.designation[1:] if t.isalpha()
        }
        self.line_words = {w for p in self.patterns for w in p.line}
        self.line_terms: dict[str, set[str]] = {}  # brand → its words some names carry
        for p in self.patterns:
            self.line_terms.setdefault(p.model.brand, set()).update(p.brand_words)
        for brand in brands.values():
            self.line_terms.get(brand.id, set()).difference_update(maker_words(brand))
        self.fuzzy_words = frozenset(w for w in self.strong_brand_of if len(w) >= FUZZ_MIN_LEN)
        self.by_first: dict[str, list[NamePattern]] = {}
        self.by_word: dict[str, list[NamePattern]] = {}  # line and brand words → names
        for p in self.patterns:
            self.by_first.setdefault(p.designation[0], []).append(p)
            for word in {*p.line, *p.brand_words}:
                self.by_word.setdefault(word, []).append(p)
        self.line_words |= {w for words in self.line_terms.values() for w in words}
        # Marketplaces repeat titles (many sellers, every run): each is read once per process.
        self.match = lru_cache(maxsize=MATCH_CACHE)(self._match)
        # Words a 'case for …' may point at: the brands' words and the catalog's line words.
        self.device_words = frozenset(self.brand_of) | frozenset(self.line_words)

    def _match(self, title: str, brand: str | None = None) -> ModelMatch:
        """The one catalog model the title names, or None with the reason (`match`, cached)."""
        read = parse_title(title, self.compounds)
        words = [t.text for t in read.tokens]
        evidence = self._evidence(words, brand)
        fits, misses = [], []
        for k, token in enumerate(read.tokens):
            for pattern in self.by_first.get(token.text, ()):
                fit, miss = self._fit(pattern, read, k, evidence)
                if fit:
                    fits.append(fit)
                elif miss:
                    misses.append(miss)
        if not fits and not misses:
            misses = self._nearest(read, evidence)
        return _choose(fits, misses, read)

    def _nearest(self, read: ParsedTitle, evidence) -> list:
        """For a title no designation fits: the name whose line (or brand) words it has, and
        the model words the title has there instead ('phone 3 a' beside 'Phone (2a)')."""
        words = [t.text for t in read.tokens]
        present = set(words)
        candidates = {id(p): p for w in present for p in self.by_word.get(w, ())}
        best, best_score = None, 0
        for pattern in candidates.values():
            anchors = [w for w in (*pattern.line, *pattern.brand_words) if w in words]
            if pattern.line and not set(pattern.line) <= present:
                continue
            shared = len(set(pattern.designation) & present) / 2
            score = len(anchors) + (pattern.model.brand in evidence) + shared
            if anchors and score > best_score:
                anchor = pattern.line[-1] if pattern.line else anchors[-1]
                best, best_score = (pattern, anchor), score
        if best is None:
            return []
        pattern, anchor = best
        at = words.index(anchor) + 1
        said = " ".join(words[at : at + len(pattern.designation) + 1]) or "nothing more"
        why = f"the title has '{anchor} {said}' where the catalog has '{' '.join(pattern.designation)}'"
        return [(pattern, why)]

    def _evidence(self, words: list[str], brand: str | None) -> dict[str, set[str]]:
        """brand id → the title's words naming it (brand words, local script, near spellings)."""
        found: dict[str, set[str]] = {}
        for word in words:
            latin = LOCAL_BRAND_NAMES.get(word, word)
            ids = self.brand_of.get(latin) or self._near_brand(latin)
            for brand_id in ids:
                found.setdefault(brand_id, set()).add(word)
        if brand:
            found.setdefault(brand, set()).add(f"listing brand {brand}")
        return found

    def _near_brand(self, word: str) -> set[str]:
        if len(word) < FUZZ_MIN_LEN or not word.isascii() or not word.isalpha():
            return set()
        return {b for w in _near(word, self.fuzzy_words) for b in self.brand_of.get(w, ())}

    def _fit(self, pattern: NamePattern, read: ParsedTitle, k: int, evidence) -> tuple:
        tokens, size = read.tokens, len(pattern.designation)
        if tuple(t.text for t in tokens[k : k + size]) != pattern.designation:
            return None, None
        end = k + size
        why = self._around(pattern, tokens, k, end) or self._line(pattern, tokens, k)
        why = why or _attribute_conflict(pattern, read.attributes)
        own = evidence.get(pattern.model.brand)
        if not why and not own:
            others = {b for b in evidence if b != pattern.model.brand}
            strong_others = {b for b in others if self._strongly(b, evidence[b])}
            if not pattern.strong:
                why = "needs the brand in the title, and the title does not name it"
            elif strong_others:
                why = f"the title names another brand ({', '.join(sorted(strong_others))})"
        if why:
            return None, (pattern, why)
        words = {t.text for t in tokens}
        found = tuple(w for w in name_order(pattern) if w in words)
        extra = (self.line_terms.get(pattern.model.brand, set()) & words) - pattern.brand_words
        conflict = sorted(extra)[0] if extra else None
        return Fit(pattern, k, end, found, conflict), None

    def _strongly(self, brand_id: str, words: set[str]) -> bool:
        return any(
            brand_id in self.strong_brand_of.get(LOCAL_BRAND_NAMES.get(w, w), ()) for w in words
        )

    def _around(self, pattern: NamePattern, tokens: tuple[Token, ...], k: int, end: int):
        """Why the tokens around the designation name another model, or None."""
        if end < len(tokens) and not tokens[end].listed:
            after = tokens[end]
            starts_model = (
                end + 1 < len(tokens) and tokens[end + 1].glued and tokens[end + 1].is_number
            )
            single = after.is_letters and len(after.text) == 1 and not starts_model
            if after.text in self.suffixes or single:
                return (
                    f"the title goes on with '{after.text}' after '{' '.join(pattern.designation)}'"
                )
            if after.is_number and after.glued:
                return f"'{after.text}' is glued to the model number"
        if k:
            before = tokens[k - 1]
            if before.text in pattern.tokens:
                return None
            if tokens[k].glued and before.is_letters:
                return f"'{before.text}' is glued to '{tokens[k].text}' and is not in the name"
            if before.text in self.suffixes or before.text in self.line_words:
                return f"'{before.text}' right before '{tokens[k].text}' names another line"
        return None

    def _line(self, pattern: NamePattern, tokens: tuple[Token, ...], k: int):
        at = 0
        for word in pattern.line:
            while at < k and tokens[at].text != word:
                at += 1
            if at >= k:
                return f"the title lacks '{word}' before '{' '.join(pattern.designation)}'"
            at += 1
        return None


def _choose(fits: list[Fit], misses: list, read: ParsedTitle) -> ModelMatch:
    if not fits:
        return ModelMatch(None, _no_fit_reason(misses), attributes=read.attributes)
    winners: list[Fit] = []
    for group in _overlapping(fits):
        ranked = sorted(group, key=_rank, reverse=True)
        best = ranked[0]
        tied = [
            f for f in ranked if _rank(f) == _rank(best) and f.pattern.model != best.pattern.model
        ]
        if tied:
            names = " and ".join(sorted({best.pattern.model.model, tied[0].pattern.model.model}))
            reason = f"no model: {names} fit the same words equally"
            return ModelMatch(None, reason, attributes=read.attributes)
        winners.append(best)
    models = {f.pattern.model.model: f for f in winners}
    if len(models) > 1:
        reason = f"no model: the title names {len(models)} models ({', '.join(sorted(models))})"
        return ModelMatch(None, reason, attributes=read.attributes)
    best = winners[0]
    return ModelMatch(best.pattern.model, _fit_reason(best), best.found, read.attributes)


def _rank(fit: Fit) -> tuple:
    return (fit.conflict is None, len(fit.found), len(fit.pattern.designation))


def _overlapping(fits: list[Fit]) -> list[list[Fit]]:
    groups: list[list[Fit]] = []
    for fit in sorted(fits, key=lambda f: (f.start, f.end)):
        if groups and fit.start < max(f.end for f in groups[-1]):
            groups[-1].append(fit)
        else:
            groups.append([fit])
    return groups


def _fit_reason(fit: Fit) -> str:
    pattern = fit.pattern
    found = " ".join(fit.found)
    missing = [w for w in name_order(pattern) if w not in fit.found]
    reason = f"{pattern.model.model}: the title has '{found}' of '{pattern.name}'"
    if missing:
        reason += f" ('{' '.join(missing)}' optional)"
    return reason


def _no_fit_reason(misses: list) -> str:
    if not misses:
        return "no model: no catalog model number with its words is in the title"
    pattern, why = max(misses, key=lambda m: (len(m[0].designation), len(m[0].line)))
    return f"no model: {pattern.model.model} is near, but {why}"


def _attribute_conflict(pattern: NamePattern, attributes: dict[str, str]) -> str | None:
    """A catalog name that states a network or storage ('Zero 30 5G', 'X 256GB') does not fit
    a title that states another one; a title that states none still fits."""
    for key, value in pattern.attributes.items():
        stated = attributes.get(key, "").split("/")
        if key in ("network", "storage") and stated != [""] and value not in stated:
            return f"the title says {attributes[key]}, the catalog name {value}"
    return None


@lru_cache(maxsize=1 << 14)
def _near(word: str, candidates: frozenset[str]) -> tuple[str, ...]:
    return tuple(w for w in candidates if fuzz.ratio(word, w) >= BRAND_FUZZ_MIN)
