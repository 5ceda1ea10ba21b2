"""Text normalisation every detector shares: punycode, Unicode lookalikes, case, camelCase,
separators and leetspeak, each a separate step so a reason can name the one that mattered.

The confusables skeleton maps each non-ASCII character that Unicode's confusables table says looks
like one ASCII letter or digit to that character (Cyrillic 'а' → 'a', Greek 'ο' → 'o'); the table
comes from the `confusable-homoglyphs` package and is turned into a `str.translate` dict once, so
folding costs one C-level pass. Accents fall back to NFKD without combining marks ('é' → 'e')."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import accumulate
from typing import NamedTuple

import idna

from detectors._data import LEET, LEET_L

# Lower-run of two letters before an upper letter ("XiaomiWorld"), so "iPhone"/"eBay" stay whole;
# not before a capital I between lower-case letters: that is an 'l' look-alike ("AppIe").
_CAMEL = re.compile(r"(?<=[a-z][a-z])(?=[A-Z])(?!I[a-z])|(?<=[A-Z])(?=[A-HJ-Z][a-z]{2})")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_NO_CUTS: frozenset[int] = frozenset()
_LEET_TABLE = str.maketrans(LEET)
_LEET_L_TABLE = str.maketrans(LEET_L)
_LEET_CHARS = frozenset(LEET) | frozenset(LEET_L)
_LEET_CLASS = "[" + re.escape("".join(sorted(_LEET_CHARS))) + "]"
# Letter, one or two leet characters, letter; or one leet character at either end of a word.
_LEETY = re.compile(
    rf"[a-z]{_LEET_CLASS}{{1,2}}[a-z]|[a-z]{_LEET_CLASS}(?![0-9a-z])|(?<![0-9a-z]){_LEET_CLASS}[a-z]",
    re.IGNORECASE,
)


class Folded(NamedTuple):
    """Text reduced to ASCII lookalikes (case kept), with what the reduction changed.

    A NamedTuple rather than a dataclass: every input is folded, and tuples are built in C."""

    text: str
    lookalikes: tuple[tuple[str, str], ...] = ()  # (original character, ASCII it passes for)
    scripts: frozenset[str] = frozenset()  # scripts of the letters, when more than Latin


@lru_cache(maxsize=1)
def _confusables_table() -> dict[int, str]:
    """Each non-ASCII character that passes for one ASCII letter or digit → that character.

    Three sources, in order, each a published Unicode fact a reader can check:
    - the UTS #39 confusables data (confusable-homoglyphs): 'а' → 'a', 'ο' → 'o'; followed one
      step further when it only leads to another non-ASCII lookalike ('ĸ' → 'к' → 'k'), and with
      overlays dropped ('ø' is 'o' + a slash, 'ł' is 'l' + a stroke);
    - NFKD without combining marks: 'é' → 'e', 'ñ' → 'n';
    - the character's Unicode name: 'LATIN SMALL LETTER M WITH HOOK' (ɱ) is an 'm' with a hook,
      'LATIN LETTER SMALL CAPITAL K' (ᴋ) a 'k'."""
    from confusable_homoglyphs.confusables import confusables_data

    def ascii_of(target: str) -> str | None:
        bare = "".join(
            c for c in unicodedata.normalize("NFD", target) if not unicodedata.combining(c)
        )
        bare = bare.replace("\u0338", "").replace("\u0335", "").replace("\u0336", "")
        if len(bare) == 1 and bare.isascii() and bare.isalnum():
            return bare
        return _by_name(bare) if len(bare) == 1 else None

    def resolve(char: str) -> str | None:
        """Breadth-first through the confusables graph, two steps at most."""
        frontier, seen = [char], {char}
        for _ in range(3):
            found = (
                [a for c in frontier for a in (ascii_of(c),) if a and c != char] if frontier else []
            )
            same_case = [a for a in found if a.isupper() == char.isupper() and a.isalpha()]
            found = same_case or [a for a in found if a.isalpha()] or found
            if found:
                return found[0]
            frontier = [
                h["c"] for c in frontier for h in confusables_data.get(c, ()) if h["c"] not in seen
            ]
            seen.update(frontier)
        return None

    table: dict[int, str] = {}
    for char in confusables_data:
        if len(char) != 1 or char.isascii():
            continue
        target = resolve(char)
        if target:
            table[ord(char)] = target
    return table


# 'LATIN SMALL LETTER M WITH HOOK', 'LATIN LETTER SMALL CAPITAL K', 'LATIN SMALL LETTER L WITH
# MIDDLE TILDE': a Latin letter with a mark is read as the letter.
_LETTER_NAME = re.compile(
    r"^LATIN (?:SMALL |CAPITAL )?LETTER (?:SMALL CAPITAL |DOTLESS )?([A-Z])(?: WITH .*| BAR)?$"
)


def _by_name(char: str) -> str | None:
    match = _LETTER_NAME.match(unicodedata.name(char, ""))
    return match.group(1).lower() if match else None


def _script(char: str) -> str:
    try:
        name = unicodedata.name(char)
    except ValueError:
        return "UNKNOWN"
    return name.split(" ", 1)[0]


def fold(text: str) -> Folded:
    """Map Unicode lookalikes and accented letters to ASCII; record which characters moved."""
    if text.isascii():
        return Folded(text)
    table = _confusables_table()
    out, moved = [], []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        ascii_char = table.get(ord(char))
        if ascii_char is None:
            stripped = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            ascii_char = stripped if stripped.isascii() and stripped else _by_name(char)
        if ascii_char is None:
            out.append(char)
            continue
        out.append(ascii_char)
        if ascii_char.isalnum():
            moved.append((char, ascii_char))
    scripts = frozenset(_script(c) for c in text if c.isalpha())
    return Folded("".join(out), tuple(moved), scripts if len(scripts) > 1 else frozenset())


def lookalike_phrase(original: str, shown: Folded) -> str:
    """How the look-alikes read, for a reason: "is written in CYRILLIC letters that look like
    'xiaomi' ('х' for 'x', 'і' for 'i')" or "using look-alike characters from GREEK (…); mixes
    scripts GREEK, LATIN"."""
    swaps = ", ".join(f"'{orig}' for '{ascii_}'" for orig, ascii_ in shown.lookalikes[:4])
    sources = sorted({_script(orig) for orig, _ in shown.lookalikes})
    letters = {_script(c) for c in original if c.isalpha()}
    if len(letters) == 1 and letters == set(sources) and sources != ["LATIN"]:
        return f"is written in {sources[0]} letters that look like '{shown.text.lower()}' ({swaps})"
    mixed = f"; mixes scripts {', '.join(sorted(shown.scripts))}" if shown.scripts else ""
    return (
        f"displays as '{shown.text.lower()}' using look-alike characters from "
        f"{' and '.join(sources)} ({swaps}){mixed}"
    )


def split_camel(text: str) -> str:
    """'XiaomiWorld' → 'Xiaomi World'; 'iPhone' and 'eBay' are left alone."""
    return _CAMEL.sub(" ", text)


def compact(text: str) -> tuple[str, frozenset[int]]:
    """Lowercase alphanumerics run together, and the positions where separators stood.

    'Xiao-Mi Store' → ('xiaomistore', {4, 6}); a brand term spanning a boundary was split."""
    lowered = text.lower()
    if lowered.isascii():
        if lowered.isalnum():
            return lowered, _NO_CUTS  # one word, the usual domain label: nothing to split
        joined = lowered.replace("-", "")
        if joined.isalnum():  # words and hyphens only, the other usual label
            pieces = [p for p in lowered.split("-") if p]
            return joined, frozenset(accumulate(map(len, pieces[:-1])))
    pieces = [p for p in _NON_ALNUM.split(lowered) if p]
    # a cut stands where each piece but the last ends
    return "".join(pieces), frozenset(accumulate(map(len, pieces[:-1])))


def has_leet(text: str) -> bool:
    """A leet character touching letters ('xiaom1', 's4msung', '@pple'), not a number ('shop24')."""
    if _LEET_CHARS.isdisjoint(text):
        return False  # most text: no leet character at all, no pattern to run
    return _LEETY.search(text) is not None


def has_leet_l(text: str) -> bool:
    """Whether reading '1' as 'l' could differ from reading it as 'i'."""
    return "1" in text or "|" in text or "!" in text


def deleet(text: str, read_one_as_l: bool = False) -> str:
    """Read digits and symbols as the letters they imitate ('xiaom1' → 'xiaomi')."""
    return text.translate(_LEET_L_TABLE if read_one_as_l else _LEET_TABLE)


def decode_label(label: str) -> str:
    """A punycode label ('xn--...') as the Unicode it displays; anything else unchanged."""
    if not label.startswith("xn--"):
        return label
    try:
        return idna.decode(label)
    except (idna.IDNAError, UnicodeError, ValueError):
        pass
    try:
        return label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        return label


_NON_ALNUM_ANY_CASE = re.compile(r"[^0-9a-zA-Z]+")
# Leet letters are written upper-case so the positions leetspeak changed can be found again.
_LEET_MARK = str.maketrans({k: v.upper() for k, v in LEET.items()})
_LEET_L_MARK = str.maketrans({k: v.upper() for k, v in LEET_L.items()})


def leet_compact(text: str, read_one_as_l: bool) -> tuple[str, frozenset[int], frozenset[int]]:
    """The compact leetspeak reading of `text`, and the positions leetspeak changed."""
    marked = text.lower().translate(_LEET_L_MARK if read_one_as_l else _LEET_MARK)
    c, cuts = compact_marked(marked)
    changed = frozenset(i for i, ch in enumerate(c) if ch.isupper())
    return c.lower(), cuts, changed


def compact_marked(text: str) -> tuple[str, frozenset[int]]:
    """Like compact, but keeps upper case (the leetspeak marks)."""
    joined, cuts, position = [], set(), 0
    for piece in _NON_ALNUM_ANY_CASE.split(text):
        if not piece:
            continue
        if position:
            cuts.add(position)
        joined.append(piece)
        position += len(piece)
    return "".join(joined), frozenset(cuts)
