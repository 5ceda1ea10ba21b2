"""Shared records that flow between the stages: listings and sellers out of the crawler,
findings out of the detectors. Plain frozen dataclasses, no behaviour beyond conversion."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CONDITIONS = ("new", "used", "refurbished", "unknown")
VERDICTS = ("impersonation", "suspicious", "clean")
# The seller verdict (a seller judged on all its evidence); `unauthorized` is informational: it
# resells the brand's goods without authorization and nothing worse was found.
SELLER_VERDICTS = ("impersonation", "suspicious", "unauthorized", "authorized", "clean")
# What names a seller, as (kind, value, via) triples: `via` says where it was read ("profile
# JSON-LD Organization.sameAs", "/meta.json domain"). Strong kinds make two records one seller;
# the others attach a reference that has no strong identity of its own, or tie a network.
IDENTIFIER_KINDS = (
    "profile",  # the seller's profile URL on the marketplace (canonical)
    "ld_id",  # a JSON-LD @id naming the seller
    "site",  # a storefront crawled as a source: its origin host
    "website",  # a website the seller names as its own (host, without www.)
    "shop_domain",  # a storefront's public domain (/meta.json domain, site_domain)
    "myshopify",  # a Shopify shop's myshopify.com domain
    "name",  # a display name
    "same_as",  # a social or other profile URL it links as itself
    "phone",
    "email",
    "address",
    "company_id",  # a company registration, VAT or tax number
    "legal_name",  # the registered company behind it
    "seller_url",  # a seller URL a page gave, not yet told apart (the spider classifies it)
)
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
class Offer:
    """One seller's offer on a page that shows several: a marketplace's buy box and its "other
    sellers", an AggregateOffer's offers, a comparison site's shop list. `source` names the
    layer it was read from; `buy_box` marks the offer the page itself presents as its own (its
    `seller` is None when the page names none: the site's own offer). `currency_source` says
    what decided this offer's currency, as `Listing.currency_source` does."""

    seller: str | None
    price: str | None
    currency: str | None
    condition: str = "unknown"
    seller_url: str | None = None
    availability: str | None = None
    source: str = ""
    buy_box: bool = False
    currency_source: str | None = None


@dataclass(frozen=True)
class Listing:
    """What one fetched page (or one /products.json entry) says about one product offer.

    `price` is a decimal string ("1299.00"), never a float. `currency` is an ISO 4217 code or
    None when the page does not say unambiguously. `field_sources` names the layer that
    produced each field ("json-ld", "microdata", "opengraph", "shopify", "selector", "text").
    `currency_source` says in a sentence what decided the currency ("'¥' read as CNY: the page
    language zh-CN"). `missing` names the contract fields extraction could not find;
    `problems` says what was wrong with the page (malformed JSON-LD, ambiguous currency symbol...).

    `product_reason` says why the page was (or was not) taken for one product on offer; the
    deciding signal is `field_sources["is_product"]`. `offers` lists every seller's offer when
    the page shows several (empty otherwise); a listing made from one of them carries its
    `offer_key`, so the page's URL plus the key is that offer's identity ("" for the page's own
    offer)."""

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
    # everything the page says about who sells: (kind, value, via), see IDENTIFIER_KINDS
    seller_identifiers: tuple[tuple[str, str, str], ...] = ()
    currency_source: str | None = None
    category: str | None = None  # schema.org category / additionalType, or the breadcrumb trail
    field_sources: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    product_reason: str | None = None
    offers: tuple[Offer, ...] = ()
    offer_key: str = ""

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
    # every name, URL, domain and contact the page gives for the seller: (kind, value, via)
    identifiers: tuple[tuple[str, str, str], ...] = ()
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
