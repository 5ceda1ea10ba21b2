"""Titles and catalog names read the same way: one normal form, variant attributes taken out
and recorded (storage, RAM, network, SIM, region, colour, maker codes), and the rest cut into
tokens at letter–digit boundaries, camelCase, parentheses and '+'.

    'Reno11F 5G 8GB+256GB'  → reno·11·f   {network 5G, ram 8GB, storage 256GB}
    'Nothing Phone (2a)'    → nothing·phone·2·a
    'realme 12 Pro+'        → realme·12·pro·plus
    '华为Mate60Pro'          → 华为·mate·60·pro

A token remembers whether it was glued to the one before it ('X9b', not 'X 9 b'): a letter
glued to a model number is part of the model."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from detectors._catalog_data import (
    COLOUR_WORDS,
    CONDITION_ATTRIBUTE_PHRASES,
    MEASURE_UNITS,
    NETWORK_WORDS,
    NOISE_PATTERNS,
    RAM_WORDS,
    REGION_PHRASES,
    SIM_PHRASES,
    STORAGE_SIZES,
    STORAGE_UNITS,
)

# Lower-run of two letters before an upper letter ("MagicV2", "RedMagic"); "iPhone", "iQOO" stay.
_CAMEL = re.compile(r"(?<=[a-z][a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2})")
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
# Letters of other scripts, with their combining marks (Devanagari vowel signs): one run.
_NOT_OTHER = rf"\x00-\x7f\u00a0-\u00bf\u00d7\u00f7\u2000-\u206f\u20a0-\u20cf\u2100-\u2bff\u3000-\u303f\uff00-\uffef{_CJK}\s"
_TOKEN = re.compile(rf"(\d+)|([a-z]+)|([{_CJK}]+)|([^{_NOT_OTHER}]+)")
# '+' after a letter or digit and before none is a model's plus ('Pro+', '12+', 'razr+');
# between numbers it joins RAM and storage ('12+256'); spaced it bundles (' + case').
_PLUS_MODEL = re.compile(r"(?<=[a-z0-9)])\+(?![0-9a-z])")
_SIZE = re.compile(
    r"(?<![\w.])(\d{1,4})\s*("
    + "|".join(sorted(STORAGE_UNITS, key=len, reverse=True))
    + r")(?![a-zа-я])"
)
# '8/128', '12+256', '16 + 1TB', '8GB/256GB': RAM then storage.
# A '+' glued to the number before it and spaced from the one after is a model's ('12+ 256GB').
_PAIR = re.compile(
    r"(?<![\w.])(\d{1,2})\s*(?:gb|g)?(?:\s*/\s*|\+|\s+\+\s*)(\d{1,4})\s*(gb|g|tb|t|go)?(?![a-z\d])"
)
# Measures (5000mAh, 80W) and numbers that are no model (Android 14, 1 Year Warranty): one scan.
_NOT_MODEL = re.compile(
    r"(?<![\w.])\d+(?:[.,]\d+)?\s*(?:" + "|".join(MEASURE_UNITS) + r")(?![a-z])"
    r"|(?<![\w])(?:" + "|".join(NOISE_PATTERNS) + r")(?![\w])"
)
# Maker part numbers: 'CPH2581', 'XQ-DQ44', 'SO-51D', 'SM-S928B', 'WH-1000XM5', 'BL-49SX'.
_CODE = re.compile(
    r"(?<![\w-])(?:[a-z]{2}-[a-z]{0,2}\d{2,5}[a-z0-9]{0,3}|[a-z]{3}\d{4}[a-z]?)(?![\w-])"
)
_LIST_SEPARATORS = frozenset("/,|;&")
_DIGIT = re.compile(r"\d")


def _phrases(phrases: tuple[str, ...]) -> re.Pattern:
    """Whole words for spaced scripts; anywhere for scripts written without spaces."""
    ordered = sorted(phrases, key=len, reverse=True)
    spaced = "|".join(re.escape(p) for p in ordered if p.isascii())
    unspaced = "|".join(re.escape(p) for p in ordered if not p.isascii())
    return re.compile("|".join(filter(None, (rf"(?<![\w])(?:{spaced})(?![\w])", unspaced))))


_PHRASES = (
    ("sim", _phrases(SIM_PHRASES)),
    ("region", _phrases(REGION_PHRASES)),
    ("condition", _phrases(CONDITION_ATTRIBUTE_PHRASES)),
)
_NETWORK = re.compile(r"(?<![\w])(" + "|".join(NETWORK_WORDS) + r")(?![\w])")


class Token(NamedTuple):
    """A NamedTuple, not a dataclass: every title makes a dozen, and tuples are built in C."""

    text: str
    start: int
    glued: bool  # nothing between it and the token before ('X9b', 'Reno11')
    listed: bool = False  # a list separator before it ('A58 / A78', 'Y36, Y17s')

    @property
    def is_number(self) -> bool:
        return self.text.isdigit()

    @property
    def is_letters(self) -> bool:
        return self.text.isascii() and self.text.isalpha()


@dataclass(frozen=True)
class ParsedTitle:
    tokens: tuple[Token, ...]
    attributes: dict[str, str] = field(default_factory=dict)
    text: str = ""  # the normal form the tokens were cut from


@lru_cache(maxsize=4096)
def normal_form(text: str) -> str:
    """NFKC (full-width '（２ａ）' → '(2a)'), camelCase split, lowercase, Latin accents off
    ('Hülle' → 'hulle'); other scripts kept as written."""
    text = _CAMEL.sub(" ", unicodedata.normalize("NFKC", text or "")).lower()
    if text.isascii():
        return text
    return "".join(_latin_base(char) if not char.isascii() else char for char in text)


def _latin_base(char: str) -> str:
    if char in "đð":
        return "d"
    if char == "ß":
        return "ss"
    try:
        if not unicodedata.name(char).startswith("LATIN"):
            return char
    except ValueError:
        return char
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))


def parse_title(text: str, compounds: frozenset[str] = frozenset()) -> ParsedTitle:
    """Tokens and attributes of a title or catalog name. `compounds` are words written as one
    ('oneplus', 'redmagic') that a title may split ('One Plus', 'RedMagic' → 'Red Magic')."""
    normal = normal_form(text)
    attributes: dict[str, str] = {}
    rest = _take_attributes(normal, attributes)
    rest = _PLUS_MODEL.sub(" plus ", rest)
    tokens = _tokens(rest)
    if compounds:
        tokens = _join_compounds(tokens, compounds)
    _colours(tokens, attributes)
    return ParsedTitle(tuple(tokens), attributes, normal)


# What a taken attribute leaves: not a space, so '30 8/256 ГБ' never reads as '30 ГБ'.
_GAP = "\x00"


def _blank(text: str, match: re.Match) -> str:
    return text[: match.start()] + _GAP * (match.end() - match.start()) + text[match.end() :]


def _take_attributes(text: str, attributes: dict[str, str]) -> str:
    """Record the variant attributes and blank them out, so their numbers are no model."""
    if not _DIGIT.search(text):
        return _take_phrases(text, attributes)  # every other attribute holds a number
    for match in list(_CODE.finditer(text)):
        attributes.setdefault("code", match.group().upper())
        text = _blank(text, match)
    networks = []
    for match in list(_NETWORK.finditer(text)):
        networks.append(match.group(1).upper())
        text = _blank(text, match)
    if networks:
        attributes["network"] = "/".join(dict.fromkeys(networks))  # '5G', '4G/LTE'
    for match in list(_PAIR.finditer(text)):
        ram, size, unit = int(match.group(1)), int(match.group(2)), match.group(3) or ""
        gigabytes = size * 1024 if unit.startswith("t") or (size <= 2 and not unit) else size
        if gigabytes in STORAGE_SIZES and ram <= 24:
            attributes.setdefault("ram", f"{ram}GB")
            attributes.setdefault("storage", _storage_name(gigabytes))
            text = _blank(text, match)
    sizes = []
    for match in list(_SIZE.finditer(text)):
        number, unit = int(match.group(1)), match.group(2)
        gigabytes = number * STORAGE_UNITS[unit]
        if len(unit) == 1 and gigabytes not in STORAGE_SIZES and not (unit == "g" and number <= 24):
            continue  # 'GT 6T' is a model, '6 TB' no phone has
        after = text[match.end() : match.end() + 12].strip(" ,()")
        sizes.append((gigabytes, any(after.startswith(w) for w in RAM_WORDS)))
        text = _blank(text, match)
    _sizes(sizes, attributes)
    for match in list(_NOT_MODEL.finditer(text)):
        text = _blank(text, match)
    return _take_phrases(text, attributes)


def _take_phrases(text: str, attributes: dict[str, str]) -> str:
    for name, pattern in _PHRASES:
        for match in list(pattern.finditer(text)):
            attributes.setdefault(name, match.group())
            text = _blank(text, match)
    return text


def _sizes(sizes: list[tuple[int, bool]], attributes: dict[str, str]) -> None:
    """'12GB RAM 256GB', '(128 GB) (8 GB RAM)', '8GB 128GB': the RAM-labelled or smaller one
    is RAM, the larger storage."""
    for gigabytes, is_ram in sizes:
        if is_ram or (len(sizes) > 1 and gigabytes <= 24 and gigabytes < max(s for s, _ in sizes)):
            attributes.setdefault("ram", f"{gigabytes}GB")
    storage = [s for s, is_ram in sizes if not is_ram and s >= 16 and s in STORAGE_SIZES]
    if storage and "storage" not in attributes:
        attributes["storage"] = _storage_name(max(storage))


def _storage_name(gigabytes: int) -> str:
    return f"{gigabytes // 1024}TB" if gigabytes >= 1024 else f"{gigabytes}GB"


def _tokens(text: str) -> list[Token]:
    tokens, end = [], 0
    for match in _TOKEN.finditer(text):
        gap = text[end : match.start()]
        listed = bool(_LIST_SEPARATORS.intersection(gap))
        tokens.append(Token(match.group(), match.start(), bool(tokens) and not gap, listed))
        end = match.end()
    return tokens


def _join_compounds(tokens: list[Token], compounds: frozenset[str]) -> list[Token]:
    """'one plus' → 'oneplus' and 'red magic' → 'redmagic' when the catalog writes them as one."""
    out: list[Token] = []
    for token in tokens:
        if out and out[-1].is_letters and token.is_letters:
            joined = out[-1].text + token.text
            if joined in compounds:
                out[-1] = Token(joined, out[-1].start, out[-1].glued, out[-1].listed)
                continue
        out.append(token)
    return out


def _colours(tokens: list[Token], attributes: dict[str, str]) -> None:
    for token in tokens:
        if token.text in COLOUR_WORDS:
            attributes.setdefault("colour", token.text)
            return
