"""Shared records that flow between the stages: listings and sellers out of the crawler,
findings out of the detectors. Plain frozen dataclasses, no behaviour beyond conversion."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CONDITIONS = ("new", "used", "refurbished", "unknown")
VERDICTS = ("impersonation", "suspicious", "clean")
FLAGS = (
    "impersonation",
    "suspicious_name",
    "suspicious_domain",
    "price_low",
    "price_high",
    "unauthorized_seller",
    "gray_import",
)


@dataclass(frozen=True)
class Listing:
    """What one fetched page (or one /products.json entry) says about one product offer.

    `price` is a decimal string ("1299.00"), never a float. `currency` is an ISO 4217 code or
    None when the page does not say unambiguously. `field_sources` names the layer that
    produced each field ("json-ld", "microdata", "opengraph", "shopify", "selector", "text").
    `currency_source` says in a sentence what decided the currency ("'¥' read as CNY: the page
    language zh-CN"). `missing` names the contract fields extraction could not find;
    `problems` says what was wrong with the page (malformed JSON-LD, ambiguous currency symbol...)."""

    url: str
    canonical_url: str | None = None
    is_product: bool = False
    title: str | None = None
    price: str | None = None
    currency: str | None = None
    condition: str = "unknown"
    condition_raw: str | None = None
    availability: str | None = None
    brand: str | None = None
    sku: str | None = None
    gtin: str | None = None
    image: str | None = None
    description: str | None = None
    summary: str | None = None  # visible text of the main product block: bullets, notes
    seller: str | None = None
    seller_url: str | None = None
    seller_domain: str | None = None
    currency_source: str | None = None
    category: str | None = None  # schema.org category / additionalType, or the breadcrumb trail
    field_sources: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Seller:
    """A seller or store as its profile page (or storefront) presents it."""

    name: str | None
    url: str | None = None
    domain: str | None = None
    claimed_domain: str | None = None  # a website the seller's page points to; not trusted
    is_seller_page: bool = False
    field_sources: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Finding:
    """A detector's judgement of one subject, with the sentences that justify it."""

    kind: str  # "name" | "domain" | "listing" | "seller"
    subject: str
    brand: str | None
    score: float
    verdict: str  # one of VERDICTS
    reasons: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "input": self.subject,
            "kind": self.kind,
            "brand": self.brand,
            "score": round(self.score, 4),
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "flags": list(self.flags),
        }
