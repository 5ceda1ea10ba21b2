"""What the digest reads and remembers: flagged findings with their subjects, the digests sent
(which cases, with which evidence), and the log of scheduled runs."""

from __future__ import annotations

import json

import sqlite_utils

from grayhound.store.findings import _decoded

FLAGGED = "f.is_current = 1 AND (f.verdict != 'clean' OR f.flags NOT IN ('[]', ''))"


def create_schema(db: sqlite_utils.Database) -> None:
    db["digests"].create(
        {
            "id": int,
            "created_at": str,
            "since": str,  # the reference point the digest compared against
            "counts": str,  # JSON: per group and per flag
            "crawl_run_id": int,
        },
        pk="id",
        not_null={"created_at"},
    )
    db["digest_items"].create(
        {
            "digest_id": int,
            "case_id": int,
            "finding_id": int,
            "fingerprint": str,  # the finding's judgement fingerprint
            "grouping": str,  # new | changed | open
            "evidence": str,  # JSON snapshot: what "changed" compares against next time
        },
        pk=("digest_id", "case_id"),
        foreign_keys=[("digest_id", "digests", "id"), ("case_id", "cases", "id")],
    )
    db["digest_items"].create_index(["case_id"])
    db["schedule_runs"].create(
        {
            "id": int,
            "scheduled_for": str,
            "started_at": str,
            "finished_at": str,
            "exit_status": int,
            "pid": int,
        },
        pk="id",
        not_null={"started_at"},
    )


class Digests:
    """Mixin of Store: reads for the digest, the digests sent, and scheduled runs."""

    db: sqlite_utils.Database

    # -- what the digest shows --------------------------------------------------------------
    def flagged_listing_findings(self) -> list[dict]:
        """Current listing findings that flag something, with the listing's latest state."""
        sql = f"""
            SELECT f.*, l.canonical_url AS url, l.title, l.price, l.currency, l.source, l.first_seen,
                   l.last_seen, l.seller_id,
                   COALESCE(l.seller_name, s.name) AS seller_name,
                   COALESCE(l.seller_domain, s.domain, s.claimed_domain) AS seller_domain,
                   (SELECT MIN(g.detected_at) FROM findings g WHERE g.subject_kind = 'listing'
                      AND g.subject_id = f.subject_id) AS first_judged
            FROM findings f
            JOIN listings l ON l.id = f.subject_id
            LEFT JOIN sellers s ON s.id = l.seller_id
            WHERE f.subject_kind = 'listing' AND {FLAGGED}
        """
        return [_decoded(r) for r in self.db.query(sql)]

    def flagged_seller_findings(self) -> list[dict]:
        """Current seller findings that flag something, with the seller's latest state."""
        sql = f"""
            SELECT f.*, s.profile_url AS url, s.name AS seller_name, s.source,
                   COALESCE(s.domain, s.claimed_domain) AS seller_domain, s.claimed_domain,
                   s.first_seen, s.last_seen,
                   (SELECT COUNT(*) FROM listings l WHERE l.seller_id = s.id) AS listing_count,
                   (SELECT MIN(g.detected_at) FROM findings g WHERE g.subject_kind = 'seller'
                      AND g.subject_id = f.subject_id) AS first_judged
            FROM findings f
            JOIN sellers s ON s.id = f.subject_id
            WHERE f.subject_kind = 'seller' AND {FLAGGED}
        """
        return [_decoded(r) for r in self.db.query(sql)]

    # -- digests sent -------------------------------------------------------------------------
    def record_digest(
        self, created_at: str, since: str, counts: dict, items: list[dict], run_id: int | None
    ) -> int:
        """Remember a digest and, per case, the finding and evidence it showed."""
        with self.db.conn:
            digest_id = (
                self.db["digests"]
                .insert(
                    {
                        "created_at": created_at,
                        "since": since,
                        "counts": json.dumps(counts, sort_keys=True),
                        "crawl_run_id": run_id,
                    }
                )
                .last_pk
            )
            self.db["digest_items"].insert_all(
                {
                    "digest_id": digest_id,
                    "case_id": item["case_id"],
                    "finding_id": item["finding_id"],
                    "fingerprint": item["fingerprint"],
                    "grouping": item["grouping"],
                    "evidence": json.dumps(item["evidence"], sort_keys=True, default=str),
                }
                for item in items
            )
        return digest_id

    def previous_digest(self, before: str) -> dict | None:
        rows = list(
            self.db["digests"].rows_where(
                "created_at <= ?", [before], order_by="created_at desc, id desc", limit=1
            )
        )
        return rows[0] if rows else None

    def digests(self) -> list[dict]:
        return list(self.db["digests"].rows_where(order_by="id"))

    def shown_evidence(self, reference: str) -> dict[int, dict]:
        """Per case, the evidence shown in the latest digest created at or before `reference`."""
        sql = """
            SELECT i.case_id, i.evidence FROM digest_items i
            JOIN digests d ON d.id = i.digest_id
            WHERE d.created_at <= ?
            ORDER BY d.created_at, d.id
        """
        return {
            row["case_id"]: json.loads(row["evidence"]) for row in self.db.query(sql, [reference])
        }

    # -- scheduled runs -----------------------------------------------------------------------
    def start_schedule_run(self, scheduled_for: str, started_at: str, pid: int) -> int:
        with self.db.conn:
            return (
                self.db["schedule_runs"]
                .insert({"scheduled_for": scheduled_for, "started_at": started_at, "pid": pid})
                .last_pk
            )

    def finish_schedule_run(self, schedule_run_id: int, finished_at: str, exit_status: int) -> None:
        with self.db.conn:
            self.db["schedule_runs"].update(
                schedule_run_id, {"finished_at": finished_at, "exit_status": exit_status}
            )

    def schedule_runs(self) -> list[dict]:
        return list(self.db["schedule_runs"].rows_where(order_by="id"))
