"""Captures: the index of every HTTP response the crawler preserved in a WARC file.

A capture row points at its record by (warc_file, offset, length) relative to evidence_dir. A
revisit (a payload already stored in full) also carries the original record's location, so
an export can always fetch the body. `capture_links` ties a capture to each listing and seller
the response produced (one /products.json page produces many listings); `listing_id` and
`seller_id` on the capture hold the first of each, for quick reading."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import sqlite_utils

CAPTURE_COLUMNS = (
    "record_id",
    "url",
    "crawl_run_id",
    "source",
    "record_type",
    "warc_file",
    "offset",
    "length",
    "payload_sha256",
    "status",
    "content_type",
    "fetched_at",
    "host",
    "user",
    "original_warc_file",
    "original_offset",
    "original_length",
)


def create_schema(db: sqlite_utils.Database) -> None:
    db["captures"].create(
        {
            "id": int,
            "record_id": str,  # WARC-Record-ID of the response or revisit record
            "url": str,
            "listing_id": int,
            "seller_id": int,
            "crawl_run_id": int,
            "source": str,
            "record_type": str,  # response | revisit
            "warc_file": str,  # relative to evidence_dir
            "offset": int,  # start of the response/revisit record; the request record follows
            "length": int,  # bytes of both records
            "payload_sha256": str,  # hex, of the body exactly as stored
            "status": int,
            "content_type": str,
            "fetched_at": str,  # UTC ISO 8601
            "host": str,  # the machine and account that captured it (chain of custody)
            "user": str,
            "original_warc_file": str,  # for revisits: where the full record is
            "original_offset": int,
            "original_length": int,
        },
        pk="id",
        not_null={"record_id", "url", "warc_file", "offset", "length", "fetched_at"},
        foreign_keys=[
            ("listing_id", "listings", "id"),
            ("seller_id", "sellers", "id"),
            ("crawl_run_id", "crawl_runs", "id"),
        ],
    )
    db["captures"].create_index(["record_id"], unique=True)
    db["captures"].create_index(["payload_sha256", "record_type"])
    db["captures"].create_index(["listing_id"])
    db["captures"].create_index(["seller_id"])
    db["capture_links"].create(
        {"capture_id": int, "subject_kind": str, "subject_id": int},
        pk=("capture_id", "subject_kind", "subject_id"),
        foreign_keys=[("capture_id", "captures", "id")],
    )
    db["capture_links"].create_index(["subject_kind", "subject_id"])


# A subject's newest capture by one index search (issue 19, round 49): each link carries its
# capture's moment, so the newest one (what a digest item names) is the first entry of the
# subject's part of this index. Before, every capture the subject ever had was read and sorted,
# and a daily crawl adds one a listing a day.
NEWEST_INDEX = (
    "CREATE INDEX IF NOT EXISTS capture_links_newest"
    " ON capture_links (subject_kind, subject_id, fetched_at DESC, capture_id DESC)"
)
# Whoever links a capture without its moment (an older grayhound of a cluster, a test), the link
# gets it: `Captures.link_capture` gives it, and the trigger's body never runs for its links. A
# capture's moment never changes; a seller merge moves links whole. (The trigger's presence
# costs a crawl ~1-2 µs of CPU a link: the review's micro-run, round 49.)
LINK_MOMENT = """CREATE TRIGGER IF NOT EXISTS capture_links_moment AFTER INSERT ON capture_links
    WHEN new.fetched_at IS NULL BEGIN
        UPDATE capture_links SET fetched_at =
            (SELECT c.fetched_at FROM captures c WHERE c.id = new.capture_id)
        WHERE rowid = new.rowid;
    END"""


def keep_link_moments(db: sqlite_utils.Database) -> None:
    """Migration 0024_issue19_capture_moments: each link's capture moment (`fetched_at`),
    filled for the links stored, given by `link_capture` for each link it makes and by a
    trigger for a link made without it; the index of a subject's links by moment, newest
    first, in place of the one by subject alone (its prefix)."""
    if "fetched_at" not in db["capture_links"].columns_dict:
        db.execute("ALTER TABLE capture_links ADD COLUMN fetched_at TEXT")
    db.execute(
        "UPDATE capture_links SET fetched_at = (SELECT c.fetched_at FROM captures c"
        " WHERE c.id = capture_links.capture_id) WHERE fetched_at IS NULL"
    )
    db.execute(LINK_MOMENT)
    db.execute(NEWEST_INDEX)
    db.execute("DROP INDEX IF EXISTS idx_capture_links_subject_kind_subject_id")


class Captures:
    """Mixin of Store: the WARC capture index."""

    db: sqlite_utils.Database

    def record_capture(self, run_id: int, capture: dict) -> int:
        """Index one stored record; re-recording the same WARC record changes nothing."""
        row = {k: capture.get(k) for k in CAPTURE_COLUMNS}
        row["crawl_run_id"] = run_id
        cursor = self.db.execute(
            f"INSERT OR IGNORE INTO captures ({', '.join(f'[{c}]' for c in row)})"
            f" VALUES ({', '.join('?' for _ in row)})",
            list(row.values()),
        )
        if cursor.rowcount == 1:
            return cursor.lastrowid
        return self.db.execute(
            "SELECT id FROM captures WHERE record_id = ?", [row["record_id"]]
        ).fetchone()[0]

    def link_capture(
        self,
        record_id: str,
        subject_kind: str,
        subject_id: int,
        known: Mapping[str, int] | None = None,
    ) -> None:
        """Tie the capture with this WARC record id to a listing or seller it produced.
        `known` maps record ids to capture ids the caller has just stored."""
        capture_id = known.get(record_id) if known else None
        if capture_id is None:
            found = self.db.execute(
                "SELECT id FROM captures WHERE record_id = ?", [record_id]
            ).fetchone()
            capture_id = found[0] if found else None
        if capture_id is None or subject_id is None:
            return
        column = {"listing": "listing_id", "seller": "seller_id"}[subject_kind]
        self.db.execute(
            f"UPDATE captures SET {column} = COALESCE({column}, ?) WHERE id = ?",
            [subject_id, capture_id],
        )
        self.db.execute(  # with its capture's moment (`NEWEST_INDEX`): the trigger not needed
            "INSERT OR IGNORE INTO capture_links (capture_id, subject_kind, subject_id,"
            " fetched_at) VALUES (?1, ?2, ?3, (SELECT fetched_at FROM captures WHERE id = ?1))",
            [capture_id, subject_kind, subject_id],
        )

    def original_capture(self, sha256_hex: str) -> dict | None:
        """The first full (non-revisit) record of a payload, if any run stored one."""
        rows = self.db.query(  # once a page a crawl fetches: the statement alone, no table
            "SELECT * FROM captures WHERE payload_sha256 = ? AND record_type = 'response'"
            " ORDER BY id LIMIT 1",  # introspection as `rows_where` makes
            [sha256_hex],
        )
        return next(rows, None)

    def captures_of(self, subject_kind: str, subject_id: int) -> list[dict]:
        """Every capture linked to a listing or seller, across runs, oldest first.

        A seller's captures include those of every listing it sells; a network's, those of
        every seller it holds (or ever held, when none is current)."""
        if subject_kind == "network":
            members = self.network_members(subject_id) or self.network_members(
                subject_id, ever=True
            )
            found = {c["id"]: c for m in members for c in self.captures_of("seller", m)}
            return sorted(found.values(), key=lambda c: (c["fetched_at"], c["id"]))
        sql = """
            SELECT DISTINCT c.* FROM captures c
            JOIN capture_links k ON k.capture_id = c.id
            WHERE (k.subject_kind = :kind AND k.subject_id = :id)
               OR (:kind = 'seller' AND k.subject_kind = 'listing'
                   AND k.subject_id IN (SELECT id FROM listings WHERE seller_id = :id))
            ORDER BY c.fetched_at, c.id
        """
        return list(self.db.query(sql, {"kind": subject_kind, "id": subject_id}))

    def latest_listing_captures(self, listing_ids: set[int]) -> dict[int, dict]:
        """The newest capture of each of these listings that has one, in one query (the
        last of `captures_of("listing", id)`)."""
        sql = """
            SELECT * FROM (
                SELECT k.subject_id AS [_listing], ROW_NUMBER() OVER (
                    PARTITION BY k.subject_id ORDER BY c.fetched_at DESC, c.id DESC
                ) AS [_rank], c.*
                FROM capture_links k JOIN captures c ON c.id = k.capture_id
                WHERE k.subject_kind = 'listing'
            ) WHERE [_rank] = 1
        """
        latest = {}
        for row in self.db.query(sql):
            listing_id = row.pop("_listing")
            del row["_rank"]
            if listing_id in listing_ids:
                latest[listing_id] = row
        return latest

    def captures(self, run_id: int | None = None) -> Iterator[dict]:
        where, params = (None, []) if run_id is None else ("crawl_run_id = ?", [run_id])
        yield from self.db["captures"].rows_where(where, params, order_by="id")

    def listing_by_id(self, listing_id: int) -> dict | None:
        return next(iter(self.db["listings"].rows_where("id = ?", [listing_id])), None)

    def seller_by_id(self, seller_id: int) -> dict | None:
        return next(iter(self.db["sellers"].rows_where("id = ?", [seller_id])), None)
