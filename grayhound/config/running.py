"""Validation of how grayhound runs: storage, sources, crawl, schedule, cluster, digest and serve
sections of grayhound.toml (the brand side is in `grayhound.config.check`)."""

from __future__ import annotations

import re
from typing import Any

from grayhound.config.fields import FieldChecker, netloc, type_name
from grayhound.config.records import (
    DIGEST_FORMATS,
    HOST_RE,
    PASSWORD_HASH_RE,
    SELECTOR_FIELDS,
    SERVE_ANONYMOUS,
    SERVE_USER_RE,
    SOURCE_KINDS,
    Cluster,
    Crawl,
    Digest,
    Schedule,
    Serve,
    Source,
    Storage,
)


class RunningChecks(FieldChecker):
    """The sections that say where data goes and how sources are crawled and reported."""

    def storage(self, raw: Any) -> Storage:
        kp = ("storage",)
        self.table(raw, kp, ("database", "evidence_dir"))
        return Storage(
            database=self.path_of(raw.get("database", "grayhound.db"), (*kp, "database")),
            evidence_dir=self.path_of(raw.get("evidence_dir", "evidence"), (*kp, "evidence_dir")),
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
                hosts = tuple(dict.fromkeys(netloc(u) for u in start_urls))
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

    def serve(self, raw: Any) -> Serve:
        kp = ("serve",)
        self.table(raw, kp, ("host", "port", "anonymous", "users"))
        d = Serve()
        host = self.string(raw.get("host", d.host), (*kp, "host"))
        if not HOST_RE.match(host):
            self.fail((*kp, "host"), f"not a host name or IP address: {host!r}")
        port = self.integer(raw.get("port", d.port), (*kp, "port"), minimum=1)
        if port > 65535:
            self.fail((*kp, "port"), f"must be <= 65535, got {port}")
        users_raw = raw.get("users", {})
        if not isinstance(users_raw, dict):
            self.fail(
                (*kp, "users"),
                f"expected a table of name = password hash, got {type_name(users_raw)}",
            )
        users = {}
        for name, value in users_raw.items():
            if not SERVE_USER_RE.match(name):
                self.fail((*kp, "users", name), "a user name is letters, digits and . _ @ -")
            password_hash = self.string(value, (*kp, "users", name))
            if not PASSWORD_HASH_RE.match(password_hash):
                self.fail(
                    (*kp, "users", name),
                    "not a password hash (make one with `grayhound serve --hash-password`)",
                )
            users[name] = password_hash
        return Serve(
            host=host,
            port=port,
            anonymous=self.choice(
                raw.get("anonymous", d.anonymous), (*kp, "anonymous"), SERVE_ANONYMOUS
            ),
            users=users,
        )
