"""The brand left of someone else's domain: 'xiaomi.com.deals-shop.xyz' (path-like, reads as the
brand's site), 'sam.sung.com' (the brand's name cut by a dot), 'xiaomi-store.shop-deals.top' (the
brand as a subdomain). `subdomain_signals(host, subdomain, label, book)` returns at most one."""

from __future__ import annotations

from detectors._data import NEUTRAL_SUBDOMAINS, RETAIL_SUFFIXES
from detectors.book import BrandBook
from detectors.normalize import compact, decode_label, fold
from detectors.risk import Signal

W_SUB_IMPERSONATION = 0.9  # brand as subdomain of a throwaway or path-like domain
W_SUB_SUSPICIOUS = 0.55  # brand as subdomain of an ordinary domain


def subdomain_signals(host: str, subdomain: str, label: str, book: BrandBook) -> list[Signal]:
    """'xiaomi.com.deals-shop.xyz', 'samsung.co.xyz': the brand left of someone else's domain."""
    if not subdomain:
        return []
    labels = subdomain.split(".")
    # reasons name the whole registrable domain ('sung.com'), never its bare label ('sung'),
    # which reads as a cut brand name
    label = _registrable(host, subdomain, label)
    path_like = _path_like(host, labels, label, book) or _split_by_dots(host, labels, label, book)
    if path_like:
        return [path_like]
    suffix_cheap = host.rsplit(".", 1)[-1] in RETAIL_SUFFIXES
    name = label.split(".", 1)[0]
    generic = book.terms.segment(compact(name)[0], True) is not None or len(name) <= 3
    for sub in labels:
        if sub in NEUTRAL_SUBDOMAINS:
            continue
        shown = fold(decode_label(sub)).text.lower()
        hits = [h for h in book.terms.find(shown) if h.term.strong and not h.unknown]
        hits = [h for h in hits if h.technique != "near spelling"]
        if not hits:
            continue
        hit = max(hits, key=lambda h: (h.exact, len(h.signal_words), len(h.matched)))
        brand = hit.term.brand
        spelled = f"'{hit.matched}'" + ("" if hit.exact else f" (a typo of '{hit.term.text}')")
        if hit.signal_words or generic:
            beside = f" with '{', '.join(hit.signal_words)}'" if hit.signal_words else ""
            reason = f"brand {spelled}{beside} as a subdomain of '{label}' in '{host}'"
            return [Signal(W_SUB_IMPERSONATION, "impersonation", reason, brand, "impersonation")]
        if suffix_cheap:
            reason = f"brand {spelled} as a subdomain of '{label}' on a shop-style TLD in '{host}'"
            return [Signal(W_SUB_SUSPICIOUS, "suspicious", reason, brand, "suspicious_domain")]
    return []


def _split_by_dots(host: str, labels: list[str], label: str, book: BrandBook) -> Signal | None:
    """'sam.sung.com', 'n.ike.com': the brand's name cut by a dot, so the eye reads 'samsung.com'
    while the registrable domain is 'sung.com'."""
    for take in (1, 2):
        if len(labels) < take:
            break
        pieces = [*labels[-take:], label.split(".", 1)[0]]
        joined = compact(fold(decode_label("".join(pieces))).text)[0]
        term = book.terms.by_text.get(joined)
        if term and term.strong:
            shown = ".".join(pieces)
            reason = (
                f"'{host}' reads '{joined}' once the dot in '{shown}' is overlooked: the "
                f"{book.brand_name(term.brand)} name cut across labels, on the registrable "
                f"domain '{label}'"
            )
            return Signal(W_SUB_IMPERSONATION, "impersonation", reason, term.brand, "impersonation")
    return None


def _path_like(host: str, labels: list[str], label: str, book: BrandBook) -> Signal | None:
    """A subdomain spelling a brand's domain ('xiaomi.com.', 'mi.com.'): reads as the real site."""
    chain = [*labels, label]
    for i, sub in enumerate(labels):
        shown = fold(decode_label(sub)).text.lower()
        brand = book.official_labels.get(shown)
        term = book.terms.by_text.get(shown)
        term = term if term and term.strong else None
        if not brand and not term:
            continue
        following = chain[i + 1].split(".", 1)[0]
        if following in ("com", "net", "org", "co") or len(following) == 2:
            reason = (
                f"'{host}' starts with '{sub}.{following}' so it reads as the brand's site, but "
                f"the registrable domain is '{label}' (path-like subdomain)"
            )
            owner = brand or term.brand
            return Signal(W_SUB_IMPERSONATION, "impersonation", reason, owner, "impersonation")
    return None


def _registrable(host: str, subdomain: str, label: str) -> str:
    """The registrable domain the subdomain sits on ('sung.com' of 'sam.sung.com')."""
    rest = host[len(subdomain) + 1 :] if host.startswith(subdomain + ".") else ""
    return rest if rest.startswith(label + ".") else label
