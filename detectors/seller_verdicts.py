"""The seller verdict: who a seller says it is (`assess_seller`) and what it sells (its
listings' judgements, counted), in one verdict of `SELLER_VERDICTS` with a score and the
sentences that justify it. Each seller is judged on its own evidence: its network is named in
the reasons (a note for the analyst), never counted against it.

- impersonation: its names or domains present it as the brand (suspected counterfeits from it
  are counted in the reasons);
- suspicious: brand words in its name or domains, or far-below-MSRP new goods (possible
  counterfeits);
- unauthorized (informational): it resells a brand's new goods without that brand's
  authorization; gray imports and scalper prices raise its score but not its verdict;
- authorized: every brand it sells new, it is authorized for;
- clean: none of the above (used goods, accessories, other brands).

`seller_sales(assessments, brands_entitled)` counts a seller's listings; `seller_verdict(...)`
judges. Pure: no store, no network."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from detectors.book import BrandBook
from detectors.risk import SUSPICIOUS_AT, noisy_or
from grayhound.models import Finding

# What each kind of listing adds to an unauthorized reseller's (informational) score.
W_UNAUTHORIZED = 0.1  # reselling genuine goods is legal in many markets
W_GRAY = 0.12  # per gray-import listing: goods materially different from the local ones
W_SCALPER = 0.06  # per listing far above MSRP
UNAUTHORIZED_TOP = SUSPICIOUS_AT - 0.01  # informational stays below 'suspicious'
# Far-below-MSRP new goods: this many listings, or this share of its priced new goods.
LOW_PRICE_LISTINGS = 2
LOW_PRICE_SHARE = 0.5
W_LOW_PRICE = 0.5
_RANK = {v: i for i, v in enumerate(("clean", "authorized", "unauthorized", "suspicious"))}
_RANK["impersonation"] = 4


@dataclass
class SellerSales:
    """What a seller's listings came to: counts by judgement, brands, the worst prices."""

    listings: int = 0
    flags: dict[str, int] = field(default_factory=dict)
    counterfeits: int = 0  # "suspected/possible counterfeit" listings
    priced_new: int = 0  # new, non-accessory listings of a catalog brand with a price ratio
    lowest_ratio: float | None = None
    brands: set[str] = field(default_factory=set)  # brands of its new goods
    unauthorized_brands: dict[str, int] = field(default_factory=dict)
    gray_examples: list[str] = field(default_factory=list)


def seller_sales(assessments: Iterable) -> SellerSales:
    """Count one seller's listing assessments (`detectors.listings.ListingAssessment`)."""
    sales = SellerSales()
    for item in assessments:
        sales.listings += 1
        for flag in item.flags:
            sales.flags[flag] = sales.flags.get(flag, 0) + 1
        if any("counterfeit" in reason for reason in item.reasons):
            sales.counterfeits += 1
        new_goods = item.brand and not item.is_accessory and item.condition in ("new", "unknown")
        if new_goods:
            sales.brands.add(item.brand)
            if item.price_ratio is not None and item.condition == "new":
                sales.priced_new += 1
                if sales.lowest_ratio is None or item.price_ratio < sales.lowest_ratio:
                    sales.lowest_ratio = item.price_ratio
        if "unauthorized_seller" in item.flags and item.brand:
            count = sales.unauthorized_brands.get(item.brand, 0)
            sales.unauthorized_brands[item.brand] = count + 1
        if "gray_import" in item.flags and len(sales.gray_examples) < 2 and item.model:
            sales.gray_examples.append(item.model)
    return sales


def seller_verdict(
    identity: Finding,
    sales: SellerSales,
    book: BrandBook,
    label: str,
    *,
    entitled: bool = False,
    network_peers: Mapping[str, str] | None = None,
) -> Finding:
    """One verdict for the seller. `identity` is `assess_seller`'s finding, `entitled` whether
    the allowlist names it (official or authorized for some brand); `network_peers` names the
    other sellers of its network with their identity verdicts ({name: verdict})."""
    reasons: list[str] = []
    weights: list[float] = []
    flags = dict.fromkeys(identity.flags)
    verdict = identity.verdict if identity.verdict != "clean" else "clean"
    if verdict != "clean":
        reasons.extend(identity.reasons)
        weights.append(identity.score)
    low = sales.flags.get("price_low", 0)
    if sales.counterfeits:
        reasons.append(
            f"{sales.counterfeits} of its listings are suspected counterfeits (new flagships far"
            f" below MSRP{_lowest(sales)})"
        )
        weights.append(0.6)
    elif low and (low >= LOW_PRICE_LISTINGS or low >= LOW_PRICE_SHARE * max(sales.priced_new, 1)):
        reasons.append(
            f"{low} of its {sales.priced_new} priced new listings are far below MSRP"
            f"{_lowest(sales)}: possible counterfeits"
        )
        weights.append(W_LOW_PRICE)
        verdict = _worse(verdict, "suspicious")
        flags["price_low"] = None
    tied = _network_reason(network_peers or {})
    verdict, score = _resale(verdict, sales, book, entitled, reasons, weights, flags)
    if not reasons:
        reasons = list(identity.reasons) or [f"seller '{label}' presents no brand"]
    if tied:  # a note for the analyst: each seller is judged on its own evidence
        reasons.append(tied)
    return Finding("seller", identity.subject, identity.brand, score, verdict, tuple(reasons),
                   tuple(flags))  # fmt: skip


def _resale(verdict, sales: SellerSales, book: BrandBook, entitled, reasons, weights, flags):
    """The informational part: unauthorized resale, gray imports, scalper prices; an
    authorized seller is 'authorized' when nothing else was found."""
    for brand, count in sorted(sales.unauthorized_brands.items()):
        name = book.brand_name(brand)
        reasons.append(
            f"resells new {name} goods without {name}'s authorization"
            f" ({count} listing{'s' * (count != 1)})"
        )
        flags["unauthorized_seller"] = None
    gray, high = sales.flags.get("gray_import", 0), sales.flags.get("price_high", 0)
    if gray:
        shown = f" ({', '.join(sales.gray_examples)})" if sales.gray_examples else ""
        reasons.append(f"{gray} listing{'s say' if gray != 1 else ' says'} gray import{shown}")
        flags["gray_import"] = None
    if high:
        reasons.append(f"{high} listing{'s' * (high != 1)} far above MSRP (scalper prices)")
        flags["price_high"] = None
    if verdict in ("impersonation", "suspicious"):
        return verdict, _score(verdict, weights)
    if sales.unauthorized_brands:
        informational = noisy_or(
            [W_UNAUTHORIZED] + [W_GRAY] * gray + [W_SCALPER] * high
        )  # fmt: skip
        return "unauthorized", round(min(informational, UNAUTHORIZED_TOP), 4)
    if entitled:
        return "authorized", 0.0
    if gray or high:
        return "clean", round(noisy_or([W_GRAY] * gray + [W_SCALPER] * high), 4)
    return "clean", 0.0


def _score(verdict: str, weights: list[float]) -> float:
    floor = {"impersonation": 0.7, "suspicious": SUSPICIOUS_AT}[verdict]
    top = {"impersonation": 1.0, "suspicious": 0.69}[verdict]
    return round(min(max(noisy_or(weights), floor), top), 4)


def _network_reason(peers: Mapping[str, str]) -> str | None:
    """A note naming the impersonators the seller shares strong signals with."""
    bad = sorted(name for name, verdict in peers.items() if verdict == "impersonation")
    if not bad:
        return None
    shown = ", ".join(f"'{name}'" for name in bad[:3]) + (" and others" if len(bad) > 3 else "")
    plural = "s" * (len(bad) > 1)
    return f"shares strong signals with impersonating seller{plural} {shown} (same network)"


def _lowest(sales: SellerSales) -> str:
    return f", down to {sales.lowest_ratio:.0%} of MSRP" if sales.lowest_ratio else ""


def _worse(a: str, b: str) -> str:
    return a if _RANK[a] >= _RANK[b] else b


def verdict_rank(verdict: str | None) -> int:
    return _RANK.get(verdict or "clean", 0)
