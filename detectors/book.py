"""BrandBook: everything the detectors need from the config, computed once — normalised terms,
typo variant tables, allowlists and the catalog index — so scoring an input is lookups."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import tldextract

from detectors.allowlist import Allowlist, name_key
from detectors.catalog import CatalogIndex
from detectors.normalize import compact, fold
from detectors.scripts import family
from detectors.terms import Term, TermIndex
from grayhound.config import Brand, Config, Pricing

# The public-suffix snapshot tldextract ships: no network, no delay (see STYLE.md).
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=())
# The same snapshot with its private section: suffixes under which a hosting platform hands out
# sites ('myshopify.com', 'blogspot.com', 'netlify.app').
_EXTRACT_PRIVATE = tldextract.TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)


# A host split without tldextract when not flat: lowercase ASCII labels, none of them empty.
_PLAIN_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)+")
# Full stops tldextract reads as dots ('xiaomi。com'): a host with one goes to tldextract.
_WIDE_DOTS = frozenset("\u3002\uff0e\uff61")


class _SuffixRules(NamedTuple):
    """The public-suffix rules, by what a host's last two labels tell of its suffix."""

    flat: frozenset[str]  # 'com', 'shop': no deeper rule, the suffix is the last label
    open: frozenset[str]  # 'uk', 'io': deeper rules, but no wildcard ('*.ck') right under it
    tails: frozenset[str]  # 'co.uk', 'sch.uk': the last two labels of every deeper rule
    closed: frozenset[str]  # 'co.uk', 'com.io': two-label rules with nothing deeper under them


def _rules_of(extract: tldextract.TLDExtract) -> frozenset[str]:
    """The suffix rules a TLDExtract holds (`tlds` is a property or a method by version)."""
    rules = extract.tlds
    return frozenset(rules() if callable(rules) else rules)


@lru_cache(maxsize=1)
def _suffix_rules() -> _SuffixRules:
    rules = _rules_of(_EXTRACT)
    parents = {rule.split(".", i)[-1] for rule in rules for i in range(1, rule.count(".") + 1)}
    single = {rule for rule in rules if "." not in rule}
    return _SuffixRules(
        flat=frozenset(single - parents),
        open=frozenset(t for t in single & parents if f"*.{t}" not in rules),
        tails=frozenset(".".join(rule.split(".")[-2:]) for rule in rules if "." in rule),
        closed=frozenset(
            rule
            for rule in rules
            if rule.count(".") == 1 and rule[0] not in "*!" and rule not in parents
        ),
    )


@lru_cache(maxsize=1 << 16)
def split_host(host: str) -> tuple[str, str, str]:
    """(subdomain, registrable label, public suffix) of a lowercase host.

    Most hosts are split here by their last two labels, as tldextract's walk down the public
    suffix rules would ('shop.com', 'xіaomі.com', 'shop.co.uk', 'shop.io'); the rest
    (wildcard rules, punycode, anything unusual) go to tldextract."""
    head, dot, tld = host.rpartition(".")
    if dot and head and (host.isascii() or _WIDE_DOTS.isdisjoint(host)):
        rules = _suffix_rules()
        if tld in rules.flat:
            subdomain, _, label = head.rpartition(".")
            return subdomain, label, tld
        if tld in rules.open and _PLAIN_HOST.fullmatch(host):
            rest, _, second = head.rpartition(".")
            pair = f"{second}.{tld}"
            if pair in rules.closed:  # 'shop.co.uk'
                subdomain, _, label = rest.rpartition(".")
                return subdomain, label, pair
            if pair not in rules.tails and not second.startswith("xn--"):  # 'shop.io'
                return rest, second, tld
    parts = _EXTRACT(host)
    return parts.subdomain, parts.domain, parts.suffix


@lru_cache(maxsize=1)
def _platform_suffixes() -> frozenset[str]:
    """Private public-suffix rules without wildcards: hosting platforms' site suffixes."""
    public = _rules_of(_EXTRACT)
    return frozenset(r for r in _rules_of(_EXTRACT_PRIVATE) if r not in public and "*" not in r)


def is_platform_suffix(suffix: str) -> bool:
    return "." in suffix and suffix in _platform_suffixes()


def hosted_site(subdomain: str, label: str, suffix: str) -> tuple[str, str, str] | None:
    """(subdomain, site label, platform suffix) when the host is a site on a hosting platform.

    'xiaomi-store.myshopify.com' is Shopify's domain by the public suffixes, but the store's own
    name is 'xiaomi-store': on a platform the site label is what its owner chose and registered."""
    if not subdomain:
        return None
    platforms = _platform_suffixes()
    chain = [*subdomain.split("."), label]
    for i in range(1, len(chain)):
        platform = ".".join([*chain[i:], suffix])
        if platform in platforms:
            return ".".join(chain[: i - 1]), chain[i - 1], platform
    return None


def _term_text(text: str) -> str:
    """A Latin term's compact ASCII form; '' for a name in another script ('小米')."""
    if any(family(char) != "latin" for char in text if char.isalpha()):
        return ""
    return compact(fold(text).text)[0]


@dataclass
class BrandBook:
    config: Config
    brands: dict[str, Brand]
    allowlist: Allowlist
    terms: TermIndex
    catalog: CatalogIndex
    pricing: Pricing
    official_labels: dict[str, str]  # 'mi' → 'xiaomi': labels of official domains
    official_hyphenated: dict[str, tuple[str, str]]  # 'mi-com' → ('mi.com', 'xiaomi')
    brand_keys: dict[str, str]  # brand names and terms (name_key form) → brand id

    @classmethod
    def from_config(cls, config: Config) -> BrandBook:
        official_labels: dict[str, str] = {}
        official_hyphenated: dict[str, tuple[str, str]] = {}
        for brand in config.brands.values():
            for domain in brand.official_domains:
                label = split_host(domain.lower())[1]
                official_labels.setdefault(label, brand.id)
                hyphenated = domain.lower().replace(".", "-")
                official_hyphenated.setdefault(hyphenated, (domain.lower(), brand.id))
        terms = _build_terms(config, official_labels)
        model_words = _model_words(config, frozenset(t.text for t in terms))
        brand_keys: dict[str, str] = {}
        for brand in config.brands.values():
            for text in (brand.id, brand.name, *brand.terms):
                brand_keys.setdefault(name_key(text), brand.id)
        return cls(
            config=config,
            brands=dict(config.brands),
            allowlist=Allowlist(config),
            terms=TermIndex(terms, model_words),
            catalog=CatalogIndex(config.catalog, config.brands),
            pricing=config.pricing,
            official_labels=official_labels,
            official_hyphenated=official_hyphenated,
            brand_keys=brand_keys,
        )

    def brand_id(self, text: str | None) -> str | None:
        """'Xiaomi', 'XIAOMI', 'Redmi' → 'xiaomi'; unknown brands → None."""
        return self.brand_keys.get(name_key(text)) if text else None

    def brand_name(self, brand_id: str | None) -> str:
        brand = self.brands.get(brand_id or "")
        return brand.name if brand else str(brand_id)


def _build_terms(config: Config, official_labels: dict[str, str]) -> list[Term]:
    """Strong terms, official-domain labels (strong unless a weak term) and weak terms.

    A term that does not fold to Latin letters ('小米', 'сяоми', 'شاومي') is a local name, kept
    in its own script (NFKC, lowercase) for scripts.py."""
    terms: dict[str, Term] = {}
    for brand in config.brands.values():
        weak = {_term_text(t) or _local_text(t) for t in brand.weak_terms}
        labels = {label for label, owner in official_labels.items() if owner == brand.id}
        configured = {_term_text(t) or _local_text(t) for t in (*brand.terms, *brand.weak_terms)}
        strong = [_term_text(t) or _local_text(t) for t in brand.terms]
        for text in [*strong, *sorted(labels)]:
            if text and text not in weak and text not in terms:
                terms[text] = _term(text, brand.id, True, text in labels, text in configured)
        for text in sorted(weak):
            if text and text not in terms:
                terms[text] = _term(text, brand.id, False, text in labels, True)
    return list(terms.values())


def _local_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _term(text: str, brand: str, strong: bool, label: bool, configured: bool) -> Term:
    return Term(text, brand, strong, label, configured, local=not text.isascii())


def _model_words(config: Config, term_texts: frozenset[str]) -> frozenset[str]:
    """Model designations squatters put in domains: 's24', 'flip5', '14pro', 'note13'."""
    words = set()
    for model in config.catalog:
        for name in (model.model, *model.aliases):
            pieces = [_term_text(p) for p in name.split()]
            pieces = [p for p in pieces if p and p not in term_texts]
            for i in range(len(pieces)):
                for j in range(i + 1, len(pieces) + 1):
                    joined = "".join(pieces[i:j])
                    if any(ch.isdigit() for ch in joined) and not joined.isdigit():
                        words.add(joined)
    return frozenset(words)
