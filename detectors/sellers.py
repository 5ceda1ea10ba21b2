"""Sellers judged as a whole.

`assess_seller(s)` judges who a seller says it is: every name it was seen under, its own
domains and every website it claims (a TLD swap or typo of the brand's domain is
impersonation), the allowlist first. `seller_verdict` then adds what it sells (counts of
suspected counterfeits, gray imports, scalper and far-below-MSRP prices, the brands it sells
and whether it is authorized for them) and the network it belongs to, into one verdict of
`SELLER_VERDICTS`: impersonation | suspicious | unauthorized | authorized | clean.
`unauthorized` is informational: it resells a brand's goods without that brand's authorization
and nothing worse was found."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from detectors.book import BrandBook, split_host
from detectors.domains import host_of, score_domain
from detectors.names import score_name
from detectors.risk import Signal, finding
from grayhound.models import Finding

# A seller page claiming an official domain it is not served from: unverifiable, so a hint.
W_CLAIMED_OFFICIAL = 0.45
# A seller claiming the brand's name on a domain the brand does not list: it poses as the brand.
W_CLAIMED_BRAND_DOMAIN = 0.9


@dataclass(frozen=True)
class SellerFacts:
    key: str
    name: str | None = None
    domain: str | None = None
    claimed_domain: str | None = None  # a website the seller's page points to; not trusted
    source: str | None = None
    names: tuple[str, ...] = ()  # every other name it was seen under (aliases)
    domains: tuple[str, ...] = ()  # every other domain it operates (a shop's public domains)
    claimed_domains: tuple[str, ...] = ()  # every other website it names as its own

    def all_names(self) -> list[str]:
        return list(dict.fromkeys(n for n in (self.name, *self.names) if n))

    def all_domains(self) -> list[str]:
        return list(dict.fromkeys(d for d in (self.domain, *self.domains) if d))

    def all_claimed(self) -> list[str]:
        own = set(self.all_domains())
        found = (self.claimed_domain, *self.claimed_domains)
        return list(dict.fromkeys(d for d in found if d and d not in own))


def assess_sellers(sellers: Iterable[SellerFacts], book: BrandBook) -> list[Finding]:
    return [assess_seller(seller, book) for seller in sellers]


def assess_seller(seller: SellerFacts, book: BrandBook) -> Finding:
    """Who the seller says it is: its names, own domains and claimed websites."""
    label = seller.name or seller.domain or seller.key
    owner = _entitled(seller, book)
    if owner:
        reason = f"seller '{label}' is {owner.describe()} (matched '{owner.via}')"
        return finding("seller", seller.key, [], brand=owner.brand, clean_reason=reason)
    signals: list[Signal] = []
    for name in seller.all_names():
        what = "name" if name == label else f"also named '{name}'"
        signals.extend(_from(score_name(name, book), "suspicious_name", what))
    for domain in seller.all_domains():
        signals.extend(_from(score_domain(domain, book), "suspicious_domain", "domain"))
    for claimed in seller.all_claimed():
        signals.extend(_claimed(claimed, book))
    impersonating = any(s.verdict == "impersonation" for s in signals)
    return finding(
        "seller",
        seller.key,
        signals,
        clean_reason=f"seller '{label}' presents no brand",
        extra_flags=("impersonation",) if impersonating else (),
    )


def entitled(seller: SellerFacts, book: BrandBook) -> bool:
    """Whether the allowlist names the seller: official, or an authorized reseller."""
    return _entitled(seller, book) is not None


def _entitled(seller: SellerFacts, book: BrandBook):
    """An authorized name, or an own domain that is official or authorized: clean always."""
    owners = book.allowlist.name_owners(seller.name)
    for domain in seller.all_domains():
        owners = owners or book.allowlist.domain_owners(host_of(domain))
    return owners[0] if owners else None


def _brand_label(host: str, book: BrandBook) -> str | None:
    """The brand whose official label or strong term is this host's whole registrable label
    ('xiaomi.com.co', 'mi.shop'): the domain reads as the brand's own."""
    if not host or "." not in host:
        return None
    _, label, _ = split_host(host)
    term = book.terms.by_text.get(label)
    return book.official_labels.get(label) or (term.brand if term and term.strong else None)


def _from(component: Finding, flag: str, what: str) -> list[Signal]:
    if component.verdict == "clean":
        return []
    first = Signal(
        component.score,
        component.verdict,
        f"{what}: {component.reasons[0]}" if component.reasons else what,
        component.brand,
        flag,
    )
    extra = [Signal(0.0, "clean", f"{what}: {r}", component.brand) for r in component.reasons[1:]]
    return [first, *extra]


def _claimed(claimed: str, book: BrandBook) -> list[Signal]:
    """A website the seller names as its own. The brand's official one: a claim that cannot be
    verified (suspicious). One that reads as the brand's own but is not in its official list
    (the brand's name on another TLD or country domain): the seller presents itself as the
    brand, whoever owns that domain (impersonation). Anything else: the domain detector."""
    host = host_of(claimed or "")
    own = _brand_label(host, book)
    if own and not book.allowlist.domain_owners(host):
        name = book.brand_name(own)
        reason = (
            f"claimed website '{host}' reads as {name}'s own domain but is not among its official"
            f" domains: the seller presents itself as {name}"
        )
        return [Signal(W_CLAIMED_BRAND_DOMAIN, "impersonation", reason, own, "impersonation"),
                Signal(0.0, "clean", "", own, "suspicious_domain")]  # fmt: skip
    owners = book.allowlist.domain_owners(host)
    if owners:
        owner = owners[0]
        reason = (
            f"claimed website '{host}' is {owner.describe()}, but the seller is not served from "
            "it: the claim cannot be verified"
        )
        return [Signal(W_CLAIMED_OFFICIAL, "suspicious", reason, owner.brand, "suspicious_domain")]
    return _from(score_domain(host, book), "suspicious_domain", "claimed website")
