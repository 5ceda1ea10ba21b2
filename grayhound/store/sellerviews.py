"""Reading sellers as people look at them: one row per seller with its aliases, claimed
domains, current verdict, listings and flag counts, and network (`grayhound export sellers`,
the digest's seller cards, evidence bundles of a seller or a network)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import sqlite_utils

# Alias kinds that are domains a seller names as its own, and its profile URLs.
DOMAIN_KINDS = ("website", "shop_domain", "myshopify")
PROFILE_KINDS = ("profile",)

SELLER_ROWS_SQL = """
    SELECT s.id, s.source, s.key, s.name, s.profile_url, s.domain, s.claimed_domain,
           s.first_seen, s.last_seen,
           f.verdict, f.score AS risk, f.reasons, f.flags, f.brand,
           n.network_id,
           (SELECT COUNT(*) FROM listings l WHERE l.seller_id = s.id) AS listings
    FROM sellers s
    LEFT JOIN findings f
      ON f.subject_kind = 'seller' AND f.subject_id = s.id AND f.is_current = 1
    LEFT JOIN network_members n ON n.seller_id = s.id AND n.is_current = 1
    WHERE s.merged_into IS NULL
    ORDER BY s.id
"""
# kept by triggers as findings and listings are written (grayhound/store/digestbook.py,
# migration 0013): counting them over every listing took most of a digest at 1M listings
FLAG_COUNTS_SQL = "SELECT seller_id, flag, n FROM seller_flag_counts WHERE n > 0"


class SellerViews:
    """Mixin of Store: sellers with everything known about them."""

    db: sqlite_utils.Database

    # -- reads --------------------------------------------------------------------------------
    def sellers(self) -> Iterator[dict]:
        """Every seller (merged rows left out), oldest first."""
        yield from self.db["sellers"].rows_where("merged_into IS NULL", order_by="id")

    def resolved_seller_id(self, seller_id: int) -> int:
        """The seller an id now stands for (a merged seller's id leads to the one it joined)."""
        for _ in range(100):
            row = self.db.execute(
                "SELECT merged_into FROM sellers WHERE id = ?", [seller_id]
            ).fetchone()
            if row is None or row[0] is None:
                return seller_id
            seller_id = row[0]
        return seller_id

    def seller_aliases(self, seller_id: int | None = None) -> list[dict]:
        where, params = (None, []) if seller_id is None else ("seller_id = ?", [seller_id])
        return list(self.db["seller_aliases"].rows_where(where, params, order_by="id"))

    def aliases_by_seller(self, kinds: Iterable[str] | None = None) -> dict[int, list[dict]]:
        """Every seller's aliases (of these kinds), in the order they were first seen."""
        sql = "SELECT * FROM seller_aliases"
        params: list = []
        if kinds is not None:
            kinds = list(kinds)
            sql += f" WHERE kind IN ({', '.join('?' for _ in kinds)})"
            params = kinds
        out: dict[int, list[dict]] = {}
        for row in self.db.query(sql + " ORDER BY id", params):
            out.setdefault(row["seller_id"], []).append(row)
        return out

    def flag_counts(self) -> dict[int, dict[str, int]]:
        """{seller id: {flag: number of its listings carrying it}} from current findings."""
        counts: dict[int, dict[str, int]] = {}
        for seller_id, flag, number in self.db.execute(FLAG_COUNTS_SQL):
            counts.setdefault(seller_id, {})[flag] = number
        return counts

    def seller_rows(self) -> Iterator[dict]:
        """Every seller with its aliases, profile URLs, domains, current verdict, listing and
        flag counts and network: the `export sellers` rows."""
        aliases = self.aliases_by_seller()
        counts = self.flag_counts()
        for row in self.db.query(SELLER_ROWS_SQL):
            own = aliases.get(row["id"], [])
            row["reasons"] = json.loads(row["reasons"] or "[]")
            row["flags"] = json.loads(row["flags"] or "[]")
            row["names"] = _shown(own, ("name",))
            row["profile_urls"] = _shown(own, PROFILE_KINDS)
            row["claimed_domains"] = _shown(own, DOMAIN_KINDS)
            row["identifiers"] = [
                {k: alias[k] for k in ("kind", "raw", "via", "seen_on", "first_seen", "last_seen")}
                for alias in own
                if alias["kind"] != "key"
            ]
            row["flag_counts"] = dict(sorted(counts.get(row["id"], {}).items()))
            yield row

    def network_members(self, network_id: int, *, ever: bool = False) -> list[int]:
        """The sellers of a network: current ones, or with `ever` every seller it ever held."""
        where = "" if ever else " AND is_current = 1"
        return [
            row[0]
            for row in self.db.execute(
                f"SELECT seller_id FROM network_members WHERE network_id = ?{where}"
                " ORDER BY seller_id",
                [network_id],
            )
        ]


def _shown(aliases: Iterable[dict], kinds: tuple[str, ...]) -> list[str]:
    """Distinct values of these kinds as first shown, oldest first."""
    found: dict[str, str] = {}
    for alias in aliases:
        if alias["kind"] in kinds and alias["via"] != "stored key":
            found.setdefault(alias["value"], alias["raw"] or alias["value"])
    return list(found.values())
