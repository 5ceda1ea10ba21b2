"""Validation of grayhound.toml: the parsed TOML becomes the records of `grayhound.config`,
and every problem a ConfigError naming the file, the line and the key path. Primitive checks
are in `grayhound.config.fields`, the running sections in `grayhound.config.running`."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from grayhound.config.fields import type_name
from grayhound.config.records import (
    LANDED_COMPONENTS,
    Authorized,
    Brand,
    CatalogModel,
    Config,
    LandedCost,
    Pricing,
    landed_total,
    storage_key,
)
from grayhound.config.running import RunningChecks
from grayhound.config.vocabulary import everyday_word


class Validator(RunningChecks):
    """Turns the parsed TOML into records, naming key paths and lines in every error."""

    # -- sections -----------------------------------------------------------------------
    def config(self, raw: dict) -> Config:
        sections = (
            "storage",
            "brands",
            "authorized",
            "catalog",
            "pricing",
            "sources",
            "crawl",
            "schedule",
            "cluster",
            "digest",
            "evidence",
            "serve",
        )
        self.table(raw, (), sections)
        if "brands" not in raw or not raw["brands"]:
            self.fail(("brands",), "at least one [brands.<id>] table is required")
        brands = self.brands(raw["brands"])
        return Config(
            term_check=partial(self.term_warnings, brands),
            path=self.path,
            storage=self.storage(raw.get("storage", {})),
            brands=brands,
            authorized=tuple(
                self.authorized(a, ("authorized", i), brands)
                for i, a in enumerate(self.array(raw, "authorized"))
            ),
            catalog=self.catalog(raw, brands),
            pricing=self.pricing(raw.get("pricing", {})),
            sources=self.sources(raw),
            crawl=self.crawl(raw.get("crawl", {})),
            schedule=self.schedule(raw.get("schedule", {})),
            cluster=self.cluster(raw.get("cluster", {})),
            digest=self.digest(raw.get("digest", {})),
            evidence=self.evidence(raw.get("evidence", {})),
            serve=self.serve(raw.get("serve", {})),
        )

    def brands(self, raw: Any) -> dict[str, Brand]:
        if not isinstance(raw, dict):
            self.fail(("brands",), "expected tables [brands.<id>]")
        brands = {}
        for brand_id, body in raw.items():
            kp = ("brands", brand_id)
            self.table(body, kp, ("name", "terms", "weak_terms", "keep_strong", "official_domains"))
            if "terms" not in body:
                self.fail((*kp, "terms"), "required: the words the brand owns")
            terms = self.strings(body["terms"], (*kp, "terms"))
            if not terms:
                self.fail((*kp, "terms"), "must list at least one term")
            brands[brand_id] = Brand(
                id=brand_id,
                name=self.string(body.get("name", brand_id), (*kp, "name")),
                terms=tuple(t.lower() for t in terms),
                weak_terms=tuple(
                    t.lower() for t in self.strings(body.get("weak_terms", []), (*kp, "weak_terms"))
                ),
                official_domains=tuple(
                    d.lower()
                    for d in self.strings(
                        body.get("official_domains", []), (*kp, "official_domains")
                    )
                ),
                keep_strong=self.kept_strong(body, kp, terms),
            )
        return brands

    def kept_strong(self, body: dict, kp: tuple, terms: list[str]) -> tuple[str, ...]:
        """Terms the user keeps strong although they are everyday words: no warning for them."""
        kept = tuple(
            t.lower() for t in self.strings(body.get("keep_strong", []), (*kp, "keep_strong"))
        )
        strong = {t.lower() for t in terms}
        for term in kept:
            if term not in strong:
                self.fail((*kp, "keep_strong"), f"{term!r} is not one of this brand's terms")
        return kept

    def term_warnings(self, brands: dict[str, Brand]) -> tuple[str, ...]:
        """A strong term that is an everyday word: it will flag other people's names."""
        found = []
        for brand in brands.values():
            for term in brand.terms:
                why = None if term in brand.keep_strong else everyday_word(term)
                if why:
                    line = self._brand_key_line(brand.id, "terms")
                    where = f"{self.path}:{line}" if line else str(self.path)
                    found.append(
                        f"{where}: brands.{brand.id}.terms: {term!r} is also an everyday word "
                        f"({why}); as a strong term it counts wherever it stands (other "
                        f"people's names and domains too): consider moving it to weak_terms, or list it in "
                        f"keep_strong to keep it strong on purpose"
                    )
        return tuple(found)

    def _brand_key_line(self, brand_id: str, key: str) -> int | None:
        header = re.compile(rf"^\s*\[\s*brands\.[\"']?{re.escape(brand_id)}[\"']?\s*\]")
        key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
        start = next((n for n, line in enumerate(self.lines) if header.match(line)), None)
        if start is None:
            return None
        for number in range(start + 1, len(self.lines)):
            if self.lines[number].lstrip().startswith("["):
                break
            if key_re.match(self.lines[number]):
                return number + 1
        return start + 1

    def brand_ref(self, value: Any, keypath: tuple, brands: dict) -> str:
        brand = self.string(value, keypath)
        if brand not in brands:
            self.fail(keypath, f"unknown brand {brand!r} (known: {', '.join(brands)})")
        return brand

    def authorized(self, raw: Any, kp: tuple, brands: dict) -> Authorized:
        self.table(raw, kp, ("brand", "name", "domains", "seller_names", "seller_urls"))
        for key in ("brand", "name"):
            if key not in raw:
                self.fail((*kp, key), "required")
        return Authorized(
            brand=self.brand_ref(raw["brand"], (*kp, "brand"), brands),
            name=self.string(raw["name"], (*kp, "name")),
            domains=tuple(
                d.lower() for d in self.strings(raw.get("domains", []), (*kp, "domains"))
            ),
            seller_names=self.strings(raw.get("seller_names", []), (*kp, "seller_names")),
            seller_urls=self.strings(raw.get("seller_urls", []), (*kp, "seller_urls")),
        )

    def catalog(self, raw: dict, brands: dict) -> tuple[CatalogModel, ...]:
        models = []
        for i, body in enumerate(self.array(raw, "catalog")):
            kp = ("catalog", i)
            allowed = (
                "brand",
                "model",
                "aliases",
                "msrp",
                "landed_cost",
                "category",
                "variant_msrp",
            )
            self.table(body, kp, allowed)
            for key in ("brand", "model", "msrp"):
                if key not in body:
                    self.fail((*kp, key), "required")
            msrp = self.money_table(body["msrp"], (*kp, "msrp"))
            if not msrp:
                self.fail((*kp, "msrp"), "must give at least one currency")
            models.append(
                CatalogModel(
                    brand=self.brand_ref(body["brand"], (*kp, "brand"), brands),
                    model=self.string(body["model"], (*kp, "model")),
                    aliases=self.strings(body.get("aliases", []), (*kp, "aliases")),
                    msrp=msrp,
                    landed_cost=self.landed_cost(body.get("landed_cost", {}), (*kp, "landed_cost")),
                    category=self.string(body.get("category", "phone"), (*kp, "category")),
                    variant_msrp=self.variant_msrp(body.get("variant_msrp", {}), kp),
                )
            )
        return tuple(models)

    def variant_msrp(self, raw: Any, kp: tuple) -> dict[str, dict[str, float]]:
        """{ "512GB" = { USD = 1199.0 } }: storage sizes, each a table of currency = MSRP."""
        kp = (*kp, "variant_msrp")
        if not isinstance(raw, dict):
            self.fail(
                kp, f"expected a table of storage = {{ currency = MSRP }}, got {type_name(raw)}"
            )
        out = {}
        for size, prices in raw.items():
            storage = storage_key(size)
            if storage is None:
                self.fail((*kp, size), "expected a storage size such as '256GB' or '1TB'")
            out[storage] = self.money_table(prices, (*kp, size))
            if not out[storage]:
                self.fail((*kp, size), "must give at least one currency")
        return out

    def landed_cost(self, raw: Any, kp: tuple) -> dict[str, LandedCost]:
        if not isinstance(raw, dict):
            self.fail(kp, f"expected a table of currency = cost, got {type_name(raw)}")
        out = {}
        for code, value in raw.items():
            self.currency(code, (*kp, code))
            if isinstance(value, dict):
                self.table(value, (*kp, code), LANDED_COMPONENTS)
                if "wholesale" not in value:
                    self.fail((*kp, code, "wholesale"), "required when giving components")
                parts = {k: self.number(v, (*kp, code, k)) for k, v in value.items()}
                out[code] = LandedCost(total=landed_total(parts), components=parts)
            else:
                out[code] = LandedCost(total=self.number(value, (*kp, code)))
        return out

    def pricing(self, raw: Any) -> Pricing:
        kp = ("pricing",)
        allowed = ("low_ratio", "high_ratio", "rates", "used_low_ratio", "peer_mad_threshold")
        self.table(raw, kp, allowed)
        defaults = Pricing()
        low = self.number(raw.get("low_ratio", defaults.low_ratio), (*kp, "low_ratio"))
        high = self.number(raw.get("high_ratio", defaults.high_ratio), (*kp, "high_ratio"))
        if not low < 1.0 < high:
            self.fail(
                (*kp, "low_ratio"), f"need low_ratio < 1 < high_ratio, got {low:g} and {high:g}"
            )
        return Pricing(
            low_ratio=low,
            high_ratio=high,
            rates=self.money_table(raw.get("rates", {}), (*kp, "rates")),
            used_low_ratio=self.number(
                raw.get("used_low_ratio", defaults.used_low_ratio), (*kp, "used_low_ratio")
            ),
            peer_mad_threshold=self.number(
                raw.get("peer_mad_threshold", defaults.peer_mad_threshold),
                (*kp, "peer_mad_threshold"),
            ),
        )
