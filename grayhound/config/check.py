"""Validation of grayhound.toml: the parsed TOML becomes the records of `grayhound.config`,
and every problem a ConfigError naming the file, the line and the key path. Primitive checks
are in `grayhound.config.fields`, the running sections in `grayhound.config.running`."""

from __future__ import annotations

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
)
from grayhound.config.running import RunningChecks


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
            "serve",
        )
        self.table(raw, (), sections)
        if "brands" not in raw or not raw["brands"]:
            self.fail(("brands",), "at least one [brands.<id>] table is required")
        brands = self.brands(raw["brands"])
        return Config(
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
            serve=self.serve(raw.get("serve", {})),
        )

    def brands(self, raw: Any) -> dict[str, Brand]:
        if not isinstance(raw, dict):
            self.fail(("brands",), "expected tables [brands.<id>]")
        brands = {}
        for brand_id, body in raw.items():
            kp = ("brands", brand_id)
            self.table(body, kp, ("name", "terms", "weak_terms", "official_domains"))
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
            )
        return brands

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
            allowed = ("brand", "model", "aliases", "msrp", "landed_cost", "category")
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
                )
            )
        return tuple(models)

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
