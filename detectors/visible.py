"""What a person sees: text with invisible characters dropped, compatibility forms folded and
explicit bidi overrides applied, so a name or domain is judged as it displays, not as it is stored.

- Invisible: every format character (Unicode category Cf: zero-width space/joiners, soft hyphen,
  byte-order mark, word joiner, invisible operators, bidi marks, the Mongolian vowel separator)
  and the other default-ignorable code points (combining grapheme joiner, variation selectors,
  Hangul fillers) are dropped; fillers that render as a blank become a space. Inside an emoji or
  a Devanagari conjunct a zero-width joiner changes a glyph, never which letters a reader sees.
- Compatibility forms: NFKC (fullwidth 'Ｘｉａｏｍｉ', mathematical bold '𝐗𝐢𝐚𝐨𝐦𝐢', ligatures).
- Bidi: RIGHT-TO-LEFT OVERRIDE (U+202E) displays the text it covers backwards, so
  '\u202eerotS imoaiX\u202c' reads 'Xiaomi Store' on screen. Only explicit overrides are applied
  (rules X1-X10 and L2 of UAX #9 for forced directions): right-to-left letters outside an
  override keep their logical order, the order the brand's local names are written in, so
  Arabic and Hebrew text is matched as typed. Embeddings, isolates and marks change nothing a
  reader sees in the Latin letters and are simply dropped.

`visible(text)` returns the displayed text and what it had to do, so a reason can say it."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import NamedTuple

# Right-to-left and left-to-right overrides, and the pop that ends either.
RLO, LRO, PDF = "\u202e", "\u202d", "\u202c"
# Default-ignorable code points outside category Cf (DerivedCoreProperties.txt).
_IGNORABLE_EXTRA = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
)
# Fillers a renderer draws as a blank: a word boundary, not nothing.
_BLANK_FILLERS = frozenset("\u3164\u115f\u1160\uffa0")
# Inside these sequences a joiner is part of the spelling (emoji families, Indic conjuncts).
_MAX_DEPTH = 125  # UAX #9's limit on nested embeddings


class Visible(NamedTuple):
    text: str
    dropped: tuple[str, ...] = ()  # names of the invisible characters removed, in order
    reordered: bool = False  # an override made the display order differ from the stored one


def _invisible(char: str) -> bool:
    return char in _IGNORABLE_EXTRA or unicodedata.category(char) == "Cf"


@lru_cache(maxsize=1)
def _invisible_table() -> dict[int, str | None]:
    """str.translate table: every invisible code point → deleted, blank fillers → a space."""
    planes = (*range(0x20000), *range(0xE0000, 0xE1000))  # where format characters live
    table: dict[int, str | None] = {code: None for code in planes if _invisible(chr(code))}
    table.update({ord(c): " " for c in _BLANK_FILLERS})
    return table


@lru_cache(maxsize=1 << 14)
def visible(text: str) -> Visible:
    """The text as displayed: invisibles dropped, NFKC, explicit overrides applied."""
    if text.isascii() and text.isprintable():
        return Visible(text)
    table = _invisible_table()
    reordered = RLO in text or LRO in text
    shown = _apply_overrides(text) if reordered else text
    out = unicodedata.normalize("NFKC", shown.translate(table))
    dropped = ()
    if len(shown.translate(table)) != len(shown) or reordered:
        dropped = tuple(dict.fromkeys(_name(c) for c in shown if table.get(ord(c), c) is None))
    if reordered:
        logical = unicodedata.normalize("NFKC", text.translate(table))
        return Visible(out, dropped, out != logical)
    return Visible(out, dropped)


def _name(char: str) -> str:
    return unicodedata.name(char, f"U+{ord(char):04X}")


def _apply_overrides(text: str) -> str:
    """Display order under RLO/LRO...PDF: a forced right-to-left run is shown reversed.

    Levels follow UAX #9 X2-X5 (next odd level for RLO, next even for LRO); characters outside
    any override keep the paragraph's level 0 here, so only overridden runs move (rule L2)."""
    levels: list[int] = []
    chars: list[str] = []
    stack = [0]
    for char in text:
        if char in (RLO, LRO) and len(stack) < _MAX_DEPTH:
            top = stack[-1]
            stack.append(top + 1 if (char == RLO) != (top % 2 == 1) else top + 2)
        elif char == PDF and len(stack) > 1:
            stack.pop()
        elif char == "\n":
            stack = [0]
        chars.append(char)
        levels.append(stack[-1])
    highest = max(levels, default=0)
    lowest_odd = min((lv for lv in levels if lv % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(chars):
            if levels[i] >= level:
                j = i
                while j < len(chars) and levels[j] >= level:
                    j += 1
                chars[i:j] = chars[i:j][::-1]
                levels[i:j] = levels[i:j][::-1]
                i = j
            else:
                i += 1
    return "".join(chars)


def displayed_as(text: str, seen: Visible, signal):
    """A zero-weight companion to the strongest signal saying how the input displays, when it
    had invisible or reordering characters: the analyst sees why the stored text was read so."""
    if not seen.dropped and not seen.reordered:
        return []
    how = (
        "right-to-left override reverses the stored text"
        if seen.reordered
        else ("invisible characters dropped: " + ", ".join(seen.dropped[:3]))
    )
    reason = f"{text!r} displays as '{seen.text}' ({how})"
    return [signal._replace(weight=0.0, reason=reason, flag=None)]
