"""Typo generators for brand terms, one small function per technique (the dnstwist fuzzers, at
their natural size). Each yields the variants its technique makes; `typo_variants` collects them
once per term into a dict so matching a domain is a lookup, not a search.

A variant made by several techniques keeps the first, most specific one in TECHNIQUES order."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from detectors._data import (
    ASCII_LOOKALIKES,
    COMMON_WORDS,
    KEYBOARD_NEIGHBOURS,
    KEYBOARD_ROWS,
    VOWELS,
)

# Characters a hostname label can hold; bit flips to anything else cannot be registered.
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def repetition(term: str) -> Iterator[str]:
    """'xiaomii': one letter typed twice."""
    for i, char in enumerate(term):
        if char.isalpha():
            yield term[: i + 1] + char + term[i + 1 :]


def transposition(term: str) -> Iterator[str]:
    """'xioami': two neighbouring letters swapped."""
    for i in range(len(term) - 1):
        if term[i] != term[i + 1]:
            yield term[:i] + term[i + 1] + term[i] + term[i + 2 :]


def lookalike(term: str) -> Iterator[str]:
    """'xiaorni': ASCII sequences that render alike ('rn' for 'm', 'vv' for 'w')."""
    for original, imitation in ASCII_LOOKALIKES:
        start = term.find(original)
        while start != -1:
            yield term[:start] + imitation + term[start + len(original) :]
            start = term.find(original, start + 1)


def vowel_swap(term: str) -> Iterator[str]:
    """'sumsung': one vowel replaced by another."""
    for i, char in enumerate(term):
        if char in VOWELS:
            for vowel in VOWELS:
                if vowel != char:
                    yield term[:i] + vowel + term[i + 1 :]


def omission(term: str) -> Iterator[str]:
    """'samsng': one letter left out ('iphone' → 'phone' is left out later: a real word)."""
    for i in range(len(term)):
        yield term[:i] + term[i + 1 :]


def _neighbours() -> dict[str, str]:
    """Keys next to each key on QWERTY, QWERTZ and AZERTY (rows offset by half a key)."""
    found = {k: set(v) for k, v in KEYBOARD_NEIGHBOURS.items()}
    for rows in KEYBOARD_ROWS:
        for r, row in enumerate(rows):
            for c, key in enumerate(row):
                near = {row[c - 1] if c else "", row[c + 1 : c + 2]}
                if r:
                    near |= set(rows[r - 1][c : c + 2])
                if r + 1 < len(rows):
                    near |= set(rows[r + 1][max(0, c - 1) : c + 1])
                found.setdefault(key, set()).update(n for n in near if n)
    return {k: "".join(sorted(v - {k})) for k, v in found.items()}


_NEIGHBOURS = _neighbours()


def keyboard_replacement(term: str) -> Iterator[str]:
    """'samsunf': one key replaced by its keyboard neighbour."""
    for i, char in enumerate(term):
        for neighbour in _NEIGHBOURS.get(char, ""):
            yield term[:i] + neighbour + term[i + 1 :]


def keyboard_insertion(term: str) -> Iterator[str]:
    """'samsuhng': a neighbouring key pressed along with the intended one."""
    for i, char in enumerate(term):
        for neighbour in _NEIGHBOURS.get(char, ""):
            yield term[:i] + neighbour + term[i:]
            yield term[: i + 1] + neighbour + term[i + 1 :]


def insertion(term: str) -> Iterator[str]:
    """'appsle': any letter slipped in (a stray key, or a plural 's' in the wrong place)."""
    for i in range(1, len(term)):
        for code in range(ord("a"), ord("z") + 1):
            yield term[:i] + chr(code) + term[i:]


def bit_flip(term: str) -> Iterator[str]:
    """'samsuog': one bit of one character flipped (memory or transmission errors)."""
    for i, char in enumerate(term):
        for bit in range(8):
            flipped = chr(ord(char) ^ (1 << bit))
            if flipped in _HOST_CHARS and flipped != char.lower():
                yield term[:i] + flipped + term[i + 1 :]


def addition(term: str) -> Iterator[str]:
    """'samsungs': one letter appended."""
    for code in range(ord("a"), ord("z") + 1):
        yield term + chr(code)


TECHNIQUES: tuple[tuple[str, Callable[[str], Iterator[str]]], ...] = (
    ("repetition", repetition),
    ("transposition", transposition),
    ("lookalike letters", lookalike),
    ("vowel swap", vowel_swap),
    ("omission", omission),
    ("keyboard slip", keyboard_replacement),
    ("keyboard insertion", keyboard_insertion),
    ("bit flip", bit_flip),
    ("insertion", insertion),
    ("addition", addition),
)


def typo_variants(
    term: str, reserved: frozenset[str] = frozenset(), skip: tuple[str, ...] = ()
) -> dict[str, str]:
    """Every variant of `term` one technique away → the technique's name.

    Variants that are real words (COMMON_WORDS) or reserved (other terms, vocabulary) are left
    out: they would flag innocent text. `skip` names techniques too loose for this term."""
    variants: dict[str, str] = {}
    for name, technique in TECHNIQUES:
        if name in skip:
            continue
        for variant in technique(term):
            if variant == term or variant in reserved or variant in COMMON_WORDS:
                continue
            variants.setdefault(variant, name)
    return variants


# How each technique changed the term, as the reason puts it.
_HOW = {
    "repetition": "with a letter repeated",
    "transposition": "with two letters swapped",
    "lookalike letters": "with letters that render alike",
    "vowel swap": "with a vowel swapped",
    "omission": "with a letter left out",
    "keyboard slip": "with a key replaced by its keyboard neighbour",
    "keyboard insertion": "with a neighbouring key inserted",
    "insertion": "with a letter inserted",
    "bit flip": "with one character bit-flipped",
    "addition": "with a letter appended",
    "near spelling": "within two edits",
}


def describe(technique: str, term: str, variant: str) -> str:
    """A sentence naming the technique: "'xiaomii' is 'xiaomi' with a letter repeated"."""
    how = _HOW.get(technique) or f"by {technique}"
    return f"'{variant}' is '{term}' {how} ({technique})"
