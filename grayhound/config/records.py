"""The records of grayhound.toml (the contract in DESIGN.md): typed, frozen, with the constants
the checks and the rest of the project share. Loading and checking are in `loader` and `check`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from grayhound.errors import ConfigError

DEFAULT_CONFIG = "grayhound.toml"
SOURCE_KINDS = ("marketplace", "storefront", "shopify", "pages")
DIGEST_FORMATS = ("html", "md", "json", "csv")
LANDED_COMPONENTS = ("wholesale", "shipping", "duties_pct", "insurance", "overhead")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# An allowed host: a DNS name or IPv4 address (dot-separated labels, none empty), or an IPv6
# literal in brackets; optionally ":port".
HOST_RE = re.compile(
    r"^(?:(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*"
    r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?$"
)
SERVE_ANONYMOUS = ("none", "read")  # what a visitor who has not signed in may do in serve
SERVE_USER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
# The PBKDF2 format of Django and datasette-auth-passwords: algorithm$iterations$salt$base64
PASSWORD_HASH_RE = re.compile(r"^pbkdf2_sha256\$[1-9][0-9]{3,8}\$[^$\s]{8,}\$[A-Za-z0-9+/]{43}=$")


@dataclass(frozen=True)
class Storage:
    database: Path
    evidence_dir: Path
    cache_dir: Path | None = None  # reports' rendered parts kept between runs (None: none)


@dataclass(frozen=True)
class Brand:
    id: str
    name: str
    terms: tuple[str, ...]
    weak_terms: tuple[str, ...] = ()
    official_domains: tuple[str, ...] = ()
    keep_strong: tuple[str, ...] = ()  # everyday words kept strong on purpose (no warning)


@dataclass(frozen=True)
class Authorized:
    brand: str
    name: str
    domains: tuple[str, ...] = ()
    seller_names: tuple[str, ...] = ()
    seller_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class LandedCost:
    """A distributor's cost per unit: a total, or components that add up to one."""

    total: float
    components: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CatalogModel:
    brand: str
    model: str
    aliases: tuple[str, ...] = ()
    msrp: dict[str, float] = field(default_factory=dict)
    landed_cost: dict[str, LandedCost] = field(default_factory=dict)
    category: str = "phone"
    # MSRP per storage variant ("512GB" → {"USD": 1199.0}); a variant's currencies that are
    # missing fall back to `msrp`.
    variant_msrp: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Pricing:
    low_ratio: float = 0.6
    high_ratio: float = 1.4
    rates: dict[str, float] = field(default_factory=dict)
    used_low_ratio: float = 0.25  # used/refurbished goods are judged on their own terms
    peer_mad_threshold: float = 3.5  # robust z-score beyond which a price is an outlier


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    start_urls: tuple[str, ...]
    allowed_hosts: tuple[str, ...]
    currency: str | None = None
    selectors: dict[str, str] = field(default_factory=dict)
    site_domain: str | None = None  # the public domain of a storefront crawled via loopback
    follow: tuple[str, ...] = ()  # URL regexes to follow (default: every in-host link)
    deny: tuple[str, ...] = ()  # URL regexes never to follow
    max_pages: int = 0  # 0 = no limit
    start_urls_file: Path | None = None  # its URLs are already in start_urls
    render: bool = False  # pages rendered by headless Chromium (scrapy-playwright)


@dataclass(frozen=True)
class Crawl:
    user_agent: str = (
        "grayhound/0.1 (+https://github.com/grayhound/grayhound; brand-protection monitor)"
    )
    obey_robots: bool = True
    concurrency: int = 8
    download_timeout: float = 20.0
    max_download_size: int = 10 * 1024 * 1024
    retries: int = 2
    autothrottle: bool = True
    depth_limit: int = 8
    # Retry-After (429/503) honoured up to this many seconds; a host asking for longer is
    # stopped for the rest of the run, and the crawl records why.
    max_retry_after: float = 120.0


@dataclass(frozen=True)
class Schedule:
    cron: str = "0 6 * * *"
    timezone: str = "UTC"
    misfire_grace_seconds: int = 3600


@dataclass(frozen=True)
class Cluster:
    redis: str | None = None
    worker_timeout: float = 30.0  # seconds without a heartbeat before a worker's pages are requeued


@dataclass(frozen=True)
class Digest:
    formats: tuple[str, ...] = ("html", "md", "json")
    out_dir: Path = Path("digests")
    smtp: dict[str, Any] | None = None
    reopen_price_change: float = 0.05  # a dismissed case returns when its price moves this much


@dataclass(frozen=True)
class Evidence:
    """[evidence]: how bundles are sealed. Without a key a bundle is unsigned; without a TSA it
    carries no trusted time."""

    signing_key: Path | None = None  # Ed25519 private key (PEM) from `evidence keygen`
    tsa_url: str | None = None  # RFC 3161 time-stamping authority
    tsa_ca: Path | None = None  # the TSA's CA certificate (PEM): tokens are checked against it
    tsa_timeout: float = 20.0  # seconds to wait for the TSA


@dataclass(frozen=True)
class Serve:
    host: str = "127.0.0.1"  # loopback: only this machine can reach the triage UI
    port: int = 8088
    anonymous: str = "none"  # none: sign in to see anything; read: visitors read, never write
    users: dict[str, str] = field(default_factory=dict)  # user name -> password hash


@dataclass(frozen=True)
class Config:
    path: Path
    storage: Storage
    brands: dict[str, Brand]
    authorized: tuple[Authorized, ...] = ()
    catalog: tuple[CatalogModel, ...] = ()
    pricing: Pricing = Pricing()
    sources: tuple[Source, ...] = ()
    crawl: Crawl = Crawl()
    schedule: Schedule = Schedule()
    cluster: Cluster = Cluster()
    digest: Digest = Digest()
    evidence: Evidence = Evidence()
    serve: Serve = Serve()
    # The check behind `warnings`, run when they are first read: it loads word lists (~0.2 s)
    # that only the commands judging names and domains show (detect, score); reports skip it.
    term_check: Callable[[], tuple[str, ...]] | None = field(
        default=None, repr=False, compare=False
    )

    @cached_property
    def warnings(self) -> tuple[str, ...]:
        """One line each, 'file:line: key: message'; never fatal."""
        return self.term_check() if self.term_check else ()

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"{self.path}: no source named {name!r} (known: {known})")


SELECTOR_FIELDS = (
    "title",
    "price",
    "currency",
    "seller",
    "seller_url",
    "condition",
    "brand",
    "sku",
    "availability",
)


def landed_total(parts: dict[str, float]) -> float:
    """wholesale + shipping + wholesale × duties + insurance + overhead.

    `duties_pct` is a percentage of wholesale: 8 means 8 %. A value below 1 is read as a
    fraction (0.08 means 8 %): both spellings are common in spreadsheets, and a duty rate of
    less than one percent written as 0.x is far rarer than a fraction."""
    wholesale = parts.get("wholesale", 0.0)
    duties = parts.get("duties_pct", 0.0)
    rate = duties if duties < 1 else duties / 100
    return round(
        wholesale
        + parts.get("shipping", 0.0)
        + wholesale * rate
        + parts.get("insurance", 0.0)
        + parts.get("overhead", 0.0),
        4,
    )


def storage_key(text: object) -> str | None:
    """A storage size as catalogs and titles write it ("512 gb", "1TB", "1024GB") in one form:
    "512GB", "1TB"; None when it is not one."""
    if not isinstance(text, str):
        return None
    found = re.fullmatch(r"\s*(\d{1,5})\s*(gb|tb|g|t)\s*", text, re.IGNORECASE)
    if not found:
        return None
    size = int(found.group(1)) * (1024 if found.group(2).lower().startswith("t") else 1)
    if size <= 0:
        return None
    return f"{size // 1024}TB" if size % 1024 == 0 else f"{size}GB"
