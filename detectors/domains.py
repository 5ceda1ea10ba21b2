"""Domains that impersonate a brand: typosquats, lookalikes, combosquats, TLD swaps and brand
subdomains of someone else's domain. `score_domain(text, book) -> Finding`.

Order: parse the host (URL parts and ports dropped, punycode decoded to what it displays), then
the allowlist (official and authorized domains and their subdomains are clean, full stop), then
one small helper per technique, each returning at most one Signal.

Strong terms ('xiaomi', 'samsung', 'iphone', official labels like 'icloud') count wherever they
stand beside known words; distinctive ones (six letters or more) count beside unknown words too,
as 'suspicious'. Short strong terms ('apple', 'poco') need known words on both sides, which is why
'pineapple' and 'applebees' are clean. Weak terms ('mi', 'galaxy') count only as whole words
beside a shop, claim, support or model word (or a shop-like TLD such as .store), and even then
only as 'suspicious' — except as the label of an official domain on another TLD ('mi.shop').

A site on a hosting platform ('xiaomi-store.myshopify.com', from the public-suffix list's private
section) is judged by the name its owner chose, as if that were the registrable domain; the bare
brand as such a site's name is 'suspicious' (fan pages and the brand's own projects live there
too). A brand beside repair or parts words only ('samsungparts.net') is 'suspicious': that trade
names the brand it works on."""

from __future__ import annotations

import re

from detectors._data import (
    ACCOUNT_WORDS,
    AFTERMARKET_WORDS,
    CLAIM_WORDS,
    FILLER_WORDS,
    GENERIC_RETAIL_WORDS,
    PRODUCT_WORDS,
    REGION_WORDS,
    RETAIL_SUFFIXES,
    RETAIL_WORDS,
    SUPPORT_WORDS,
)
from detectors._world_data import (
    WORLD_AFTERMARKET_WORDS,
    WORLD_CLAIM_WORDS,
    WORLD_SUPPORT_WORDS,
)
from detectors.book import BrandBook, hosted_site, is_platform_suffix, split_host
from detectors.normalize import Folded, compact, decode_label, fold, lookalike_phrase
from detectors.risk import Signal, finding, verdict_rank
from detectors.scripts import is_aftermarket, local_hits
from detectors.subdomains import subdomain_signals
from detectors.terms import Hit
from detectors.typos import describe
from detectors.visible import displayed_as, visible
from detectors.words import common_word, phrase_language
from grayhound.models import Finding

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_IPV4 = re.compile(r"^\d+(\.\d+){3}$")
# Anything beyond a bare host, once the text is stripped: URL punctuation or inner whitespace.
_URL_PARTS = re.compile(r"[:/?#@\s]")

# Weights: how sure each technique alone makes us (risk.py turns them into score and verdict).
W_TLD_SWAP = 0.9  # the brand's own name on a TLD it does not own
W_CCTLD_SWAP = 0.6  # brands often hold country domains the config does not list
W_HOSTED_NAME = 0.6  # a platform site named exactly after the brand: a fan page or a squat
W_COMBO = 0.9  # brand + shop/claim/support/region/model word
W_AFTERMARKET = 0.6  # brand + repair/parts words only: an independent trade, or a squat
W_FILLER = 0.6  # brand + only glue words ('myxiaomi', 'xiaomi24')
W_TYPO = 0.88  # a typo of a strong term standing alone or beside known words
W_HOMOGLYPH = 0.95  # lookalike characters are never an accident
W_CONTAINS = 0.5  # a distinctive term among unrecognised words: a fan site or a squat
W_WEAK = 0.55  # weak term beside a shop word


def host_of(text: str) -> str:
    """The host of a URL or bare domain, lowercase, without port, credentials or trailing dot."""
    stripped = text.strip()
    if not _URL_PARTS.search(stripped):
        return stripped.strip(".").lower()
    host = _SCHEME.sub("", stripped)
    host = re.split(r"[/?#\s]", host, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    return host.strip(".").lower()


def score_domain(text: str, book: BrandBook) -> Finding:
    seen = visible(text)  # judged as displayed: invisibles dropped, overrides applied
    host = host_of(seen.text)
    if not host or "." not in host or _IPV4.match(host):
        return finding("domain", text, [], clean_reason=f"'{host or text}' is not a domain name")
    owners = book.allowlist.domain_owners(host)
    if owners and seen.reordered:
        reason = (
            f"{text!r} displays as '{host}', {owners[0].describe()}, but is stored reversed "
            "behind a right-to-left override: the name that resolves is another"
        )
        signal = Signal(W_HOMOGLYPH, "impersonation", reason, owners[0].brand, "impersonation")
        return finding("domain", text, [signal])
    if owners:
        owner = owners[0]
        reason = f"'{host}' is under {owner.via}, {owner.describe()}"
        return finding("domain", text, [], brand=owner.brand, clean_reason=reason)
    subdomain, label, suffix = split_host(host)
    # a site on a hosting platform ('x.myshopify.com') is judged by the name its owner chose
    hosted = hosted_site(subdomain, label, suffix) if subdomain else None
    if hosted:
        subdomain, label, suffix = hosted
    if not label:
        return finding("domain", text, [], clean_reason=f"'{host}' is only a public suffix")
    decoded = decode_label(label)
    shown = fold(decoded)
    signals = _label_signals(host, decoded, shown, suffix, book)
    if not signals and not decoded.isascii():
        signals = _local_signals(host, decoded, suffix, book)
    if subdomain:
        signals.extend(subdomain_signals(host, subdomain, label, book))
    if signals and (seen.dropped or seen.reordered):
        strongest = max(signals, key=lambda s: (verdict_rank(s.verdict), s.weight))
        signals.extend(displayed_as(text, seen, strongest))
    clean = None if signals else _near_word(host, label, suffix, book)
    return finding("domain", text, signals, clean_reason=clean or _clean_reason(host))


def _near_word(host: str, label: str, suffix: str, book: BrandBook) -> str | None:
    """Why a near miss was let go: "'logo' in 'logo.com' is an ordinary English word"."""
    for hit in book.terms.find(fold(decode_label(label)).text.lower()):
        if hit.exact or hit.term.distinctive and hit.technique != "near spelling":
            continue
        language = common_word(hit.matched, suffix, any_language=hit.alone)
        if language:
            return (
                f"'{hit.matched}' in '{host}' is an ordinary {language} word (wordfreq) near the "
                f"brand term '{hit.term.text}', not the brand"
            )
    return None


def _local_signals(host: str, label: str, suffix: str, book: BrandBook) -> list[Signal]:
    """The brand's name in another script ('小米商城.com', 'サムスン公式.jp', 'xiaomi官方旗舰店.com')."""
    judged = []
    for hit in local_hits(book.terms, label):
        if hit.alone:
            name = book.brand_name(hit.term.brand)
            reason = (
                f"'{host}' is the {name} name '{hit.term.text}' written in its own script, as a "
                f"whole domain name on .{suffix}, which is not among its official domains"
            )
            judged.append(
                Signal(W_TLD_SWAP, "impersonation", reason, hit.term.brand, "impersonation")
            )
            continue
        signal = _judge_hit(host, hit, suffix)
        if signal:
            judged.append(signal)
    best = max(judged, key=lambda s: (verdict_rank(s.verdict), s.weight), default=None)
    return [best] if best else []


def _clean_reason(host: str) -> str:
    return f"no brand term, typo or lookalike of one found in '{host}'"


def _label_signals(
    host: str, decoded: str, shown: Folded, suffix: str, book: BrandBook
) -> list[Signal]:
    label_text = shown.text.lower()
    swaps = (
        _tld_swap(host, label_text, suffix, book),
        _hyphenated_official(host, label_text, book),
    )
    signals = [s for s in swaps if s]
    hits = book.terms.find(label_text)
    if hits:
        judged = [(_judge_hit(host, hit, suffix), hit) for hit in hits]
        best = max((pair for pair in judged if pair[0]), key=_strength, default=None)
        if best:
            signals.append(best[0])
    if shown.lookalikes and not signals:
        term = book.terms.by_text.get(compact(label_text)[0])
        if term:  # even a weak term, spelt in lookalike characters, is deliberate
            reason = f"'{host}' spells the {book.brand_name(term.brand)} term '{term.text}'"
            signals.append(Signal(0.0, "suspicious", reason, term.brand))
    homoglyph = _homoglyph(host, decoded, shown, signals)
    if homoglyph:
        signals.append(homoglyph)
    return signals


def _strength(pair: tuple[Signal, Hit]) -> tuple:
    """Strongest signal first; on a tie the exact reading explains better than a typo."""
    signal, hit = pair
    return signal.weight, hit.exact, hit.view == "plain", len(hit.matched)


def _tld_swap(host: str, label: str, suffix: str, book: BrandBook) -> Signal | None:
    """'xiaomi.shop', 'mi.store': an official domain's label (or a strong term) on another TLD."""
    brand = book.official_labels.get(label)
    term = book.terms.by_text.get(label)
    term = term if term and term.strong and not term.local else None
    if brand is None and term is None:
        return None  # a local-script name alone is judged by _local_signals
    brand = brand or term.brand
    name = book.brand_name(brand)
    shown = f"{label}.{suffix}"
    if shown != host and book.allowlist.domain_owners(shown):
        # the label only reads as the brand once folded: a lookalike of the official domain
        reason = f"'{host}' displays as the official domain '{shown}'"
        return Signal(W_TLD_SWAP, "impersonation", reason, brand, "impersonation")
    if is_platform_suffix(suffix):
        reason = (
            f"'{host}' is a site named '{label}', the {name} name, on the hosting platform "
            f"{suffix}: anyone can open one (check who runs it)"
        )
        return Signal(W_HOSTED_NAME, "suspicious", reason, brand, "suspicious_domain")
    country_code = len(suffix.rsplit(".", 1)[-1]) == 2
    if country_code and suffix.rsplit(".", 1)[-1] not in RETAIL_SUFFIXES:
        reason = (
            f"'{host}' is the {name} name '{label}' on the country domain .{suffix}, which is not "
            "among its official domains (brands often own these: check the registrant)"
        )
        return Signal(W_CCTLD_SWAP, "suspicious", reason, brand, "suspicious_domain")
    reason = f"'{host}' puts the {name} name '{label}' on .{suffix}, a TLD the brand does not use"
    return Signal(W_TLD_SWAP, "impersonation", reason, brand, "impersonation")


def _hyphenated_official(host: str, label: str, book: BrandBook) -> Signal | None:
    """'xiaomi-com.top', 'mi-com-support.shop': an official domain with its dot typed as a hyphen."""
    if "-" not in label:
        return None
    pieces = f"-{label}-"
    for spelled, (domain, brand) in book.official_hyphenated.items():
        if spelled in label and f"-{spelled}-" in pieces:
            reason = f"'{host}' spells the official domain '{domain}' with a hyphen for the dot"
            return Signal(W_TLD_SWAP, "impersonation", reason, brand, "impersonation")
    return None


def _judge_hit(host: str, hit: Hit, suffix: str) -> Signal | None:
    if hit.term.strong and hit.exact:
        return _strong_term(host, hit)
    if hit.term.strong:
        return _typo(host, hit, suffix)
    return _weak_term(host, hit, suffix)


def _how_read(hit: Hit) -> str:
    if hit.view == "leet":
        return " after leetspeak normalisation"
    if hit.split:
        return " once the hyphens are removed (hyphenation)"
    return ""


def _strong_term(host: str, hit: Hit) -> Signal | None:
    term, brand, how = hit.term.text, hit.term.brand, _how_read(hit)
    words = hit.signal_words
    if hit.alone:
        if not how:
            return None  # the bare label is a TLD swap, judged by _tld_swap
        reason = f"'{host}' reads '{term}'{how}"
        return Signal(W_TLD_SWAP, "impersonation", reason, brand, "impersonation")
    if not hit.unknown and words and _aftermarket_trade(words):
        joined = "', '".join(words)
        reason = (
            f"brand term '{term}'{how} + '{joined}' in '{host}': a repair or parts trade names "
            "the brand it works on; worth a look, not a claim to be the brand"
        )
        return Signal(W_AFTERMARKET, "suspicious", reason, brand, "suspicious_domain")
    if not hit.unknown and words:
        joined = "', '".join(words)
        reason = (
            f"brand term '{term}'{how} + '{joined}' in registrable domain '{host}' (combosquat)"
        )
        return Signal(W_COMBO, "impersonation", reason, brand, "impersonation")
    if not hit.unknown:
        reason = f"brand term '{term}'{how} in '{host}' with only generic words beside it"
        verdict = "impersonation" if how else "suspicious"
        return Signal(W_FILLER, verdict, reason, brand, "suspicious_domain")
    if hit.term.distinctive:
        others = "', '".join(hit.unknown)
        reason = f"'{host}' contains the brand term '{term}'{how} beside '{others}'"
        return Signal(W_CONTAINS, "suspicious", reason, brand, "suspicious_domain")
    return None


def _aftermarket_trade(words: tuple[str, ...]) -> bool:
    """Repair or parts words, with nothing beside them that sells or claims the brand itself
    ('iphone-repair-hub', 'huawei-phone-repair'; not 'samsung-repair-store')."""
    trade = [w for w in words if _aftermarket(w)]
    rest = [w for w in words if not _aftermarket(w)]
    return bool(trade) and all(w in _TRADE_COMPANIONS for w in rest)


def _aftermarket(word: str) -> bool:
    return word in AFTERMARKET_WORDS or word in WORLD_AFTERMARKET_WORDS or is_aftermarket(word)


def _typo(host: str, hit: Hit, suffix: str) -> Signal | None:
    term = hit.term
    near = hit.technique == "near spelling"
    glyphs = hit.technique == "lookalike letters"
    if (not term.distinctive or near) and common_word(
        hit.matched, suffix, any_language=hit.alone and not glyphs
    ):
        return None  # 'nice', 'logo', 'appie' on .nl: a real word one letter from the brand
    typo = describe(hit.technique, term.text, hit.matched)
    if hit.technique != "near spelling" and not hit.unknown:
        beside = f" beside '{', '.join(hit.words)}'" if hit.words else ""
        reason = f"typosquat in '{host}': {typo}{beside}"
        return Signal(W_TYPO, "impersonation", reason, term.brand, "impersonation")
    if term.distinctive and hit.technique == "near spelling":
        reason = f"'{host}' contains a near spelling of '{term.text}': {typo}"
        return Signal(W_CONTAINS, "suspicious", reason, term.brand, "suspicious_domain")
    return None


def _weak_term(host: str, hit: Hit, suffix: str) -> Signal | None:
    """'mi', 'galaxy': a whole word beside a shop/claim/support/model word, or a shop TLD."""
    if not hit.exact or hit.unknown or hit.view != "plain":
        return None
    if "claim" not in hit.classes and phrase_language((hit.term.text, *hit.words)):
        return None  # 'mi-tienda.online': Spanish for 'my shop'
    cues = [w for w in hit.words if w not in ("com", "net", "org") and _is_cue(w)]
    cues = [w for w in cues if w not in GENERIC_RETAIL_WORDS]  # 'galaxyland', 'galaxy-digital'
    if suffix.rsplit(".", 1)[-1] in RETAIL_SUFFIXES:
        cues.append(f".{suffix}")
    if not cues:
        return None
    phishing = [w for w in hit.words if w in SUPPORT_WORDS or w in WORLD_SUPPORT_WORDS]
    if len(phishing) >= 2 or any(w in ACCOUNT_WORDS for w in phishing):
        reason = (
            f"weak brand term '{hit.term.text}' beside the account/phishing words "
            f"'{', '.join(phishing)}' in '{host}': a page asking for the brand's account"
        )
        return Signal(W_COMBO, "impersonation", reason, hit.term.brand, "impersonation")
    reason = (
        f"weak brand term '{hit.term.text}' as a whole word beside '{', '.join(cues)}' in '{host}'"
    )
    return Signal(W_WEAK, "suspicious", reason, hit.term.brand, "suspicious_domain")


def _is_cue(word: str) -> bool:
    """Whether a word beside a weak term is a real cue (shop, claim, support, model, brand)."""
    if word in _WEAK_CUES:
        return True
    return any(ch.isdigit() for ch in word) and not word.isdigit()


def _homoglyph(host: str, original: str, shown: Folded, signals: list[Signal]) -> Signal | None:
    """Non-Latin lookalikes ('xiaomі' with a Cyrillic і) that spell a brand term."""
    if not shown.lookalikes or not any(s.verdict != "clean" for s in signals):
        return None
    brand = next(s.brand for s in signals if s.verdict != "clean")
    reason = f"'{host}' {lookalike_phrase(original, shown)}"
    return Signal(W_HOMOGLYPH, "impersonation", reason, brand, "impersonation")


_WEAK_CUES = (
    RETAIL_WORDS
    | CLAIM_WORDS
    | SUPPORT_WORDS
    | WORLD_CLAIM_WORDS
    | WORLD_SUPPORT_WORDS
    | WORLD_AFTERMARKET_WORDS
)

# Words that may stand beside a repair or parts word without making it a shop of the brand.
_TRADE_COMPANIONS = GENERIC_RETAIL_WORDS | FILLER_WORDS | REGION_WORDS | PRODUCT_WORDS
