"""ASCII look-alikes, stacked: the glyph skeleton of a run of letters, in which every character
that renders like another in common fonts is replaced by one representative, so 'nlke', 'Iego',
'xlaorni', 'sarnsvng' and 'hvawe1' have the same skeleton as 'nike', 'lego', 'xiaomi', 'samsung'
and 'huawei'. Any number of substitutions stack, which single-edit typo tables cannot see.

The classes are UTS #39's confusables restricted to ASCII (the same prototypes its skeleton
uses: 'rn' → 'm', 'l'/'I'/'1'/'|' alike, '0' → 'o'), plus the pairs that typosquatters use and
readers miss at a glance ('vv' → 'w', 'u'/'v', 'g'/'q'/'9', 'c'/'e', and leet digits).

`skeleton(text)` returns the skeleton and, for each of its positions, the position in `text`
where that character came from, so a hit found in the skeleton is read in the original."""

from __future__ import annotations

# Sequences first (longest match), then single characters.
SEQUENCES = {"rn": "m", "nn": "m", "vv": "w"}
SINGLES = str.maketrans(
    {
        "i": "l",
        "1": "l",
        "|": "l",
        "!": "l",
        "0": "o",
        "v": "u",
        "q": "g",
        "c": "e",
        "3": "e",
        "4": "a",
        "5": "s",
        "$": "s",
        "@": "a",
        "7": "t",
        "9": "g",
        "8": "b",
    }
)


def skeleton(text: str) -> tuple[str, list[int] | None]:
    """(skeleton, origin) for a lowercase string; origin has one entry more than the skeleton,
    the last being len(text), so a span [i, j) maps back to [origin[i], origin[j]). Origin is
    None when every character maps to one (the usual case): positions are unchanged."""
    if "rn" not in text and "nn" not in text and "vv" not in text:  # one C-level pass
        return text.translate(SINGLES), None
    out: list[str] = []
    origin: list[int] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in SEQUENCES:
            out.append(SEQUENCES[pair])
            origin.append(i)
            i += 2
            continue
        out.append(text[i])
        origin.append(i)
        i += 1
    origin.append(len(text))
    return "".join(out).translate(SINGLES), origin


def term_skeleton(term: str) -> str:
    return skeleton(term)[0]
