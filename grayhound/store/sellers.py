"""Seller identity: one `sellers` row per real seller within a source, and `seller_aliases`,
every name, URL, domain and contact it was seen under, with where each came from.

Every seller reference the crawler stores (a profile page, a listing naming its seller, a
storefront) carries identifiers. It joins the seller it names by these rules, strongest first:

1. The same profile URL, JSON-LD @id, storefront or stored key: the same seller, always.
2. A reference without a profile of its own (a listing naming its seller only by website or
   only by name) joins the one profiled seller that claims that website, or carries that exact
   name, provided no other profiled seller does and the two claim no different websites.
3. A profile absorbs the profile-less references that name it so, on the same terms.

Two profiles are never one seller because of a shared website, name, phone or anything else:
that makes a network (`grayhound.store.networks`), not a merge. When a later reference proves
two stored sellers one (rule 1 or 3), the younger is merged into the older, which keeps its id;
the younger row stays with `merged_into` set, so its id still leads somewhere."""

from __future__ import annotations

import json
import re
import unicodedata
from urllib.parse import urlsplit

import sqlite_utils

from grayhound.models import Seller
from grayhound.store.crawlschema import SELLER_LIMITS, cut_to_limits

# Identifiers that make two references one seller.
STRONG = ("profile", "ld_id", "site", "key")
# Identifiers only a seller's own page (or storefront) gives: a seller holding one is profiled.
PROFILED = ("profile", "site")
_NOT_ALNUM = re.compile(r"[\W_]+")
_KEY_KINDS = {"web:": "website", "name:": "name", "ld:": "ld_id"}


def create_schema(db: sqlite_utils.Database) -> None:
    """Migration 0007: aliases with provenance; merged sellers point at the one they joined."""
    sellers = db["sellers"]
    for column in ("merged_into", "merged_at", "merge_reason"):
        if column not in sellers.columns_dict:
            sellers.add_column(column, int if column == "merged_into" else str)
    db["seller_aliases"].create(
        {
            "id": int,
            "seller_id": int,
            "source": str,
            "kind": str,  # see grayhound.models.IDENTIFIER_KINDS, plus "key"
            "value": str,  # normalised, what matching compares
            "raw": str,  # as the page gave it
            "via": str,  # where it was read: "profile json-ld Organization.sameAs", …
            "seen_on": str,  # the first page it was read on
            "first_seen": str,
            "last_seen": str,
            "first_run_id": int,
            "last_run_id": int,
        },
        pk="id",
        not_null={"seller_id", "source", "kind", "value", "via", "first_seen", "last_seen"},
        foreign_keys=[("seller_id", "sellers", "id")],
    )
    db["seller_aliases"].create_index(["seller_id", "kind", "value", "via"], unique=True)
    db["seller_aliases"].create_index(["source", "kind", "value"])
    for row in list(db["sellers"].rows):  # sellers stored before aliases existed
        found = [("key", row["key"], "stored key")]
        found += [("profile", row["profile_url"], "stored profile URL")] * bool(
            row["profile_url"] and not row["key"].startswith(("name:", "site:"))
        )
        found += [("name", row["name"], "stored name")] * bool(row["name"])
        found += [("website", row["claimed_domain"], "stored claimed domain")] * bool(
            row["claimed_domain"]
        )
        if row["key"].startswith("site:"):
            found.append(("site", row["key"][5:], "stored storefront"))
        for kind, raw, via in found:
            db.execute(
                "INSERT OR IGNORE INTO seller_aliases (seller_id, source, kind, value, raw, via,"
                " seen_on, first_seen, last_seen, first_run_id, last_run_id)"
                " VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
                [row["id"], row["source"], kind, alias_value(kind, raw), raw, via]
                + [row["first_seen"], row["last_seen"], row["first_run_id"], row["last_run_id"]],
            )


def alias_value(kind: str, raw: str) -> str:
    """The form identifiers are compared in: names by case, width and spacing; domains bare;
    phones by digits; company numbers by letters and digits."""
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if kind in ("name", "address", "legal_name"):
        return " ".join(text.casefold().split())
    if kind in ("website", "shop_domain", "myshopify", "site"):
        host = text.lower().split("//")[-1].split("/")[0]
        return host.rstrip(".").removeprefix("www.")
    if kind == "email":
        return text.lower().removeprefix("mailto:")
    if kind == "phone":
        digits = "".join(ch for ch in text if ch.isdigit())
        return ("+" if text.startswith(("+", "00")) else "") + digits.removeprefix("00")
    if kind == "company_id":
        return _NOT_ALNUM.sub("", text).upper()
    return text


class SellerIdentity:
    """Mixin of Store: resolving seller references to sellers, and their aliases."""

    db: sqlite_utils.Database

    def record_seller(
        self,
        run_id: int,
        source: str,
        key: str,
        seller: Seller,
        seen_at: str,
        seen_on: str | None = None,
    ) -> int:
        """Resolve a seller reference to its seller (creating or merging as the rules say),
        record its aliases and latest state, append its sighting for this run."""
        if not self.db.conn.in_transaction:  # one transaction, also when called on its own
            with self.db.atomic():
                return self.record_seller(run_id, source, key, seller, seen_at, seen_on)
        found = _identifiers(key, seller)
        # Every listing of a seller repeats the same reference: once per run is enough.
        remembered = self._references().get((run_id, source, tuple(found)))
        if remembered is not None:
            return remembered
        seller_id = self._record(run_id, source, key, seller, seen_at, seen_on, found)
        self._references()[(run_id, source, tuple(found))] = seller_id
        return seller_id

    def _references(self) -> dict:
        if getattr(self, "_reference_cache", None) is None:
            self._reference_cache = {}
        return self._reference_cache

    def forget_seller_references(self) -> None:
        self._reference_cache = {}

    def _record(self, run_id, source, key, seller, seen_at, seen_on, found) -> int:
        seller_id = self._resolve(source, found)
        latest = {
            "name": seller.name,
            "profile_url": seller.url if _is_web_link(seller.url) else None,
            "domain": seller.domain,
            "claimed_domain": seller.claimed_domain,
        }
        cuts = cut_to_limits(latest, SELLER_LIMITS)  # text from strangers has a size
        latest = {k: v for k, v in latest.items() if v}
        if cuts:
            latest["problems"] = json.dumps(cuts)
        if seller_id is None:
            seller_id = self._insert(
                "sellers",
                {
                    "source": source,
                    "key": key,
                    **latest,
                    "first_seen": seen_at,
                    "last_seen": seen_at,
                    "first_run_id": run_id,
                    "last_run_id": run_id,
                },
            )
        else:
            if not any(kind in PROFILED for kind, *_ in found) and self._profiled(seller_id):
                latest = {}  # a listing's mention never overrides what the profile says
            self._update(
                "sellers", seller_id, {**latest, "last_seen": seen_at, "last_run_id": run_id}
            )
        self._remember(seller_id, source, found, run_id, seen_at, seen_on or seller.url)
        self._observe_seller(seller_id, run_id, latest, seen_at)
        return seller_id

    def seller_id(self, source: str, key: str) -> int | None:
        owners = self._owners(source, "key", key)
        return min(owners) if owners else None

    # -- resolution ---------------------------------------------------------------------------
    def _resolve(self, source: str, found: list[tuple]) -> int | None:
        hits: set[int] = set()
        for kind, value, _, _ in found:
            if kind in STRONG:
                hits |= self._owners(source, kind, value)
        websites = {value for kind, value, _, _ in found if kind == "website"}
        names = {value for kind, value, _, _ in found if kind == "name"}
        if any(kind in PROFILED for kind, *_ in found):
            hits |= self._absorbed(source, hits, websites, names)
        elif not hits:
            hits = self._attached(source, websites, names)
        if not hits:
            return None
        keep = min(hits)
        for other in sorted(hits - {keep}):
            self.merge_sellers(keep, other, "the same seller by its profile, @id or key")
        return keep

    def _attached(self, source: str, websites: set[str], names: set[str]) -> set[int]:
        """The seller a profile-less reference names: the one profiled seller claiming its
        website, else holding its exact name (with no other website claimed); else a
        profile-less seller already known by the same website (or name)."""
        for kind, values in (("website", websites), ("name", names)):
            for value in sorted(values):
                owners = self._owners(source, kind, value)
                profiled = {o for o in owners if self._profiled(o)}
                if kind == "name" and websites:
                    profiled = {o for o in profiled if not self._other_website(o, websites)}
                if len(profiled) == 1:
                    return profiled
                if profiled:
                    continue  # several profiles: nobody's in particular
                if kind == "name":  # profile-less namesakes that claim no other website
                    owners = {o for o in owners if not self._other_website(o, websites)}
                if len(owners) == 1 or (owners and kind == "website"):
                    return {min(owners)}
        return set()

    def _absorbed(self, source: str, hits: set[int], websites: set[str], names: set[str]):
        """Profile-less sellers this profile is the only one to claim by website or name."""
        absorbed: set[int] = set()
        for kind, values in (("website", websites), ("name", names)):
            for value in values:
                owners = self._owners(source, kind, value)
                if {o for o in owners if self._profiled(o)} - hits:
                    continue  # another profile claims it too: nobody's in particular
                for owner in owners - hits:
                    if kind == "name" and self._other_website(owner, websites):
                        continue
                    absorbed.add(owner)
        return absorbed

    def _owners(self, source: str, kind: str, value: str) -> set[int]:
        rows = self.db.execute(
            "SELECT DISTINCT seller_id FROM seller_aliases WHERE source = ? AND kind = ?"
            " AND value = ?",
            [source, kind, value],
        )
        return {row[0] for row in rows}

    def _profiled(self, seller_id: int) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM seller_aliases WHERE seller_id = ? AND kind IN ('profile', 'site')"
                " LIMIT 1",
                [seller_id],
            ).fetchone()
            is not None
        )

    def _other_website(self, seller_id: int, websites: set[str]) -> bool:
        """The seller claims websites, none of them these."""
        own = {
            row[0]
            for row in self.db.execute(
                "SELECT value FROM seller_aliases WHERE seller_id = ? AND kind = 'website'",
                [seller_id],
            )
        }
        return bool(own) and not (own & websites)

    def _remember(self, seller_id, source, found, run_id, seen_at, seen_on) -> None:
        self.db.conn.executemany(
            "INSERT INTO seller_aliases (seller_id, source, kind, value, raw, via, seen_on,"
            " first_seen, last_seen, first_run_id, last_run_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (seller_id, kind, value, via) DO UPDATE SET"
            " last_seen = excluded.last_seen, last_run_id = excluded.last_run_id,"
            " raw = excluded.raw",
            [
                (
                    seller_id,
                    source,
                    kind,
                    value,
                    raw,
                    via,
                    seen_on,
                    seen_at,
                    seen_at,
                    run_id,
                    run_id,
                )
                for kind, value, raw, via in found
            ],
        )

    def _observe_seller(self, seller_id: int, run_id: int, latest: dict, seen_at: str) -> None:
        existing = self.db.execute(
            "SELECT id, name, domain, claimed_domain FROM seller_observations"
            " WHERE seller_id = ? AND crawl_run_id = ?",
            [seller_id, run_id],
        ).fetchone()
        fields = {k: latest.get(k) for k in ("name", "domain", "claimed_domain")}
        if existing is None:
            self._insert(
                "seller_observations",
                {"seller_id": seller_id, "crawl_run_id": run_id, "observed_at": seen_at, **fields},
            )
        else:  # a later page of the same run may add what an earlier one lacked
            merged = {k: existing[i + 1] or fields[k] for i, k in enumerate(fields)}
            if merged != dict(zip(fields, existing[1:], strict=True)):
                self._update("seller_observations", existing[0], merged)

    # -- merging ------------------------------------------------------------------------------
    def merge_sellers(self, keep: int, drop: int, reason: str) -> None:
        """Make `drop` part of `keep`: its listings, aliases, sightings, captures and case move;
        its findings stay as history; its row remains, pointing at `keep`."""
        self.forget_seller_references()
        execute = self.db.execute
        execute("UPDATE listings SET seller_id = ? WHERE seller_id = ?", [keep, drop])
        for table, column in (
            ("seller_aliases", "seller_id"),
            ("seller_observations", "seller_id"),
        ):
            execute(f"UPDATE OR IGNORE {table} SET {column} = ? WHERE {column} = ?", [keep, drop])
            execute(f"DELETE FROM {table} WHERE {column} = ?", [drop])
        execute("UPDATE captures SET seller_id = ? WHERE seller_id = ?", [keep, drop])
        execute(
            "UPDATE OR IGNORE capture_links SET subject_id = ?"
            " WHERE subject_kind = 'seller' AND subject_id = ?",
            [keep, drop],
        )
        execute(
            "DELETE FROM capture_links WHERE subject_kind = 'seller' AND subject_id = ?", [drop]
        )
        execute(
            "UPDATE findings SET is_current = 0 WHERE subject_kind = 'seller' AND subject_id = ?",
            [drop],
        )
        execute(
            "UPDATE OR IGNORE cases SET subject_id = ? WHERE subject_kind = 'seller'"
            " AND subject_id = ?",
            [keep, drop],
        )
        execute(
            "UPDATE sellers SET first_seen = MIN(first_seen, (SELECT first_seen FROM sellers"
            " WHERE id = ?)) WHERE id = ?",
            [drop, keep],
        )
        execute("UPDATE sellers SET merged_into = ? WHERE merged_into = ?", [keep, drop])
        self._update(
            "sellers", drop, {"merged_into": keep, "merged_at": _now(), "merge_reason": reason}
        )


def _identifiers(key: str, seller: Seller) -> list[tuple[str, str, str, str]]:
    """(kind, normalised value, raw, via) of a reference, its key among them."""
    found = [("key", key, key, "stored key")]
    for prefix, kind in _KEY_KINDS.items():
        if key.startswith(prefix):
            found.append((kind, key[len(prefix) :], key[len(prefix) :], "stored key"))
    for item in seller.identifiers or ():
        kind, raw, via = (list(item) + [None, None, None])[:3]
        if kind and raw and str(raw).strip():
            found.append((kind, alias_value(kind, raw), str(raw).strip()[:500], via or "page"))
    if seller.name and not any(kind == "name" for kind, *_ in found):
        found.append(("name", alias_value("name", seller.name), seller.name[:500], "page"))
    return [
        (kind, value[:2048], raw, via) for kind, value, raw, via in dict.fromkeys(found) if value
    ]


def _now() -> str:
    from grayhound.store.timestamps import utc_now

    return utc_now()


def _is_web_link(url: str | None) -> bool:
    """Only an http(s) URL is stored as a link a reader may click (never `JavaScript:`)."""
    return bool(url) and urlsplit(url.strip()).scheme.lower() in ("http", "https")
