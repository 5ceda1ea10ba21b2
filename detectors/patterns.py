"""Catalog names as patterns: each name's tokens (read like a title, detectors/titles.py) split
into brand words (optional; the brand's evidence), line words (required, in order, before the
number) and the designation (the number and what is glued to or follows it, contiguous)."""

from __future__ import annotations

from dataclasses import dataclass, field

from detectors._catalog_data import GENERIC_LINE_WORDS
from detectors.titles import Token, parse_title
from grayhound.config import Brand, CatalogModel


@dataclass(frozen=True)
class NamePattern:
    model: CatalogModel
    name: str
    brand_words: frozenset[str]  # optional: the brand's own words in this name
    line: tuple[str, ...]  # required, in order, before the designation
    designation: tuple[str, ...]  # required, contiguous
    strong: bool  # a line word of its own: stands without the brand
    order: tuple[str, ...] = ()  # every token of the name, as written
    attributes: dict[str, str] = field(default_factory=dict)  # stated by the name ('5G')

    @property
    def tokens(self) -> frozenset[str]:
        return self.brand_words | frozenset(self.line) | frozenset(self.designation)


def name_patterns(
    model: CatalogModel, own: set[str], compounds: frozenset[str]
) -> list[NamePattern]:
    """One pattern per name of the model (its name and aliases); `own`: its brand's words."""
    out = []
    for name in (model.model, *model.aliases):
        read = parse_title(name, compounds)
        words = [t.text for t in read.tokens]
        brand_words = frozenset(w for w in words if w in own)
        core = [t for t in read.tokens if t.text not in own]
        if not core:
            continue
        line, designation = _split_core(core)
        strong = any(len(w) > 1 and w not in GENERIC_LINE_WORDS for w in line)
        out.append(
            NamePattern(
                model,
                name,
                brand_words,
                line,
                designation,
                strong,
                tuple(words),
                read.attributes,
            )
        )
    return out


def _split_core(core: list[Token]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """('edge',) + ('40', 'neo'); a single letter before the number joins the designation."""
    first = next((i for i, t in enumerate(core) if t.is_number), None)
    if first is None:
        return tuple(t.text for t in core[:-1]), (core[-1].text,)
    if first and core[first - 1].is_letters and len(core[first - 1].text) == 1:
        first -= 1
    return tuple(t.text for t in core[:first]), tuple(t.text for t in core[first:])


def name_order(pattern: NamePattern) -> list[str]:
    return [w for w in pattern.order if w in pattern.tokens] or list(pattern.designation)


def brand_texts(brand: Brand):
    yield brand.id, True
    yield brand.name, True
    for term in brand.terms:
        yield term, True
    for term in brand.weak_terms:
        yield term, False


def maker_words(brand: Brand) -> set[str]:
    return {t.text for text in (brand.id, brand.name) for t in parse_title(text).tokens}


def all_names(models: tuple[CatalogModel, ...], brands: dict[str, Brand]):
    for model in models:
        yield model.model
        yield from model.aliases
    for brand in brands.values():
        yield brand.name
        yield from brand.terms


def letter_words(text: str) -> list[str]:
    return [w for w in "".join(c if c.isalpha() else " " for c in text.lower()).split()]
