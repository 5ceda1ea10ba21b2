"""How common a word is in ordinary language, so a near miss of a brand ('nkie', 'lgeo') can be
told from a real word one letter away ('nice', 'logo', 'lago'), without a length cut-off.

The frequencies are wordfreq's (https://github.com/rspeer/wordfreq), read from the word lists the
package ships (no network): its 'small' lists hold every word used at least once per million
words. A word counts as common:
- in English, the lingua franca of domain names and shop names, from COMMON_ZIPF;
- in the language of the domain's country (.nl → Dutch, .de → German …), from COMMON_ZIPF;
- in any other listed language from OTHER_LANGUAGE_ZIPF, a stricter bar: forty languages share
  many short strings, and a Dutch first name should not shield a typo on .com.
A brand term's own plural ('legos', 'iphones') is never another word: corpora count it because
of the brand."""

from __future__ import annotations

from functools import cache, lru_cache

from detectors._world_data import TLD_LANGUAGES, WORD_LANGUAGES
from grayhound.config import frequencies

# Zipf 3 = once per million words: 'nice' 5.4, 'logo' 4.3, 'nile' 3.6; 'nkie' and 'lgeo' 0.
COMMON_ZIPF = 3.0
# Zipf 3.5 ≈ three times per million: 'niko' 4.2 (Finnish name) stays a word, 'niek' 3.3 does not.
OTHER_LANGUAGE_ZIPF = 3.5
# Shorter strings are mostly abbreviations in some language: they prove nothing either way.
MIN_WORD_LEN = 3


@cache
def _common_words(lang: str, zipf: float) -> frozenset[str]:
    """Words of `lang` at or above `zipf`, as wordfreq lists them (lowercase)."""
    floor = 10 ** (zipf - 9)  # zipf is log10 of frequency per billion words
    table = frequencies(lang)
    return frozenset(w for w, f in table.items() if f >= floor and len(w) >= MIN_WORD_LEN)


@lru_cache(maxsize=1)
def _any_language() -> frozenset[str]:
    words: set[str] = set(_common_words("en", COMMON_ZIPF))
    for lang in WORD_LANGUAGES:
        words |= _common_words(lang, OTHER_LANGUAGE_ZIPF)
    return frozenset(words)


def common_word(word: str, suffix: str = "", any_language: bool = True) -> str | None:
    """The language in which `word` is an ordinary word ('English', 'Dutch (.nl)'), or None.

    `suffix` is a domain's public suffix: its country's languages count from COMMON_ZIPF.
    `any_language=False` asks about English and the domain's own languages only: 'appel' (Dutch
    for apple) beside 'store' on a .com is a typo, alone on a .nl the Dutch word."""
    if len(word) < MIN_WORD_LEN:
        return None
    country = suffix.rsplit(".", 1)[-1]
    for lang in TLD_LANGUAGES.get(country, ()):
        if word in _common_words(lang, COMMON_ZIPF):
            return f"{WORD_LANGUAGES.get(lang, lang)} (.{country})"
    if word in _common_words("en", COMMON_ZIPF):
        return "English"
    if not any_language or word not in _any_language():
        return None
    for lang, name in WORD_LANGUAGES.items():
        if word in _common_words(lang, OTHER_LANGUAGE_ZIPF):
            return name
    return None


def everyday_word(term: str) -> str | None:
    """The language in which a brand term is also an everyday word ('galaxy', '小米'), or None.

    For the config check: any language wordfreq knows, from COMMON_ZIPF."""
    floor = 10 ** (COMMON_ZIPF - 9)
    for lang in ("en", *WORD_LANGUAGES, *_SCRIPT_LANGUAGES):
        try:
            table = frequencies(lang)
        except LookupError:
            continue
        if table.get(term.lower(), 0.0) >= floor:
            return WORD_LANGUAGES.get(lang) or _SCRIPT_LANGUAGES.get(lang) or "English"
    return None


# Languages written in other scripts, for local brand names in `terms`.
_SCRIPT_LANGUAGES = {
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "ru": "Russian",
    "uk": "Ukrainian",
    "ar": "Arabic",
    "fa": "Persian",
    "he": "Hebrew",
    "el": "Greek",
    "hi": "Hindi",
    "bg": "Bulgarian",
}


@lru_cache(maxsize=1 << 12)
def phrase_language(words: tuple[str, ...]) -> str | None:
    """The language other than English in which every word is ordinary, when one of them is not
    English: 'mi tienda online' is Spanish ('my shop'), 'mi store' is not a phrase of any."""
    words = tuple(w for w in words if len(w) >= 2)
    english = _everyday("en")
    foreign = [w for w in words if w not in english]
    if not foreign:
        return None
    for lang, name in WORD_LANGUAGES.items():
        table = _everyday(lang)
        if all(w in table for w in foreign) and all(w in table for w in words):
            return name
    return None


@cache
def _everyday(lang: str) -> frozenset[str]:
    """Every word of `lang` from COMMON_ZIPF, short ones ('mi', 'my') included."""
    floor = 10 ** (COMMON_ZIPF - 9)
    table = frequencies(lang)
    return frozenset(w for w, f in table.items() if f >= floor)
