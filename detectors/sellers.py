"""Sellers judged as a whole: their display name, their own domain and the domain they claim.
`assess_sellers(sellers, book) -> list[Finding]` (kind "seller", subject = seller key)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from detectors.book import BrandBook
from detectors.domains import host_of, score_domain
from detectors.names import score_name
from detectors.risk import Signal, finding
from grayhound.models import Finding

# A seller page claiming an official domain it is not served from: unverifiable, so a hint.
W_CLAIMED_OFFICIAL = 0.45


@dataclass(frozen=True)
class SellerFacts:
    key: str
    name: str | None = None
    domain: str | None = None
    claimed_domain: str | None = None  # a website the seller's page points to; not trusted
    source: str | None = None


def assess_sellers(sellers: Iterable[SellerFacts], book: BrandBook) -> list[Finding]:
    return [assess_seller(seller, book) for seller in sellers]


def assess_seller(seller: SellerFacts, book: BrandBook) -> Finding:
    label = seller.name or seller.domain or seller.key
    owner = _entitled(seller, book)
    if owner:
        reason = f"seller '{label}' is {owner.describe()} (matched '{owner.via}')"
        return finding("seller", seller.key, [], brand=owner.brand, clean_reason=reason)
    signals: list[Signal] = []
    if seller.name:
        signals.extend(_from(score_name(seller.name, book), "suspicious_name", "name"))
    if seller.domain:
        signals.extend(_from(score_domain(seller.domain, book), "suspicious_domain", "domain"))
    if seller.claimed_domain:
        signals.extend(_claimed(seller, book))
    impersonating = any(s.verdict == "impersonation" for s in signals)
    return finding(
        "seller",
        seller.key,
        signals,
        clean_reason=f"seller '{label}' presents no brand",
        extra_flags=("impersonation",) if impersonating else (),
    )


def _entitled(seller: SellerFacts, book: BrandBook):
    """An authorized name, or an own domain that is official or authorized: clean always."""
    owners = book.allowlist.name_owners(seller.name)
    if not owners and seller.domain:
        owners = book.allowlist.domain_owners(host_of(seller.domain))
    return owners[0] if owners else None


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


def _claimed(seller: SellerFacts, book: BrandBook) -> list[Signal]:
    host = host_of(seller.claimed_domain or "")
    owners = book.allowlist.domain_owners(host)
    if owners:
        owner = owners[0]
        reason = (
            f"claimed website '{host}' is {owner.describe()}, but the seller is not served from "
            "it: the claim cannot be verified"
        )
        return [Signal(W_CLAIMED_OFFICIAL, "suspicious", reason, owner.brand, "suspicious_domain")]
    return _from(score_domain(host, book), "suspicious_domain", "claimed website")
