"""Listings judged in a batch: model, accessory and condition from the title, price against MSRP
and against peers, seller risk, authorization and gray-import wording, combined into one risk.
`assess_listings(listings, book, seller_findings=None) -> list[ListingAssessment]`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from detectors._data import GRAY_IMPORT_PHRASES
from detectors.book import BrandBook
from detectors.catalog import TitleReading, TitleWords, read_title, read_title_words
from detectors.phrases import Phrases
from detectors.prices import Goods, PriceCheck, check_price, peer_outliers
from detectors.risk import Signal, finding
from detectors.sellers import SellerFacts, assess_seller
from grayhound.models import FLAGS, Finding

# Selling the brand's new goods without authorization is legal in many markets: a note.
W_UNAUTHORIZED = 0.1
# The text itself says the goods differ from the local market's (warranty, version, plug).
W_GRAY_IMPORT = 0.45
# A flagship far under MSRP from a seller impersonating the brand: the counterfeit pattern.
W_COUNTERFEIT = 0.92
W_COUNTERFEIT_SUSPICIOUS = 0.6

_GRAY = Phrases(r"(?<![\w])({})(?![\w])", GRAY_IMPORT_PHRASES)


@dataclass(frozen=True)
class ListingFacts:
    id: str
    title: str
    price: str | None = None  # decimal string
    currency: str | None = None
    condition: str = "unknown"  # new | used | refurbished | unknown, from extraction
    description: str | None = None
    brand: str | None = None
    seller_key: str | None = None
    seller_name: str | None = None
    seller_domain: str | None = None
    source: str | None = None
    category: str | None = None  # category, additionalType or breadcrumbs, where the page has them


@dataclass(frozen=True)
class ListingAssessment:
    id: str
    brand: str | None
    model: str | None
    msrp: float | None
    msrp_currency: str | None
    price_ratio: float | None
    is_accessory: bool
    condition: str
    flags: tuple[str, ...]
    risk: float
    verdict: str
    reasons: tuple[str, ...]
    model_reason: str = ""  # which catalog tokens the title has, or why no model fits
    attributes: dict = field(default_factory=dict)  # storage, RAM, colour, network, SIM, region
    kind: str = "device"  # device | accessory | part | packaging | dummy | service

    def to_dict(self) -> dict:
        return asdict(self)


def assess_listings(
    listings: Sequence[ListingFacts],
    book: BrandBook,
    seller_findings: Mapping[str, Finding] | None = None,
) -> list[ListingAssessment]:
    """Every listing judged at once: its title and price, its price against its peers (the
    others of the same model and condition in `listings`), its seller."""
    readings = [listing_reading(f, book) for f in listings]
    checks = [listing_price(f, r, book) for f, r in zip(listings, readings, strict=True)]
    groups: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for i, (reading, check) in enumerate(zip(readings, checks, strict=True)):
        key = peer_group(reading, check)
        if key is not None:
            groups.setdefault(key, []).append((i, check.ratio))
    peers = peer_outliers(groups, book.pricing.peer_mad_threshold)
    sellers = dict(seller_findings or {})
    out = []
    for i, facts in enumerate(listings):
        seller = listing_seller(facts, book, sellers)
        out.append(assess_listing(facts, readings[i], checks[i], peers.get(i), seller, book))
    return out


def listing_reading(facts: ListingFacts, book: BrandBook) -> TitleReading:
    """What the title says: model, kind of goods, condition, attributes (the costly part)."""
    return read_title(
        book.catalog,
        facts.title or "",
        facts.condition,
        facts.description,
        book.brand_id(facts.brand),
        facts.category,
    )


def listing_title_words(facts: ListingFacts, book: BrandBook) -> TitleWords:
    """What the title alone says (with the listing's brand and category): the costly part of
    `listing_reading`, the same for every listing with that title, brand and category
    (`detectors.catalog.reading_of` adds the listing's condition and description)."""
    return read_title_words(
        book.catalog, facts.title or "", book.brand_id(facts.brand), facts.category
    )


def listing_price(facts: ListingFacts, reading: TitleReading, book: BrandBook) -> PriceCheck:
    return check_price(facts.price, facts.currency, _goods(reading), reading.model, book.pricing)


def peer_group(reading: TitleReading, check: PriceCheck) -> tuple[str, str] | None:
    """The peers a listing's price is compared with: (model, condition), or None when its
    price is not compared (no model, not the device itself, no MSRP ratio)."""
    if reading.model and not reading.is_accessory and check.ratio is not None:
        return (reading.model.model, reading.condition)
    return None


def _goods(reading: TitleReading) -> Goods:
    return Goods(reading.condition, reading.kind, reading.storage, reading.broken)


def listing_seller(facts: ListingFacts, book: BrandBook, known: dict) -> Finding | None:
    """The finding of the listing's seller: the judged seller's (`known`, by seller key), else
    one judged from what the listing says of its seller (remembered in `known`)."""
    if facts.seller_key is not None and facts.seller_key in known:
        return known[facts.seller_key]
    if not (facts.seller_key or facts.seller_name or facts.seller_domain):
        return None
    key = (facts.seller_key, facts.seller_name, facts.seller_domain, facts.source)
    if key not in known:
        label = facts.seller_key or facts.seller_name or facts.seller_domain
        seller = SellerFacts(label, facts.seller_name, facts.seller_domain, None, facts.source)
        known[key] = assess_seller(seller, book)
    return known[key]


def _brand_of(facts: ListingFacts, reading: TitleReading, book: BrandBook) -> str | None:
    if reading.model:
        return reading.model.brand
    if book.brand_id(facts.brand):
        return book.brand_id(facts.brand)
    hits = [h for h in book.terms.find(facts.title or "") if h.term.strong and h.exact]
    return hits[0].term.brand if hits else None


def assess_listing(
    facts: ListingFacts,
    reading: TitleReading,
    check: PriceCheck,
    peer: Signal | None,
    seller: Finding | None,
    book: BrandBook,
) -> ListingAssessment:
    """One listing's judgement from its reading, its price check, its peer signal (from
    `peer_outliers`) and its seller's finding."""
    brand = _brand_of(facts, reading, book)
    signals = [*check.signals]
    if peer is not None:
        signals.append(Signal(peer.weight, peer.verdict, peer.reason, brand, peer.flag))
    if seller is not None and seller.verdict != "clean":
        signals.extend(_seller_signals(seller))
    signals.extend(_counterfeit(reading, check, seller))
    if brand and not reading.is_accessory:
        signals.extend(_unauthorized(facts, reading, brand, book))
        signals.extend(_gray_import(facts))
    notes = [Signal(0.0, "clean", n) for n in (*reading.reasons, *check.notes)]
    result = finding("listing", facts.id, signals + notes, brand=brand)
    flags = tuple(f for f in FLAGS if f in result.flags)
    return ListingAssessment(
        id=facts.id,
        brand=brand,
        model=reading.model.model if reading.model else None,
        msrp=check.msrp,
        msrp_currency=check.msrp_currency,
        price_ratio=check.ratio,
        is_accessory=reading.is_accessory,
        condition=reading.condition,
        flags=flags,
        risk=result.score,
        verdict=result.verdict,
        reasons=result.reasons,
        model_reason=reading.model_reason,
        attributes=dict(reading.attributes),
        kind=reading.kind,
    )


def _seller_signals(seller: Finding) -> list[Signal]:
    reason = f"seller {seller.reasons[0]}" if seller.reasons else "seller flagged"
    first = Signal(seller.score, seller.verdict, reason, seller.brand)
    return [first, *(Signal(0.0, "clean", "", None, flag) for flag in seller.flags)]


def _counterfeit(reading: TitleReading, check: PriceCheck, seller: Finding | None):
    low = any(s.flag == "price_low" for s in check.signals)
    if not low or reading.model is None or seller is None or seller.verdict == "clean":
        return []
    model = reading.model.model
    if seller.verdict == "impersonation":
        reason = (
            f"suspected counterfeit: {model} at {check.ratio:.0%} of MSRP from a seller "
            "impersonating the brand"
        )
        return [Signal(W_COUNTERFEIT, "impersonation", reason, reading.model.brand)]
    reason = f"possible counterfeit: {model} at {check.ratio:.0%} of MSRP from a suspicious seller"
    return [Signal(W_COUNTERFEIT_SUSPICIOUS, "suspicious", reason, reading.model.brand)]


def _unauthorized(facts: ListingFacts, reading: TitleReading, brand: str, book: BrandBook):
    if reading.condition not in ("new", "unknown"):
        return []
    if not (facts.seller_name or facts.seller_domain):
        return []
    domains = (facts.seller_domain,)
    if book.allowlist.entitled(brand, name=facts.seller_name, domains=domains):
        return []
    who = facts.seller_name or facts.seller_domain
    name = book.brand_name(brand)
    state = "new" if reading.condition == "new" else "new (condition unstated)"
    reason = (
        f"seller '{who}' offers {state} {name} goods but is neither official nor an "
        f"authorized {name} reseller"
    )
    return [Signal(W_UNAUTHORIZED, "clean", reason, brand, "unauthorized_seller")]


def _gray_import(facts: ListingFacts) -> list[Signal]:
    for field_name, text in (("title", facts.title), ("description", facts.description)):
        text = text or ""
        found = _GRAY.search(text)
        if found:
            reason = (
                f"the {field_name} says '{text[found[0] : found[1]]}': goods materially different from "
                "those sold for this market (gray import)"
            )
            return [Signal(W_GRAY_IMPORT, "suspicious", reason, None, "gray_import")]
    return []
