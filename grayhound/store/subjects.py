"""What is known about one seller or one listing, gathered for a person to read: the reads
behind `grayhound serve`'s seller and listing pages and the extra columns of its cases queue.

Every query here only reads. A seller is read as seller identity keeps it (docs/sellers.md):
its `seller_aliases` with their provenance, the sellers merged into it, its current verdict in
`findings` (kind seller) and its network (`networks`, `network_members`)."""

from __future__ import annotations

import json
import sqlite3

import sqlite_utils

# What each of grayhound serve's derived tables is computed from: when none of these figures
# moved, the table is still true. Each is a primary-key MAX or a short read, never a scan (the
# newest end of a finding through the partial index of ended findings: without `IS NOT NULL`
# SQLite cannot use it and read every finding, ~0.6 s of CPU at 1M listings per request).
CHANGE_STAMPS = {
    "queue": """SELECT (SELECT MAX(id) FROM findings),
                       (SELECT MAX(ended_at) FROM findings WHERE ended_at IS NOT NULL),
                       (SELECT MAX(id) FROM cases),
                       (SELECT MAX(id) FROM review_log), (SELECT MAX(id) FROM digests),
                       (SELECT MAX(id) FROM observations),
                       (SELECT MAX(id) FROM seller_observations),
                       (SELECT MAX(last_seen) FROM network_members),
                       (SELECT seq FROM sqlite_sequence WHERE name = 'queue_changes'),
                       (SELECT json_array(id, status, finished_at) FROM crawl_runs
                        ORDER BY id DESC LIMIT 1)""",
    "crawl_health": """SELECT (SELECT MAX(id) FROM crawl_runs), (SELECT COUNT(*) FROM source_stats),
                        (SELECT group_concat(status) FROM
                            (SELECT status FROM crawl_runs ORDER BY id DESC LIMIT 3))""",
    "competitors": """SELECT (SELECT MAX(id) FROM observations), (SELECT MAX(id) FROM findings),
                        (SELECT MAX(id) FROM crawl_runs),
                        (SELECT status FROM crawl_runs ORDER BY id DESC LIMIT 1)""",
}

CURRENT_FINDING = """
    LEFT JOIN findings f
      ON f.subject_kind = :kind AND f.subject_id = :id AND f.is_current = 1
"""


def reader(conn: sqlite3.Connection):
    """A Store over a connection someone else opened (Datasette's read-only one)."""
    from grayhound.store.core import Store

    return Store(sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False))


class Subjects:
    """Mixin of Store: a seller or a listing with everything a reviewer reads about it."""

    db: sqlite_utils.Database

    def change_stamp(self, derived: str) -> tuple:
        """Figures that move whenever the data behind a derived table (`CHANGE_STAMPS`) does."""
        return tuple(self.db.execute(CHANGE_STAMPS[derived]).fetchone())

    # -- sellers --------------------------------------------------------------------------
    def seller_profile(self, seller_id: int) -> dict | None:
        """The seller's latest state with its current verdict, risk, flags, reasons and
        network (a merged seller's row says `merged_into`)."""
        sql = f"""
            SELECT s.*, f.verdict, f.score AS risk, f.flags, f.reasons, f.brand,
                   f.detected_at, n.network_id,
                   (SELECT COUNT(*) FROM listings l WHERE l.seller_id = s.id) AS listing_count
            FROM sellers s {CURRENT_FINDING}
            LEFT JOIN network_members n ON n.seller_id = s.id AND n.is_current = 1
            WHERE s.id = :id
        """
        rows = list(self.db.query(sql, {"kind": "seller", "id": seller_id}))
        return _decoded(rows[0]) if rows else None

    def seller_identifiers(self, seller_id: int) -> list[dict]:
        """Every identifier the seller was seen under (`seller_aliases` but its stored key):
        kind, value as the page gave it, where it was read, on which page, first and last
        seen; by kind, then as first seen."""
        sql = """
            SELECT kind, value, raw, via, seen_on, first_seen, last_seen
            FROM seller_aliases WHERE seller_id = ? AND kind != 'key'
            ORDER BY kind, value, first_seen, id
        """
        return list(self.db.query(sql, [seller_id]))

    def merged_sellers(self, seller_id: int) -> list[dict]:
        """The seller rows later found to be this seller and merged into it."""
        sql = """SELECT id, source, name, merged_at, merge_reason FROM sellers
                 WHERE merged_into = ? ORDER BY id"""
        return list(self.db.query(sql, [seller_id]))

    def seller_listings(self, seller_id: int) -> list[dict]:
        """The seller's listings with their current judgement, riskiest first."""
        sql = """
            SELECT l.id, l.title, l.url, l.canonical_url, l.price, l.currency, l.condition,
                   l.first_seen, l.last_seen, f.verdict, f.score AS risk, f.flags, f.reasons,
                   f.model, f.msrp, f.msrp_currency, f.price_ratio, f.is_accessory
            FROM listings l
            LEFT JOIN findings f
              ON f.subject_kind = 'listing' AND f.subject_id = l.id AND f.is_current = 1
            WHERE l.seller_id = ?
            ORDER BY COALESCE(f.score, 0) DESC, l.id
        """
        return [_decoded(row) for row in self.db.query(sql, [seller_id])]

    # -- networks ------------------------------------------------------------------------
    def network_profile(self, network_id: int) -> dict | None:
        """One network row with its sources and signals decoded (`merged_into` set when it
        joined another)."""
        row = self.db.execute(
            "SELECT id, first_seen, last_seen, is_current, merged_into, seller_count, sources,"
            " signals FROM networks WHERE id = ?",
            [network_id],
        ).fetchone()
        if row is None:
            return None
        keys = ("id", "first_seen", "last_seen", "is_current", "merged_into", "seller_count")
        network = dict(zip(keys, row[:6], strict=True))
        network["sources"] = json.loads(row[6] or "[]")
        network["signals"] = json.loads(row[7] or "[]")
        return network

    def network_sellers(self, network_id: int) -> list[dict]:
        """Every seller the network holds or held, with its membership, current verdict, risk,
        listings and case: current members first, riskiest first."""
        sql = """
            SELECT s.id, s.name, s.source, s.profile_url, s.domain, s.claimed_domain,
                   m.first_seen AS member_since, m.last_seen AS member_until, m.is_current,
                   f.verdict, f.score AS risk, f.reasons,
                   (SELECT COUNT(*) FROM listings l WHERE l.seller_id = s.id) AS listing_count,
                   (SELECT json_group_array(DISTINCT a.value) FROM seller_aliases a
                    WHERE a.seller_id = s.id AND a.kind IN ('website', 'shop_domain', 'myshopify')
                   ) AS claimed_domains,
                   c.id AS case_id, c.state
            FROM network_members m
            JOIN sellers s ON s.id = m.seller_id
            LEFT JOIN findings f
              ON f.subject_kind = 'seller' AND f.subject_id = s.id AND f.is_current = 1
            LEFT JOIN cases c ON c.subject_kind = 'seller' AND c.subject_id = s.id
            WHERE m.network_id = ?
            ORDER BY m.is_current DESC, COALESCE(f.score, 0) DESC, s.id
        """
        rows = [_decoded(row) for row in self.db.query(sql, [network_id])]
        for row in rows:
            row["claimed_domains"] = json.loads(row["claimed_domains"] or "[]")
        return rows

    def seller_verdicts(self) -> dict[int, str]:
        """{seller id: its current verdict}, for every judged seller."""
        sql = """SELECT subject_id, verdict FROM findings
                 WHERE subject_kind = 'seller' AND is_current = 1"""
        return dict(self.db.execute(sql).fetchall())

    def listing_sellers(self) -> dict[int, int]:
        """{listing id: seller id} for every listing that names a seller."""
        sql = "SELECT id, seller_id FROM listings WHERE seller_id IS NOT NULL"
        return dict(self.db.execute(sql).fetchall())

    # -- listings -------------------------------------------------------------------------
    def listing_profile(self, listing_id: int) -> dict | None:
        """The listing's latest state, its seller and its current judgement."""
        sql = f"""
            SELECT l.*, s.name AS seller_profile_name, s.profile_url AS seller_url,
                   f.verdict, f.score AS risk, f.flags, f.reasons, f.model, f.msrp,
                   f.msrp_currency, f.price_ratio, f.is_accessory,
                   f.condition AS judged_condition, f.detected_at,
                   sf.verdict AS seller_verdict, sf.score AS seller_risk, n.network_id
            FROM listings l
            LEFT JOIN sellers s ON s.id = l.seller_id {CURRENT_FINDING}
            LEFT JOIN findings sf
              ON sf.subject_kind = 'seller' AND sf.subject_id = l.seller_id AND sf.is_current = 1
            LEFT JOIN network_members n ON n.seller_id = l.seller_id AND n.is_current = 1
            WHERE l.id = :id
        """
        rows = list(self.db.query(sql, {"kind": "listing", "id": listing_id}))
        return _decoded(rows[0]) if rows else None

    def capture_by_id(self, capture_id: int) -> dict | None:
        return next(iter(self.db["captures"].rows_where("id = ?", [capture_id])), None)

    # -- triage ---------------------------------------------------------------------------
    def case_of(self, subject_kind: str, subject_id: int) -> dict | None:
        rows = self.db["cases"].rows_where(
            "subject_kind = ? AND subject_id = ?", [subject_kind, subject_id]
        )
        return next(iter(rows), None)

    def listing_cases(self, seller_id: int) -> list[dict]:
        """The cases of a seller's listings, with their latest decision."""
        sql = """
            SELECT c.*, l.title, r.at AS decided_at, r.by AS decided_by, r.note
            FROM cases c
            JOIN listings l ON l.id = c.subject_id AND l.seller_id = ?
            LEFT JOIN review_log r
              ON r.id = (SELECT MAX(g.id) FROM review_log g WHERE g.case_id = c.id)
            WHERE c.subject_kind = 'listing'
            ORDER BY c.id
        """
        return list(self.db.query(sql, [seller_id]))


def _decoded(row: dict) -> dict:
    for key in ("flags", "reasons"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
        elif row.get(key) is None:
            row[key] = []
    return row
