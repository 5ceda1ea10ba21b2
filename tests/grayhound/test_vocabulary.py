"""The word lists the config check and the detectors read (`grayhound.config.frequencies`) are
wordfreq's own, read from the files wordfreq ships without importing wordfreq: the same dict as
`wordfreq.get_frequency_dict(lang, wordlist="small")` for every language grayhound reads; a
file that does not read, or a language wordfreq has no list of its own for, goes through
wordfreq; and judging names, domains and titles no longer imports wordfreq (langcodes, ftfy)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import msgpack
import pytest
import wordfreq

from detectors._world_data import TLD_LANGUAGES, WORD_LANGUAGES
from detectors.words import _SCRIPT_LANGUAGES
from grayhound.config import frequencies, vocabulary

READ = sorted(
    {"en", *WORD_LANGUAGES, *_SCRIPT_LANGUAGES, *vocabulary.LANGUAGES}
    | {lang for langs in TLD_LANGUAGES.values() for lang in langs}
)


@pytest.mark.parametrize("lang", READ)
def test_each_list_is_wordfreqs_own(lang):
    assert vocabulary._small_list(lang) is not None  # read from the file, not through wordfreq
    ours = frequencies(lang)
    theirs = wordfreq.get_frequency_dict(lang, wordlist="small")
    assert len(ours) > 1000
    assert ours == theirs  # every word, every frequency to the last bit
    assert list(ours) == list(theirs)


def test_the_everyday_word_check_reads_the_same_zipf_as_wordfreq():
    assert vocabulary.everyday_word("galaxy") == (
        f"English: 'galaxy' (zipf {wordfreq.zipf_frequency('galaxy', 'en', wordlist='small'):.1f})"
        f" and 'galaxies' ({wordfreq.zipf_frequency('galaxies', 'en', wordlist='small'):.1f})"
    )
    assert vocabulary.everyday_word("xiaomi") is None


def test_a_list_that_does_not_read_goes_through_wordfreq(tmp_path, monkeypatch):
    broken = tmp_path / "small_en.msgpack.gz"
    broken.write_bytes(b"not gzip")
    other = tmp_path / "other.msgpack.gz"  # a readable file of another format
    with gzip.open(other, "wb") as out:
        out.write(msgpack.packb([{"format": "cB", "version": 2}, ["the"]]))
    expected = wordfreq.get_frequency_dict("en", wordlist="small")
    for path in (broken, other):
        frequencies.cache_clear()
        monkeypatch.setattr(vocabulary, "_small_list", lambda lang, path=path: path)
        assert frequencies("en") == expected
    frequencies.cache_clear()


def test_a_language_without_a_list_of_its_own_is_wordfreqs_answer():
    assert vocabulary._small_list("xx") is None
    with pytest.raises(LookupError):
        frequencies("xx")
    assert vocabulary._small_list("pt-BR") is None  # wordfreq picks Portuguese
    assert frequencies("pt-BR") == wordfreq.get_frequency_dict("pt-BR", wordlist="small")


def test_judging_reads_the_lists_without_importing_wordfreq():
    script = """
import json, sys
from detectors.words import common_word, everyday_word, phrase_language
from grayhound.config.vocabulary import everyday_word as config_everyday_word
found = [common_word("logo"), common_word("appel", "nl"), phrase_language(("mi", "tienda")),
         everyday_word("galaxy"), config_everyday_word("galaxy")]
print(json.dumps([found, sorted(m for m in sys.modules if m.split(".")[0] in
      ("wordfreq", "langcodes", "ftfy"))]))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    found, imported = json.loads(done.stdout)
    assert found == ["English", "Dutch (.nl)", "Spanish", "English", found[4]]
    assert found[4].startswith("English: 'galaxy'")
    assert imported == []
