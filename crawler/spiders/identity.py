"""Who sells: the identifiers a page gave, classified against the source's scope, and the one
key a seller reference is stored under.

A seller URL on the source's own hosts is a profile (the marketplace's page for that seller);
a social-network URL is a `same_as`; any other off-site URL is the seller's own website. The
key prefers the strongest identifier: profile URL, then JSON-LD @id, then website, then name
(`grayhound.store` merges references to one seller by these identifiers)."""

from __future__ import annotations

from urllib.parse import urlsplit

from crawler.pages._seller_data import SOCIAL_HOSTS
from crawler.spiders.scope import host_allowed
from grayhound.models import Listing, Seller

Identifier = tuple[str, str, str]


def classify(
    identifiers, allowed_hosts: tuple[str, ...], canonical
) -> tuple[list[Identifier], list[str]]:
    """(identifiers with every `seller_url` told apart and profile URLs canonical, the profile
    URLs worth fetching, in order). The site's root and its own pages are nobody's profile."""
    out: list[Identifier] = []
    profiles: list[str] = []
    for kind, value, via in identifiers or ():
        if kind in ("seller_url", "profile"):
            placed = _place_url(value, allowed_hosts)
            if placed is None:
                continue
            kind, value = placed
            if kind == "profile":
                value = canonical(value)
                profiles.append(value)
        elif kind == "ld_id":
            value = value.strip()
        out.append((kind, value, via))
    return list(dict.fromkeys(out)), list(dict.fromkeys(profiles))


def _place_url(url: str, allowed_hosts: tuple[str, ...]) -> tuple[str, str] | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if host_allowed(url, allowed_hosts):
        if parts.path in ("", "/") and not parts.query:
            return None  # the marketplace's home page: the marketplace, not a seller
        return "profile", url
    host = website_host(url)
    if any(host == s or host.endswith("." + s) for s in SOCIAL_HOSTS):
        return "same_as", url
    return "website", host


def website_host(url: str) -> str:
    host = (urlsplit(url if "//" in url else "//" + url).hostname or "").lower()
    return host.removeprefix("www.")


def reference_key(identifiers: list[Identifier]) -> str | None:
    """The key a reference is stored under: its strongest identifier."""
    for kind, prefix in (("profile", ""), ("ld_id", "ld:"), ("website", "web:"), ("name", "name:")):
        for found_kind, value, _ in identifiers:
            if found_kind == kind:
                return prefix + (value.strip().lower() if kind == "name" else value)
    return None


def listing_reference(
    listing: Listing, allowed_hosts: tuple[str, ...], canonical
) -> tuple[str | None, Seller | None, str | None]:
    """(key, the Seller the listing names, the profile URL to fetch) for a marketplace
    listing; (None, None, None) when the page names no seller."""
    found = list(listing.seller_identifiers)
    if listing.seller_url and not any(k == "seller_url" for k, _, _ in found):
        found.append(("seller_url", listing.seller_url, "listing seller URL"))
    if listing.seller and not any(k == "name" for k, _, _ in found):
        if listing.field_sources.get("seller") != "site":
            found.append(("name", listing.seller, "listing seller name"))
    identifiers, profiles = classify(found, allowed_hosts, canonical)
    key = reference_key(identifiers)
    if key is None:
        return None, None, None
    website = next((v for k, v, _ in identifiers if k == "website"), None)
    seller = Seller(
        name=listing.seller if listing.field_sources.get("seller") != "site" else None,
        url=profiles[0] if profiles else None,
        claimed_domain=website,
        identifiers=tuple(identifiers),
    )
    return key, seller, profiles[0] if profiles else None


def profile_seller(seller: Seller, allowed_hosts: tuple[str, ...], canonical) -> Seller:
    """A fetched profile page's Seller with its identifiers classified."""
    from dataclasses import replace

    identifiers, _ = classify(seller.identifiers, allowed_hosts, canonical)
    return replace(seller, identifiers=tuple(identifiers))
