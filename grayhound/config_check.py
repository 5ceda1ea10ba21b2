"""Validation of grayhound.toml: the parsed TOML becomes the records of `grayhound.config`,
and every problem a ConfigError naming the file, the line and the key path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from grayhound.config import (
    CURRENCY_RE,
    DIGEST_FORMATS,
    HOST_RE,
    LANDED_COMPONENTS,
    SELECTOR_FIELDS,
    SOURCE_KINDS,
    Authorized,
    Brand,
    CatalogModel,
    Cluster,
    Config,
    Crawl,
    Digest,
    LandedCost,
    Pricing,
    Schedule,
    Source,
    Storage,
    landed_total,
)
from grayhound.errors import ConfigError


class Validator:
    """Turns the parsed TOML into records, naming key paths and lines in every error."""

    def __init__(self, text: str, path: Path):
        self.lines = text.splitlines()
        self.path = path
        self.base = path.parent

    # -- errors -------------------------------------------------------------------------
    def fail(self, keypath: tuple, message: str):
        line = self._line_of(keypath)
        where = f"{self.path}:{line}" if line else str(self.path)
        raise ConfigError(f"{where}: {_dotted(keypath)}: {message}")

    def _line_of(self, keypath: tuple) -> int | None:
        """Best-effort line of a key: find its table header, then the key after it."""
        names = [k for k in keypath if isinstance(k, str)]
        if not names:
            return None
        table, occurrence = names[0], 0
        for k in keypath[1:2]:
            if isinstance(k, int):
                occurrence = k
        start = 0
        header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}(\s*\]|\.)")
        seen = -1
        for number, line in enumerate(self.lines):
            if header.match(line):
                seen += 1
                if seen == occurrence:
                    start = number
                    break
        else:
            start = 0
        key = names[-1]
        key_re = re.compile(rf"^\s*(\[\[?\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\]|\.)")
        for number in range(start, len(self.lines)):
            if key_re.match(self.lines[number]):
                return number + 1
        return start + 1 if seen >= 0 else None

    # -- primitive checks ---------------------------------------------------------------
    def table(self, value: Any, keypath: tuple, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            self.fail(keypath, f"expected a table, got {_type_name(value)}")
        for key in value:
            if key not in allowed:
                self.fail(
                    (*keypath, key),
                    f"unknown key (allowed here: {', '.join(allowed)})",
                )
        return value

    def string(self, value: Any, keypath: tuple, *, nonempty: bool = True) -> str:
        if not isinstance(value, str):
            self.fail(keypath, f"expected a string, got {_type_name(value)}")
        if nonempty and not value.strip():
            self.fail(keypath, "must not be empty")
        return value

    def strings(self, value: Any, keypath: tuple) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.fail(keypath, f"expected a list of strings, got {_type_name(value)}")
        return tuple(self.string(v, (*keypath, i)) for i, v in enumerate(value))

    def number(self, value: Any, keypath: tuple, *, minimum: float | None = 0.0) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(keypath, f"expected a number, got {_type_name(value)}")
        if minimum is not None and value < minimum:
            self.fail(keypath, f"must be >= {minimum:g}, got {value:g}")
        return float(value)

    def integer(self, value: Any, keypath: tuple, *, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(keypath, f"expected an integer, got {_type_name(value)}")
        if value < minimum:
            self.fail(keypath, f"must be >= {minimum}, got {value}")
        return value

    def boolean(self, value: Any, keypath: tuple) -> bool:
        if not isinstance(value, bool):
            self.fail(keypath, f"expected true or false, got {_type_name(value)}")
        return value

    def currency(self, value: Any, keypath: tuple) -> str:
        code = self.string(value, keypath)
        if not CURRENCY_RE.match(code):
            self.fail(keypath, f"expected an ISO 4217 code such as USD, got {code!r}")
        return code

    def money_table(self, value: Any, keypath: tuple) -> dict[str, float]:
        if not isinstance(value, dict):
            self.fail(keypath, f"expected a table of currency = amount, got {_type_name(value)}")
        out = {}
        for code, amount in value.items():
            self.currency(code, (*keypath, code))
            out[code] = self.number(amount, (*keypath, code))
        return out

    def choice(self, value: Any, keypath: tuple, choices: tuple[str, ...]) -> str:
        text = self.string(value, keypath)
        if text not in choices:
            self.fail(keypath, f"expected one of {', '.join(choices)}, got {text!r}")
        return text

    def path_of(self, value: Any, keypath: tuple) -> Path:
        text = self.string(value, keypath)
        if "\x00" in text:  # no file system accepts it; open() would raise far from here
            self.fail(keypath, "a path cannot contain a NUL character")
        target = Path(text)
        return target if target.is_absolute() else self.base / target

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
        )

    def array(self, raw: dict, name: str) -> list:
        value = raw.get(name, [])
        if not isinstance(value, list):
            self.fail((name,), f"expected an array of tables [[{name}]], got {_type_name(value)}")
        return value

    def storage(self, raw: Any) -> Storage:
        kp = ("storage",)
        self.table(raw, kp, ("database", "evidence_dir"))
        return Storage(
            database=self.path_of(raw.get("database", "grayhound.db"), (*kp, "database")),
            evidence_dir=self.path_of(raw.get("evidence_dir", "evidence"), (*kp, "evidence_dir")),
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
            self.fail(kp, f"expected a table of currency = cost, got {_type_name(raw)}")
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

    def sources(self, raw: dict) -> tuple[Source, ...]:
        sources, names = [], set()
        for i, body in enumerate(self.array(raw, "sources")):
            kp = ("sources", i)
            allowed = (
                "name",
                "kind",
                "start_urls",
                "allowed_hosts",
                "currency",
                "selectors",
                "site_domain",
                "follow",
                "deny",
                "max_pages",
            )
            self.table(body, kp, allowed)
            for key in ("name", "kind", "start_urls"):
                if key not in body:
                    self.fail((*kp, key), "required")
            name = self.string(body["name"], (*kp, "name"))
            if name in names:
                self.fail((*kp, "name"), f"duplicate source name {name!r}")
            names.add(name)
            start_urls = self.strings(body["start_urls"], (*kp, "start_urls"))
            if not start_urls:
                self.fail((*kp, "start_urls"), "must list at least one URL")
            for j, url in enumerate(start_urls):
                if not re.match(r"^https?://[^/\s]+", url):
                    self.fail((*kp, "start_urls", j), f"not an http(s) URL: {url!r}")
            hosts = self.strings(body.get("allowed_hosts", []), (*kp, "allowed_hosts"))
            if not hosts:
                hosts = tuple(dict.fromkeys(_netloc(u) for u in start_urls))
            for j, host in enumerate(hosts):
                if not HOST_RE.match(host):
                    self.fail((*kp, "allowed_hosts", j), f"not a host[:port]: {host!r}")
            selectors = body.get("selectors", {})
            self.table(selectors, (*kp, "selectors"), SELECTOR_FIELDS)
            sources.append(
                Source(
                    name=name,
                    kind=self.choice(body["kind"], (*kp, "kind"), SOURCE_KINDS),
                    start_urls=start_urls,
                    allowed_hosts=tuple(h.lower() for h in hosts),
                    currency=self.currency(body["currency"], (*kp, "currency"))
                    if "currency" in body
                    else None,
                    selectors={
                        k: self.string(v, (*kp, "selectors", k)) for k, v in selectors.items()
                    },
                    site_domain=self.string(body["site_domain"], (*kp, "site_domain")).lower()
                    if "site_domain" in body
                    else None,
                    follow=self.regexes(body.get("follow", []), (*kp, "follow")),
                    deny=self.regexes(body.get("deny", []), (*kp, "deny")),
                    max_pages=self.integer(body.get("max_pages", 0), (*kp, "max_pages")),
                )
            )
        return tuple(sources)

    def regexes(self, value: Any, kp: tuple) -> tuple[str, ...]:
        patterns = self.strings(value, kp)
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                self.fail((*kp, i), f"invalid regular expression: {exc}")
        return patterns

    def crawl(self, raw: Any) -> Crawl:
        kp = ("crawl",)
        d = Crawl()
        allowed = tuple(Crawl.__dataclass_fields__)
        self.table(raw, kp, allowed)
        return Crawl(
            user_agent=self.string(raw.get("user_agent", d.user_agent), (*kp, "user_agent")),
            obey_robots=self.boolean(raw.get("obey_robots", d.obey_robots), (*kp, "obey_robots")),
            concurrency=self.integer(
                raw.get("concurrency", d.concurrency), (*kp, "concurrency"), minimum=1
            ),
            download_timeout=self.number(
                raw.get("download_timeout", d.download_timeout), (*kp, "download_timeout")
            ),
            max_download_size=self.integer(
                raw.get("max_download_size", d.max_download_size),
                (*kp, "max_download_size"),
                minimum=1024,
            ),
            retries=self.integer(raw.get("retries", d.retries), (*kp, "retries")),
            autothrottle=self.boolean(
                raw.get("autothrottle", d.autothrottle), (*kp, "autothrottle")
            ),
            depth_limit=self.integer(raw.get("depth_limit", d.depth_limit), (*kp, "depth_limit")),
        )

    def schedule(self, raw: Any) -> Schedule:
        kp = ("schedule",)
        self.table(raw, kp, ("cron", "timezone", "misfire_grace_seconds"))
        d = Schedule()
        cron = self.string(raw.get("cron", d.cron), (*kp, "cron"))
        if len(cron.split()) != 5:
            self.fail(
                (*kp, "cron"),
                f"expected 5 crontab fields (min hour day month weekday), got {cron!r}",
            )
        timezone = self.string(raw.get("timezone", d.timezone), (*kp, "timezone"))
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(timezone)
        except Exception:
            self.fail((*kp, "timezone"), f"unknown time zone {timezone!r}")
        return Schedule(
            cron=cron,
            timezone=timezone,
            misfire_grace_seconds=self.integer(
                raw.get("misfire_grace_seconds", d.misfire_grace_seconds),
                (*kp, "misfire_grace_seconds"),
            ),
        )

    def cluster(self, raw: Any) -> Cluster:
        kp = ("cluster",)
        self.table(raw, kp, ("redis", "worker_timeout"))
        if "redis" not in raw:
            return Cluster()
        url = self.string(raw["redis"], (*kp, "redis"))
        if not re.match(r"^rediss?://", url):
            self.fail((*kp, "redis"), f"expected redis://host:port/db, got {url!r}")
        timeout = self.number(
            raw.get("worker_timeout", Cluster.worker_timeout), (*kp, "worker_timeout")
        )
        if timeout < 1:
            self.fail((*kp, "worker_timeout"), f"must be >= 1 second, got {timeout:g}")
        return Cluster(redis=url, worker_timeout=timeout)

    def digest(self, raw: Any) -> Digest:
        kp = ("digest",)
        self.table(raw, kp, ("formats", "out_dir", "smtp", "reopen_price_change"))
        d = Digest()
        formats = tuple(
            self.choice(f, (*kp, "formats", i), DIGEST_FORMATS)
            for i, f in enumerate(
                self.strings(raw.get("formats", list(d.formats)), (*kp, "formats"))
            )
        )
        smtp = None
        if "smtp" in raw:
            smtp = self.smtp(raw["smtp"], (*kp, "smtp"))
        return Digest(
            formats=formats,
            out_dir=self.path_of(raw.get("out_dir", str(d.out_dir)), (*kp, "out_dir")),
            smtp=smtp,
            reopen_price_change=self.number(
                raw.get("reopen_price_change", d.reopen_price_change), (*kp, "reopen_price_change")
            ),
        )

    def smtp(self, raw: Any, kp: tuple) -> dict[str, Any]:
        allowed = ("host", "port", "from", "to", "username", "password", "starttls", "subject")
        self.table(raw, kp, allowed)
        for key in ("host", "from", "to"):
            if key not in raw:
                self.fail((*kp, key), "required for email delivery")
        out = dict(raw)
        out["host"] = self.string(raw["host"], (*kp, "host"))
        out["port"] = self.integer(raw.get("port", 25), (*kp, "port"), minimum=1)
        out["from"] = self.string(raw["from"], (*kp, "from"))
        out["to"] = self.strings(raw["to"], (*kp, "to"))
        if not out["to"]:
            self.fail((*kp, "to"), "must list at least one recipient")
        out["starttls"] = self.boolean(raw.get("starttls", False), (*kp, "starttls"))
        return out


def _netloc(url: str) -> str:
    return re.sub(r"^https?://", "", url).split("/", 1)[0].lower()


def _dotted(keypath: tuple) -> str:
    out = ""
    for key in keypath:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += ("." if out else "") + str(key)
    return out or "(top level)"


def _type_name(value: Any) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
