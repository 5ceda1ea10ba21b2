"""Seller and store display names that present as a brand. `score_name(text, book) -> Finding`.

Authorized resellers' names (normalised) are clean, checked first. Otherwise the name is folded
(lookalikes), split (camelCase, separators) and read plainly and in leetspeak, and the brand terms
in it are judged by what stands beside them:
- the brand alone, or with only regional or glue words ('Xiaomi', 'Samsung Europe'), or with a
  claim word ('official', 'authorized', 'flagship'), a legal form ('Apple Inc.') or a worldwide
  scope ('Redmi Global Store') → impersonation;
- the brand spelt to dodge filters (typo, leetspeak, lookalike letters, 'Xiao Mi') beside known
  words → impersonation;
- the brand beside shop words only ('Xiaomi Store', 'Samsung Phones Hub') → suspicious;
- a distinctive term among unrecognised words ('Xiaomi Fan Club') → suspicious;
- weak terms ('Mi', 'Galaxy') only when every other word is known and one is a shop word
  ('Mi Store' suspicious, 'Mi Official Store' impersonation, 'Mi Amigo Shop' clean), and not
  as the last word after shop words, where it is the name's own noun ('Gadget Galaxy' clean);
- a generic shop name ('Phone Paradise') → clean."""

from __future__ import annotations

import re

from detectors._data import CORPORATE_WORDS, GENERIC_RETAIL_WORDS, LIST_JOINERS, WORLD_SCOPE_WORDS
from detectors.book import BrandBook
from detectors.normalize import Folded, compact, deleet, fold, lookalike_phrase, split_camel
from detectors.risk import Signal, finding
from detectors.scripts import local_hits
from detectors.terms import Hit
from detectors.typos import describe
from detectors.visible import displayed_as, visible
from detectors.words import common_word, phrase_language
from grayhound.models import Finding

W_PRESENTS = 0.85  # the name is the brand, maybe with a region
W_CLAIM = 0.92  # the name claims to be official / authorized
W_OBFUSCATED = 0.88  # the brand deliberately misspelt beside known words
W_RETAIL = 0.55  # brand + shop words
W_CONTAINS = 0.45  # a distinctive term among other words
W_WEAK_CLAIM = 0.75  # weak term + claim word
W_WEAK_RETAIL = 0.5  # weak term + shop word
W_HOMOGLYPH = 0.9

_PRESENTING = frozenset({"brand", "region", "filler", "other"})  # 'other': digits, country codes
_NOT_AUTHORIZED = "; not an authorized reseller"
_WORDS = re.compile(r"[0-9a-z]+")
_LIST_TOKENS = re.compile(r"[0-9a-z]+|[,&+/]")


def score_name(text: str, book: BrandBook) -> Finding:
    seen = visible(text)  # judged as displayed: invisibles dropped, overrides applied
    owners = book.allowlist.name_owners(seen.text)
    if owners:
        brands = ", ".join(dict.fromkeys(book.brand_name(o.brand) for o in owners))
        reason = f"'{text}' is the listed name of {owners[0].name}, authorized for {brands}"
        return finding("name", text, [], brand=owners[0].brand, clean_reason=reason)
    shown = fold(seen.text)
    prepared = split_camel(shown.text)
    hits = book.terms.find(prepared)
    if not seen.text.isascii():
        hits = (*hits, *local_hits(book.terms, seen.text))
    if not hits:
        return finding("name", text, [], clean_reason=f"no brand presented in '{text}'")
    several = _several_brands(book, prepared, hits) if len(hits) > 1 else None
    if several:
        return finding("name", text, [], clean_reason=several)
    judged = [(_judge(text, prepared, hit), hit) for hit in hits]
    best = max((pair for pair in judged if pair[0]), key=_strength, default=None)
    signals = [best[0]] if best else []
    homoglyph = _homoglyph(text, seen.text, shown, signals, best[1] if best else None)
    if homoglyph:
        signals.append(homoglyph)
    if signals and (seen.dropped or seen.reordered):
        signals.extend(displayed_as(text, seen, signals[0]))
    clean = None if signals else _near_word(hits)
    return finding("name", text, signals, clean_reason=clean or f"no brand presented in '{text}'")


def _near_word(hits) -> str | None:
    """Why a near miss was let go: "'nice' is an ordinary English word near 'nike'"."""
    for hit in hits:
        if not hit.exact and _real_word(hit):
            language = common_word(hit.matched) or "English"
            return (
                f"'{hit.matched}' is an ordinary {language} word (wordfreq) near the brand term "
                f"'{hit.term.text}', not the brand"
            )
    return None


def _several_brands(book: BrandBook, prepared: str, hits) -> str | None:
    """A retailer or repairer listing the brands it sells or serves ('Gadget Corner – Xiaomi,
    Samsung & Apple'): two brands or more by their exact names as whole words, written as a
    list (a comma, '&', '+', '/', 'and' between two of them), and no claim beside any."""
    exact = {h.term.text: h for h in hits if h.exact and h.view == "plain" and not h.term.local}
    if len({h.term.brand for h in exact.values()}) < 2:
        return None
    tokens = _LIST_TOKENS.findall(prepared.lower())
    places = [(i, exact[t].term.brand) for i, t in enumerate(tokens) if t in exact]
    brands = dict.fromkeys(brand for _, brand in places)
    listed = any(
        b1 != b2 and any(t in LIST_JOINERS for t in tokens[i1 + 1 : i2])
        for (i1, b1), (i2, b2) in zip(places, places[1:], strict=False)
    )
    if len(brands) < 2 or not listed:
        return None
    if any(h.classes & {"claim", "support", "corporate"} for h in exact.values()):
        return None
    named = ", ".join(book.brand_name(b) for b in brands)
    return f"names several brands ({named}) as the goods it sells or serves; claims to be none"


def _strength(pair: tuple[Signal, Hit]) -> tuple:
    """Strongest signal first; on a tie the exact reading explains better than a typo."""
    signal, hit = pair
    return signal.weight, hit.exact, len(hit.matched)


def _reading(prepared: str, hit: Hit) -> str:
    lowered = " ".join(prepared.lower().split())
    return " ".join(deleet(lowered, "l" in hit.term.text and "1" in lowered).split())


def _judge(text: str, prepared: str, hit: Hit) -> Signal | None:
    if not hit.term.strong:
        return _weak(text, prepared, hit)
    if not hit.exact or hit.view == "leet" or hit.split:
        return _obfuscated(text, prepared, hit)
    term, brand, name = hit.term.text, hit.term.brand, f"'{text}'"
    if hit.unknown and not hit.term.distinctive and _inside_another_name(prepared, hit):
        return None  # 'Pineapple Support', 'POCO Einrichtungsmarkt', 'Apple Valley Locksmith'
    if "claim" in hit.classes or "support" in hit.classes:
        claims = "', '".join(w for w in hit.words if w not in ("com", "net"))
        reason = f"{name} presents as the brand: '{term}' + '{claims}'{_NOT_AUTHORIZED}"
        return Signal(W_CLAIM, "impersonation", reason, brand, "impersonation")
    if "corporate" in hit.classes and not hit.unknown:
        legal = "', '".join(w for w in hit.words if w in CORPORATE_WORDS)
        reason = (
            f"{name} is styled as the brand's own company: '{term}' + legal form '{legal}'"
            f"{_NOT_AUTHORIZED}"
        )
        return Signal(W_CLAIM, "impersonation", reason, brand, "impersonation")
    if hit.unknown:
        if not hit.term.distinctive:
            return None
        others = "', '".join(hit.unknown)
        reason = f"{name} uses the brand term '{term}' beside '{others}'{_NOT_AUTHORIZED}"
        return Signal(W_CONTAINS, "suspicious", reason, brand, "suspicious_name")
    if not hit.signal_words and "about" in hit.classes:
        about = "', '".join(w for w in hit.words if w not in ("com", "net"))
        reason = f"{name} is about the brand ('{term}' + '{about}'){_NOT_AUTHORIZED}"
        return Signal(W_CONTAINS, "suspicious", reason, brand, "suspicious_name")
    scope = [w for w in hit.words if w in WORLD_SCOPE_WORDS]
    if scope and hit.classes <= _PRESENTING | {"retail"}:
        reason = (
            f"{name} presents as the brand's own worldwide operation: '{term}' + "
            f"'{scope[0]}' (a reseller is local){_NOT_AUTHORIZED}"
        )
        return Signal(W_PRESENTS, "impersonation", reason, brand, "impersonation")
    if hit.classes <= _PRESENTING:
        reason = f"{name} presents as the brand itself ('{term}'){_NOT_AUTHORIZED}"
        return Signal(W_PRESENTS, "impersonation", reason, brand, "impersonation")
    shop = "', '".join(hit.signal_words)
    reason = f"{name} pairs the brand term '{term}' with shop words '{shop}'{_NOT_AUTHORIZED}"
    return Signal(W_RETAIL, "suspicious", reason, brand, "suspicious_name")


def _real_word(hit: Hit) -> bool:
    """A near miss that is an ordinary word: any language for plain typos of short terms and for
    near spellings, English only for look-alike letters ('AppIe' with a capital I)."""
    if hit.technique == "lookalike letters":
        return bool(common_word(hit.matched, any_language=False))
    if hit.term.distinctive and hit.technique != "near spelling":
        return False
    return bool(common_word(hit.matched))


def _inside_another_name(prepared: str, hit: Hit) -> bool:
    """A short term glued to unknown letters or right beside an unknown word is part of another
    name: 'Pineapple', 'Pocoyo', 'POCO Einrichtungsmarkt', 'Apple Valley'."""
    if hit.local:
        return bool(hit.unknown)
    words = _WORDS.findall(prepared.lower())
    if hit.term.text not in words:
        return True  # glued to other letters
    i = words.index(hit.term.text)
    beside = {*words[max(0, i - 1) : i], *words[i + 1 : i + 2]}
    return any(w in hit.unknown for w in beside)


def _obfuscated(text: str, prepared: str, hit: Hit) -> Signal | None:
    term, brand = hit.term.text, hit.term.brand
    if hit.view == "leet":
        how = f"reads '{_reading(prepared, hit)}' after leetspeak normalisation"
    elif hit.split:
        how = f"spells '{term}' across a separator ('{hit.matched}' split up)"
    else:
        how = f"misspells the brand: {describe(hit.technique, term, hit.matched)}"
    if not hit.exact and _real_word(hit):
        return None  # 'Nice', 'Logo', 'Lago', 'Samsun': a real word near the brand
    claimed = "claim" in hit.classes or "support" in hit.classes
    whole = not hit.unknown or (claimed and hit.term.distinctive)
    if hit.technique != "near spelling" and whole:
        reason = f"'{text}' {how}{_NOT_AUTHORIZED}"
        return Signal(W_OBFUSCATED, "impersonation", reason, brand, "impersonation")
    if hit.term.distinctive and (hit.exact or hit.technique == "near spelling"):
        reason = f"'{text}' {how}, beside '{', '.join(hit.unknown)}'{_NOT_AUTHORIZED}"
        return Signal(W_CONTAINS, "suspicious", reason, brand, "suspicious_name")
    return None


def _weak(text: str, prepared: str, hit: Hit) -> Signal | None:
    if not hit.exact or hit.unknown or hit.view != "plain":
        return None
    term, brand = hit.term.text, hit.term.brand
    language = phrase_language((term, *hit.words)) if hit.term.text.isascii() else None
    if language:
        if "claim" not in hit.classes:
            return None  # 'Mi Tienda Online': Spanish for 'my shop', the weak term a plain word
        reason = (
            f"'{text}' reads as {language} ('{term}' an ordinary word there) but pairs the weak "
            f"brand term with the claim '{', '.join(hit.signal_words)}'{_NOT_AUTHORIZED}"
        )
        return Signal(W_WEAK_RETAIL, "suspicious", reason, brand, "suspicious_name")
    if hit.classes & {"claim", "support"}:
        what = "claim" if "claim" in hit.classes else "account/support words"
        reason = (
            f"'{text}' presents as the brand: weak term '{term}' as a whole word + {what} "
            f"'{', '.join(hit.signal_words)}'{_NOT_AUTHORIZED}"
        )
        return Signal(W_WEAK_CLAIM, "impersonation", reason, brand, "impersonation")
    words = _WORDS.findall(prepared.lower())
    while words and words[-1] in CORPORATE_WORDS:
        words.pop()  # 'Gadget Galaxy Ltd': the legal form follows the name's head noun
    if words[-1:] == [term]:
        return None  # the weak term as the name's head noun, in its own sense: 'Gadget Galaxy'
    cues = [w for w in hit.signal_words if w not in GENERIC_RETAIL_WORDS]
    if cues and hit.classes & {"retail", "model"}:
        reason = (
            f"'{text}' pairs the weak brand term '{term}' with '{', '.join(cues)}'{_NOT_AUTHORIZED}"
        )
        return Signal(W_WEAK_RETAIL, "suspicious", reason, brand, "suspicious_name")
    return None


def _homoglyph(
    text: str, seen: str, shown: Folded, signals: list[Signal], hit: Hit | None
) -> Signal | None:
    """The brand spelt with look-alike characters: only when the term itself is not written
    plainly ('Phone House – Apple, … y más' folds an accent elsewhere)."""
    if not shown.lookalikes or not signals or hit is None or hit.term.local:
        return None
    if hit.matched in compact(seen)[0]:
        return None
    reason = f"'{text}' {lookalike_phrase(seen, shown)}"
    return Signal(W_HOMOGLYPH, "impersonation", reason, signals[0].brand, "impersonation")
