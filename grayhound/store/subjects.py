"""What is known about one seller or one listing, gathered for a person to read: the reads
behind `grayhound serve`'s seller and listing pages and the extra columns of its cases queue.

Every query here only reads. Seller identity (aliases, claimed domains, networks) is read from
what the sellers and seller_observations tables hold; extend these functions, not their
callers, as that model grows."""

from __future__ import annotations

import json
import sqlite3

import sqlite_utils

# What each of grayhound serve's derived tables is computed from: when none of these figures
# moved, the table is still true. Each is a primary-key MAX or a short read, never a scan.
CHANGE_STAMPS = {
    "queue": """SELECT (SELECT MAX(id) FROM findings), (SELECT MAX(id) FROM cases),
                       (SELECT MAX(id) FROM review_log), (SELECT MAX(id) FROM digests),
                       (SELECT MAX(id) FROM observations),
                       (SELECT MAX(id) FROM seller_observations)""",
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
        """The seller's latest state with its current verdict, risk, flags and reasons."""
        sql = f"""
            SELECT s.*, f.verdict, f.score AS risk, f.flags, f.reasons, f.brand,
                   f.detected_at, (SELECT COUNT(*) FROM listings l WHERE l.seller_id = s.id)
                   AS listing_count
            FROM sellers s {CURRENT_FINDING}
            WHERE s.id = :id
        """
        rows = list(self.db.query(sql, {"kind": "seller", "id": seller_id}))
        return _decoded(rows[0]) if rows else None

    def seller_names_seen(self, seller_id: int) -> list[dict]:
        """Every name the seller was seen under, with when and how often."""
        sql = """
            SELECT name, MIN(observed_at) AS first_seen, MAX(observed_at) AS last_seen,
                   COUNT(*) AS sightings
            FROM seller_observations WHERE seller_id = ? AND name IS NOT NULL
            GROUP BY name ORDER BY first_seen
        """
        return list(self.db.query(sql, [seller_id]))

    def seller_domains_seen(self, seller_id: int) -> list[dict]:
        """Every domain the seller operates or claims, with how it is known."""
        sql = """
            SELECT domain, 'operates' AS how, MIN(observed_at) AS first_seen,
                   MAX(observed_at) AS last_seen
            FROM seller_observations WHERE seller_id = :id AND domain IS NOT NULL
            GROUP BY domain
            UNION ALL
            SELECT claimed_domain, 'claims', MIN(observed_at), MAX(observed_at)
            FROM seller_observations WHERE seller_id = :id AND claimed_domain IS NOT NULL
            GROUP BY claimed_domain
            ORDER BY 3
        """
        return list(self.db.query(sql, {"id": seller_id}))

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

    def sellers_sharing_domains(self, seller_id: int) -> list[dict]:
        """Other sellers, in any source, that operate or claim a domain this one does: the
        seller's network as far as the stored data shows it."""
        sql = """
            WITH mine AS (
                SELECT domain AS d FROM seller_observations WHERE seller_id = :id
                UNION SELECT claimed_domain FROM seller_observations WHERE seller_id = :id
                UNION SELECT domain FROM sellers WHERE id = :id
                UNION SELECT claimed_domain FROM sellers WHERE id = :id
            )
            SELECT s.id, s.name, s.source, s.domain, s.claimed_domain, f.verdict,
                   f.score AS risk
            FROM sellers s
            LEFT JOIN findings f
              ON f.subject_kind = 'seller' AND f.subject_id = s.id AND f.is_current = 1
            WHERE s.id != :id AND (s.domain IN (SELECT d FROM mine WHERE d IS NOT NULL)
                                   OR s.claimed_domain IN (SELECT d FROM mine WHERE d IS NOT NULL))
            ORDER BY COALESCE(f.score, 0) DESC, s.id
        """
        return list(self.db.query(sql, {"id": seller_id}))

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
                   f.condition AS judged_condition, f.detected_at
            FROM listings l
            LEFT JOIN sellers s ON s.id = l.seller_id {CURRENT_FINDING}
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
