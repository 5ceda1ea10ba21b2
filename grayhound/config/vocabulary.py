"""Brand terms that are also everyday words: the config check warns about them (it does not
fail), because a strong term counts wherever it stands and an everyday word stands in other
people's names and domains ('galaxy' in galaxy.com, usegalaxy.org, galaxyzoo.org).

A brand name is frequent in text too ('samsung', 'nike'), so frequency alone cannot tell. What
tells is that an everyday word is inflected like one: its plural is common in the same language
('galaxy'/'galaxies', 'apple'/'apples', Spanish 'poco'/'pocos'), while people rarely pluralise a
brand ('samsungs', 'xiaomis'). Frequencies are wordfreq's shipped lists (offline). Terms in other
scripts are not checked: their plurals are not made this way."""

from __future__ import annotations

import gzip
import importlib.util
import math
import zlib
from functools import cache
from pathlib import Path

# Languages whose plurals are made by a suffix: the ones checked.
LANGUAGES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}
WORD_ZIPF = 3.0  # the term itself: at least once per million words
PLURAL_ZIPF = 3.5  # its plural: about three times per million ('galaxies' 3.55, 'legos' 2.76)


@cache
def frequencies(lang: str) -> dict[str, float]:
    """`wordfreq.get_frequency_dict(lang, wordlist="small")`: each word of the language's
    shipped 'small' list and its frequency, the same dict.

    Read from the list file itself when wordfreq ships one for exactly `lang`: importing
    wordfreq (langcodes and ftfy with it) costs ~0.3–0.5 s, more than all the lists a
    detection reads. The file is wordfreq's documented "cBpack" (`wordfreq.read_cBpack`): a
    gzipped msgpack list, a header {'format': 'cB', 'version': 1}, then one list of words per
    centibel of frequency (the list at index i: frequency 10 ** (-i / 100)). Any other header,
    a file that does not read, or a language without its own file (wordfreq would pick the
    nearest one) goes through wordfreq as before. tests/grayhound/test_vocabulary.py compares
    the two for every language grayhound reads."""
    path = _small_list(lang)
    if path is not None:
        packed = _read_cbpack(path)
        if packed is not None:
            return {
                word: 10 ** (-index / 100) for index, words in enumerate(packed) for word in words
            }
    import wordfreq

    return wordfreq.get_frequency_dict(lang, wordlist="small")


def _small_list(lang: str) -> Path | None:
    data = _wordfreq_data()
    path = None if data is None else data / f"small_{lang}.msgpack.gz"
    return path if path is not None and path.is_file() else None


@cache
def _wordfreq_data() -> Path | None:
    """wordfreq's data folder, found without importing wordfreq (once per process)."""
    spec = importlib.util.find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0], "data")


def _read_cbpack(path: Path) -> list[list[str]] | None:
    import msgpack

    try:
        with gzip.open(path, "rb") as infile:
            data = msgpack.load(infile, raw=False)
    except (OSError, ValueError, EOFError, zlib.error, msgpack.UnpackException):
        return None
    header = data[0] if isinstance(data, list) and data else None
    if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
        return None
    return data[1:]


def _zipf(frequency: float) -> float:
    """`wordfreq.freq_to_zipf`: log10 of the frequency per billion words."""
    return math.log(frequency, 10) + 9 if frequency else 0.0


def _plurals(word: str) -> set[str]:
    forms = {word + "s", word + "es"}
    if word.endswith("y"):
        forms.add(word[:-1] + "ies")
    return forms - {word}


def everyday_word(term: str) -> str | None:
    """ "English: 'galaxy' (zipf 4.3) and 'galaxies' (3.6)" when `term` is an everyday word."""
    word = term.lower()
    if not (word.isascii() and word.isalpha() and len(word) >= 3):
        return None
    for lang, name in LANGUAGES.items():
        table = frequencies(lang)
        singular = _zipf(table.get(word, 0.0))
        if singular < WORD_ZIPF:
            continue
        for plural in sorted(_plurals(word)):
            zipf = _zipf(table.get(plural, 0.0))
            if zipf >= PLURAL_ZIPF:
                return f"{name}: '{word}' (zipf {singular:.1f}) and '{plural}' ({zipf:.1f})"
    return None
