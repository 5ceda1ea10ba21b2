"""Literal phrases found in text whatever its case, fast: the gray-import wording of a listing,
the condition words of a title.

Python's `re` tries every phrase of a case-blind (`IGNORECASE`) alternation at every position
of the text, several times slower than the same alternation matched as written. On ASCII text
(nearly every title and description) case-blind matching is exactly matching the lowered text
against the lowered phrases: an ASCII character is case-blind equal to a phrase's character
only if their lower cases are equal, and lowering keeps every offset and every word boundary.
So ASCII text is lowered and searched without `IGNORECASE`; any other text is searched as
before. The phrases' own characters must not fold onto ASCII letters from outside ASCII (the
Kelvin sign, the long s): such a phrase keeps the case-blind search for every text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator


class Phrases:
    """`template` holds `{}` where the alternation of the escaped phrases goes, inside the
    pattern's first group: `r"(?<![\\w])({})(?![\\w])"`. Matches are (start, end) spans of that
    group in the text as given, so the caller slices the phrase in its own case."""

    def __init__(self, template: str, phrases: Iterable[str]):
        phrases = list(phrases)
        self.blind = re.compile(
            template.format("|".join(re.escape(p) for p in phrases)), re.IGNORECASE
        )
        lowered = "|".join(re.escape(p.lower()) for p in phrases)
        exact = all(c.isascii() or not c.casefold().isascii() for p in phrases for c in p)
        self.lowered = re.compile(template.format(lowered)) if exact else None

    def _pattern(self, text: str) -> tuple[re.Pattern, str]:
        if self.lowered is not None and text.isascii():
            return self.lowered, text.lower()
        return self.blind, text

    def search(self, text: str) -> tuple[int, int] | None:
        """The span of the first phrase found (leftmost; the first listed at a tie)."""
        pattern, searched = self._pattern(text)
        match = pattern.search(searched)
        return match.span(1) if match else None

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """The spans of every phrase found, left to right, not overlapping."""
        pattern, searched = self._pattern(text)
        for match in pattern.finditer(searched):
            yield match.span(1)
