"""Brand terms that are also everyday words: the config check warns about them (it does not
fail), because a strong term counts wherever it stands and an everyday word stands in other
people's names and domains ('galaxy' in galaxy.com, usegalaxy.org, galaxyzoo.org).

A brand name is frequent in text too ('samsung', 'nike'), so frequency alone cannot tell. What
tells is that an everyday word is inflected like one: its plural is common in the same language
('galaxy'/'galaxies', 'apple'/'apples', Spanish 'poco'/'pocos'), while people rarely pluralise a
brand ('samsungs', 'xiaomis'). Frequencies are wordfreq's shipped lists (offline). Terms in other
scripts are not checked: their plurals are not made this way."""

from __future__ import annotations

from functools import cache

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
def _table(lang: str) -> dict[str, float]:
    import wordfreq

    return wordfreq.get_frequency_dict(lang, wordlist="small")


def _zipf(frequency: float) -> float:
    import wordfreq

    return wordfreq.freq_to_zipf(frequency) if frequency else 0.0


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
        table = _table(lang)
        singular = _zipf(table.get(word, 0.0))
        if singular < WORD_ZIPF:
            continue
        for plural in sorted(_plurals(word)):
            zipf = _zipf(table.get(plural, 0.0))
            if zipf >= PLURAL_ZIPF:
                return f"{name}: '{word}' (zipf {singular:.1f}) and '{plural}' ({zipf:.1f})"
    return None
