"""Brand names written in other scripts and the words around them: '小米官方旗舰店',
'サムスン公式ショップ', '삼성 공식 판매점', 'Официальный магазин Сяоми', 'متجر شاومي الرسمي',
'xiaomi官方旗舰店.com'.

Text is cut into runs of one script family (Latin and digits, Han and Kana, Hangul, Cyrillic,
Arabic, Thai …) at separators and wherever the script changes, since CJK and Thai have no
spaces. A brand's local name (from `terms`, in any script) is found inside a run of its own
script: anywhere in a CJK, Hangul or Thai run, at the start of a word in scripts with spaces.
What stands beside it is read the way terms.py reads Latin text: the rest of the run is split
into known words by the longest match (`_world_data.WORLD_SCRIPT_WORDS`: 官方 official, 旗舰店
flagship store, 公式, 공식, официальный …), other runs are words or unknown chunks. A local name
beside only unknown text is another word that contains it ('小米粥' millet porridge, '三星堆',
'삼성동'): no hit. A Latin brand term glued to a run of another script ('xiaomi官方旗舰店') is read
the same way; everywhere else Latin terms are terms.py's job.

The Hits returned are judged by names.py and domains.py like any other."""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

from detectors._world_data import WORLD_SCRIPT_WORDS
from detectors.terms import Hit, Term, TermIndex

# Scripts written without spaces between words: a name is found anywhere inside a run.
UNSPACED = frozenset({"cjk", "hangul", "thai", "lao", "khmer", "myanmar"})
# The longest script word, for the longest-match split.
_MAX_WORD = max(len(w) for words in WORLD_SCRIPT_WORDS.values() for w in words)
_SCRIPT_CLASS = {w: cls for cls, words in WORLD_SCRIPT_WORDS.items() for w in words}


class Run(NamedTuple):
    text: str
    family: str
    glued_left: bool  # no separator between this run and the one before


def family(char: str) -> str:
    if char.isascii():
        return "latin"
    if unicodedata.category(char)[0] == "M":
        return ""  # a combining mark belongs to the letter before it
    name = unicodedata.name(char, "")
    head = name.split(" ", 1)[0]
    if head in ("CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA", "HALFWIDTH", "IDEOGRAPHIC"):
        return "cjk"
    if head == "HANGUL":
        return "hangul"
    if head in ("LATIN", "DIGIT", "FULLWIDTH", "MATHEMATICAL"):
        return "latin"
    return head.lower() or "other"


def runs_of(text: str) -> list[Run]:
    """Runs of one script family, cut at separators and where the script changes. Look-alikes
    ('хіаомі' in Cyrillic letters) are terms.py's: it reads the text folded to Latin."""
    runs: list[Run] = []
    current: list[str] = []
    current_family = ""
    glued = False
    for char in text.casefold():
        if unicodedata.category(char)[0] not in "LMN":  # letters, marks (Thai vowels), digits
            if current:
                runs.append(Run("".join(current), current_family, glued))
                current = []
            glued = False
            continue
        char_family = family(char) or current_family
        if current and char_family != current_family:
            runs.append(Run("".join(current), current_family, glued))
            current, glued = [], True
        current.append(char)
        current_family = char_family
    if current:
        runs.append(Run("".join(current), current_family, glued))
    return runs


def segment_script(chunk: str) -> tuple[str, ...] | None:
    """A run of another script split into known words by the longest match, or None."""
    if chunk in _SCRIPT_CLASS:
        return (chunk,)
    best: dict[int, tuple[str, ...]] = {0: ()}
    for end in range(1, len(chunk) + 1):
        for start in range(max(0, end - _MAX_WORD), end):
            if start in best and chunk[start:end] in _SCRIPT_CLASS:
                best[end] = (*best[start], chunk[start:end])
                break
    return best.get(len(chunk))


def script_class(word: str) -> str | None:
    cls = _SCRIPT_CLASS.get(word)
    return "retail" if cls == "aftermarket" else cls


def is_aftermarket(word: str) -> bool:
    return _SCRIPT_CLASS.get(word) == "aftermarket"


def local_hits(index: TermIndex, text: str) -> list[Hit]:
    """Hits of local-script names, and of Latin terms glued to another script, in `text`."""
    if text.isascii():
        return []
    runs = runs_of(text)
    if all(run.family == "latin" for run in runs):
        return []
    hits = []
    for k in range(len(runs)):
        for term, start in _terms_in(index, runs, k):
            hit = _read(index, runs, k, start, term)
            if hit:
                hits.append(hit)
    return hits


def _terms_in(index: TermIndex, runs: list[Run], k: int):
    run = runs[k]
    if run.family == "latin":
        term = index.by_text.get(run.text)
        if term and term.strong:  # a Latin name among words of another script
            yield term, 0
        return
    for term in index.local_terms:
        if run.family in UNSPACED:
            at = run.text.find(term.text)
            while at != -1:
                yield term, at
                at = run.text.find(term.text, at + 1)
        elif run.text.startswith(term.text):
            yield term, 0


def _read(index: TermIndex, runs: list[Run], k: int, start: int, term: Term) -> Hit | None:
    run = runs[k]
    end = start + len(term.text)
    chunks = [r.text for r in runs[:k]]
    if run.text[:start]:
        chunks.append(run.text[:start])
    if run.text[end:]:
        chunks.append(run.text[end:])
    chunks.extend(r.text for r in runs[k + 1 :])
    words: list[str] = []
    unknown: list[str] = []
    for chunk in chunks:
        if chunk.isascii():
            found = index.segment(chunk, True)
        else:
            found = segment_script(chunk)
        if found is None:
            unknown.append(chunk)
        else:
            words.extend(found)
    classes = index.classes_of(tuple(words))
    return Hit(term, term.text, None, tuple(words), classes, tuple(unknown))
