"""The fuzzy readings of a text, tried when the exact and typo tables found no strong term: the
glyph skeleton (look-alike letters stacked any number of times: 'xlaorni', 'sarnsvng') and near
spellings (within one edit of a distinctive term, two for names of seven letters or more,
'sumsong'). Each returns Hits that terms.py's TermIndex reads like its own."""

from __future__ import annotations

from rapidfuzz.distance import DamerauLevenshtein

from detectors import terms  # terms imports this module: names are looked up at call time
from detectors.lookalikes import skeleton

# Two edits are searched for only on distinctive terms, with the first letter kept, and the last
# one too when both edits are needed: a word is recognised by its ends, so 'sumsong' reads as
# samsung and 'samson' does not.
NEAR_MAX_EDITS = 2
# Two edits leave too little of a six-letter name ('huatai', 'hualei' are not 'huawei'): one.
NEAR_TWO_EDITS_MIN_LEN = 7


def glyph_hits(index: terms.TermIndex, c: str, cuts: frozenset[int]) -> list[terms.Hit]:
    """Terms spelt in look-alike ASCII letters, any number of them ('xlaorni', 'Iego')."""
    skel, origin = skeleton(c)
    if not index._any_skeleton.search(skel):
        return []
    hits = []
    pieces = None
    for shape, term in index._skeletons.items():
        at = skel.find(shape)
        while at != -1:
            start, end = (
                (at, at + len(shape))
                if origin is None
                else (
                    origin[at],
                    origin[at + len(shape)],
                )
            )
            matched = c[start:end]
            if matched != term.text and not any(start < p < end for p in cuts):
                pieces = pieces if pieces is not None else terms.pieces_of(c, cuts)
                words, unknown = index._surroundings(c, cuts, pieces, start, end, term)
                classes = index._classes(words)
                hits.append(terms.Hit(term, matched, "lookalike letters", words, classes, unknown))
            at = skel.find(shape, at + 1)
    return hits


def near_hits(index: terms.TermIndex, c: str, cuts: frozenset[int]) -> list[terms.Hit]:
    """Chunks within two edits of a distinctive term ('sumsong'), its first letter kept (and its
    last, at two edits)."""
    hits = []
    pieces = terms.pieces_of(c, cuts)
    for a, b in pieces:
        if b - a < terms.DISTINCTIVE_MIN_LEN:
            continue
        chunk = c[a:b]
        candidates = index._near_terms.get(chunk[0])
        if not candidates or chunk in index.word_class:
            continue
        for term in candidates:
            if abs(len(chunk) - len(term.text)) > NEAR_MAX_EDITS:
                continue
            most = NEAR_MAX_EDITS if len(term.text) >= NEAR_TWO_EDITS_MIN_LEN else 1
            edits = DamerauLevenshtein.distance(chunk, term.text, score_cutoff=most)
            if edits > 1 and chunk[-1] != term.text[-1]:
                continue  # readers go by first and last letters: 'samson' is another word
            if edits <= most:
                words, unknown = index._surroundings(c, cuts, pieces, a, b, term)
                classes = index._classes(words)
                hits.append(terms.Hit(term, chunk, "near spelling", words, classes, unknown))
    return hits
