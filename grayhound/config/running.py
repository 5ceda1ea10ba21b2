"""Validation of how grayhound runs: storage, sources, crawl, schedule, cluster, digest and serve
sections of grayhound.toml (the brand side is in `grayhound.config.check`)."""

from __future__ import annotations

import re
from pathlib import Path
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
    Evidence,
    Schedule,
    Serve,
    Source,
    Storage,
)
from grayhound.config.urls import read_url_file

MAX_CONCURRENCY = 1000  # requests in flight per source
MAX_SECONDS = 86_400.0  # a timeout or a pause longer than a day is a typo
MAX_DOWNLOAD_SIZE = 2**30  # 1 GiB: a response is held in memory (and written as WARC) whole
MAX_RETRIES = 100


class RunningChecks(FieldChecker):
    """The sections that say where data goes and how sources are crawled and reported."""

    def storage(self, raw: Any) -> Storage:
        kp = ("storage",)
        self.table(raw, kp, ("database", "evidence_dir", "cache_dir"))
        return Storage(
            database=self.path_of(raw.get("database", "grayhound.db"), (*kp, "database")),
            evidence_dir=self.path_of(raw.get("evidence_dir", "evidence"), (*kp, "evidence_dir")),
            cache_dir=self.path_of(raw.get("cache_dir", "cache"), (*kp, "cache_dir")),
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
                "start_urls_file",
                "render",
            )
            self.table(body, kp, allowed)
            for key in ("name", "kind"):
                if key not in body:
                    self.fail((*kp, key), "required")
            name = self.string(body["name"], (*kp, "name"))
            if name in names:
                self.fail((*kp, "name"), f"duplicate source name {name!r}")
            names.add(name)
            start_urls, url_file = self.start_urls(body, kp)
            hosts = self.strings(body.get("allowed_hosts", []), (*kp, "allowed_hosts"))
            if not hosts:
                hosts = tuple(dict.fromkeys(netloc(u) for u in start_urls))
            for j, host in enumerate(hosts):
                match = HOST_RE.match(host)
                if not match or not 0 < int(match.group(1) or 80) <= 65535:
                    self.fail(
                        (*kp, "allowed_hosts", j),
                        f"not a host[:port] such as example.com or 127.0.0.1:8301: {host!r}",
                    )
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
                    start_urls_file=url_file,
                    render=self.boolean(body.get("render", False), (*kp, "render")),
                )
            )
        return tuple(sources)

    def start_urls(self, body: dict, kp: tuple) -> tuple[tuple[str, ...], Path | None]:
        """start_urls and the URLs of start_urls_file (relative to the config), at least one."""
        if "start_urls" not in body and "start_urls_file" not in body:
            self.fail((*kp, "start_urls"), "required (or start_urls_file)")
        start_urls = self.strings(body.get("start_urls", []), (*kp, "start_urls"))
        for j, url in enumerate(start_urls):
            if not re.match(r"^https?://[^/\s]+", url):
                self.fail((*kp, "start_urls", j), f"not an http(s) URL: {url!r}")
        url_file = None
        if "start_urls_file" in body:
            url_file = self.path_of(body["start_urls_file"], (*kp, "start_urls_file"))
            where = f"{self.path}: {kp[0]}[{kp[1]}].start_urls_file"
            start_urls = tuple(dict.fromkeys((*start_urls, *read_url_file(url_file, where))))
        if not start_urls:
            self.fail((*kp, "start_urls"), "must list at least one URL")
        return start_urls, url_file

    def crawl(self, raw: Any) -> Crawl:
        kp = ("crawl",)
        d = Crawl()
        allowed = tuple(Crawl.__dataclass_fields__)
        self.table(raw, kp, allowed)
        user_agent = self.string(raw.get("user_agent", d.user_agent), (*kp, "user_agent"))
        if any(ord(c) < 32 or ord(c) == 127 for c in user_agent):
            # CR/LF would forge extra request headers (and the WARC would record them).
            self.fail((*kp, "user_agent"), "must not contain control characters (CR, LF, tab…)")
        return Crawl(
            user_agent=user_agent,
            obey_robots=self.boolean(raw.get("obey_robots", d.obey_robots), (*kp, "obey_robots")),
            concurrency=self.integer(
                raw.get("concurrency", d.concurrency),
                (*kp, "concurrency"),
                minimum=1,
                maximum=MAX_CONCURRENCY,
            ),
            download_timeout=self.number(
                raw.get("download_timeout", d.download_timeout),
                (*kp, "download_timeout"),
                positive=True,
                maximum=MAX_SECONDS,
            ),
            max_download_size=self.integer(
                raw.get("max_download_size", d.max_download_size),
                (*kp, "max_download_size"),
                minimum=1024,
                maximum=MAX_DOWNLOAD_SIZE,
            ),
            retries=self.integer(
                raw.get("retries", d.retries), (*kp, "retries"), maximum=MAX_RETRIES
            ),
            autothrottle=self.boolean(
                raw.get("autothrottle", d.autothrottle), (*kp, "autothrottle")
            ),
            depth_limit=self.integer(raw.get("depth_limit", d.depth_limit), (*kp, "depth_limit")),
            max_retry_after=self.number(
                raw.get("max_retry_after", d.max_retry_after),
                (*kp, "max_retry_after"),
                maximum=MAX_SECONDS,
            ),
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

            zone = ZoneInfo(timezone)
        except Exception:
            self.fail((*kp, "timezone"), f"unknown time zone {timezone!r}")
        self.crontab(cron, zone, (*kp, "cron"))
        return Schedule(
            cron=cron,
            timezone=timezone,
            misfire_grace_seconds=self.integer(
                raw.get("misfire_grace_seconds", d.misfire_grace_seconds),
                (*kp, "misfire_grace_seconds"),
            ),
        )

    def crontab(self, cron: str, zone, keypath: tuple) -> None:
        """Each field in range and the whole a time that exists (APScheduler's own reading).
        The default is known to be one, so it is not read again: every command reads the
        config, and APScheduler's import costs ~0.06 s (it reads its version from its metadata)."""
        if cron == Schedule.cron:
            return
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(cron, timezone=zone)
        except (ValueError, TypeError, KeyError) as exc:
            self.fail(keypath, f"not a valid crontab {cron!r}: {exc}")

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
        if not formats:
            self.fail((*kp, "formats"), f"must list at least one of {', '.join(DIGEST_FORMATS)}")
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
        out["port"] = self.integer(raw.get("port", 25), (*kp, "port"), minimum=1, maximum=65535)
        out["from"] = self.string(raw["from"], (*kp, "from"))
        out["to"] = self.strings(raw["to"], (*kp, "to"))
        if not out["to"]:
            self.fail((*kp, "to"), "must list at least one recipient")
        out["starttls"] = self.boolean(raw.get("starttls", False), (*kp, "starttls"))
        return out

    def evidence(self, raw: Any) -> Evidence:
        kp = ("evidence",)
        self.table(raw, kp, ("signing_key", "tsa_url", "tsa_ca", "tsa_timeout"))
        tsa_url = None
        if "tsa_url" in raw:
            tsa_url = self.string(raw["tsa_url"], (*kp, "tsa_url"))
            if not re.match(r"^https?://[^/\s]+", tsa_url, re.IGNORECASE):
                self.fail((*kp, "tsa_url"), f"expected an http(s) URL, got {tsa_url!r}")
        timeout = self.number(raw.get("tsa_timeout", Evidence.tsa_timeout), (*kp, "tsa_timeout"))
        if not 0 < timeout <= 600:
            self.fail((*kp, "tsa_timeout"), f"must be between 0 and 600 seconds, got {timeout}")
        return Evidence(
            signing_key=self.optional_path(raw, "signing_key", kp),
            tsa_url=tsa_url,
            tsa_ca=self.optional_path(raw, "tsa_ca", kp),
            tsa_timeout=timeout,
        )

    def optional_path(self, raw: dict, key: str, kp: tuple):
        return self.path_of(raw[key], (*kp, key)) if key in raw else None

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
