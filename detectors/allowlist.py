"""Who is allowed to use a brand: official domains and authorized resellers, checked first and
only here. A host is covered when it is, or is a subdomain of, a listed domain; a seller name is
covered when it equals a listed seller name after case and separators are dropped (not after
lookalike folding: a Cyrillic 'Веst Buy' is not Best Buy)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from grayhound.config import Config

_NAME_NOISE = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Owner:
    """One party entitled to a domain or name: the brand itself or one of its resellers."""

    brand: str
    role: str  # "official" | "authorized"
    name: str
    via: str  # the listed domain or seller name that matched

    def describe(self) -> str:
        if self.role == "official":
            return f"an official {self.name} domain"
        return f"{self.name}, an authorized {self.brand} reseller"


def name_key(name: str) -> str:
    """Case, width and separators dropped: 'BestBuy Official' and 'bestbuy-official' agree."""
    return _NAME_NOISE.sub("", unicodedata.normalize("NFKC", name).casefold())


class Allowlist:
    def __init__(self, config: Config):
        self.domains: dict[str, list[Owner]] = {}
        self.names: dict[str, list[Owner]] = {}
        for brand in config.brands.values():
            for domain in brand.official_domains:
                self._add(
                    self.domains, domain.lower(), Owner(brand.id, "official", brand.name, domain)
                )
        for reseller in config.authorized:
            for domain in reseller.domains:
                owner = Owner(reseller.brand, "authorized", reseller.name, domain)
                self._add(self.domains, domain.lower(), owner)
            for seller_name in (reseller.name, *reseller.seller_names):
                owner = Owner(reseller.brand, "authorized", reseller.name, seller_name)
                self._add(self.names, name_key(seller_name), owner)

    @staticmethod
    def _add(table: dict[str, list[Owner]], key: str, owner: Owner) -> None:
        if key and owner not in table.setdefault(key, []):
            table[key].append(owner)

    def domain_owners(self, host: str) -> tuple[Owner, ...]:
        """Owners of `host` or of any parent domain of it ('eu.store.mi.com' → mi.com)."""
        host = host.lower().rstrip(".")
        while host:
            owners = self.domains.get(host)
            if owners:
                return tuple(owners)
            _, dot, host = host.partition(".")
            if not dot:
                break
        return ()

    def name_owners(self, name: str | None) -> tuple[Owner, ...]:
        if not name:
            return ()
        return tuple(self.names.get(name_key(name), ()))

    def entitled(
        self, brand: str, *, name: str | None = None, domains: Iterable[str | None] = ()
    ) -> Owner | None:
        """The official or authorized party for `brand` this seller is, if any."""
        candidates = list(self.name_owners(name))
        for domain in domains:
            if domain:
                candidates.extend(self.domain_owners(domain))
        for owner in candidates:
            if owner.brand == brand:
                return owner
        return None
