"""The digest's reads at scale (issue 19): every flagged subject one row at a time, with its
case, the evidence the latest earlier digest showed of it and its newest capture joined in SQL
(by index, per row), so the digest never holds every case, every shown evidence or every
capture at once."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import sqlite_utils

from grayhound.store.digests import FLAGGED, FLAGGED_COLUMNS, FLAGGED_ORDER, Record, shared_rows

LISTING_FROM = """
    FROM findings f
    JOIN listings l ON l.id = f.subject_id
    LEFT JOIN sellers s ON s.id = l.seller_id
    WHERE f.subject_kind = 'listing' AND {flagged}
"""
LISTING_COLUMNS = """
    l.canonical_url AS url, l.title, l.price, l.currency, l.source, l.first_seen, l.last_seen,
    l.seller_id, COALESCE(l.seller_name, s.name) AS seller_name,
    COALESCE(l.seller_domain, s.domain, s.claimed_domain) AS seller_domain
"""
SELLER_FROM = """
    FROM findings f
    JOIN sellers s ON s.id = f.subject_id
    WHERE f.subject_kind = 'seller' AND {flagged}
"""
SELLER_COLUMNS = """
    s.profile_url AS url, s.name AS seller_name, s.source, s.id AS seller_id,
    COALESCE(s.domain, s.claimed_domain) AS seller_domain, s.claimed_domain,
    s.first_seen, s.last_seen,
    (SELECT COUNT(*) FROM listings l WHERE l.seller_id = s.id) AS listing_count
"""
# Per case, the evidence of the latest digest at or before the reference point that showed it
# (digest_items by its case_id index): what `shown_evidence` gives, one case at a time.
SHOWN = """
    (SELECT i.evidence FROM digest_items i JOIN digests d ON d.id = i.digest_id
     WHERE i.case_id = c.id AND d.created_at <= :reference
     ORDER BY d.created_at DESC, d.id DESC LIMIT 1) AS shown_evidence
"""
# A listing's newest capture (capture_links by its subject index): `latest_listing_captures`.
CAPTURE = """
    LEFT JOIN captures k ON k.id = (
        SELECT x.capture_id FROM capture_links x JOIN captures y ON y.id = x.capture_id
        WHERE x.subject_kind = 'listing' AND x.subject_id = l.id
        ORDER BY y.fetched_at DESC, y.id DESC LIMIT 1)
"""
CAPTURE_COLUMNS = """
    k.id AS capture_id, k.url AS capture_url, k.warc_file AS capture_warc_file,
    k.offset AS capture_offset, k.length AS capture_length,
    k.payload_sha256 AS capture_sha256, k.fetched_at AS capture_fetched_at
"""
NO_CAPTURE = ", ".join(
    f"NULL AS {name}"
    for name in ("capture_id", "capture_url", "capture_warc_file", "capture_offset",
                 "capture_length", "capture_sha256", "capture_fetched_at")
)  # fmt: skip
KEEP = 5000  # rows between forgetting shared text: what a streamed pass holds at most


class DigestRows:
    """Mixin of Store: the flagged subjects, streamed."""

    db: sqlite_utils.Database

    def flagged_subjects(self) -> FlaggedSubjects:
        return FlaggedSubjects(self)

    def iter_flagged(self) -> Iterator[Record]:
        """What `flagged_listing_findings() + flagged_seller_findings()` return, streamed."""
        for sql in (
            f"SELECT {FLAGGED_COLUMNS}, {LISTING_COLUMNS} {LISTING_FROM} ORDER BY {FLAGGED_ORDER}",
            f"SELECT {FLAGGED_COLUMNS}, {SELLER_COLUMNS} {SELLER_FROM} ORDER BY {FLAGGED_ORDER}",
        ):
            yield from shared_rows(self.db.execute(sql.format(flagged=FLAGGED)), keep=KEEP)

    def digest_rows(self, reference: str, states: tuple[str, ...]) -> Iterator[dict]:
        """Every flagged subject whose case is in one of `states`, with `case_id`,
        `case_state`, `shown_evidence` (JSON text or None) and its newest capture's
        `capture_*` columns, one at a time (order: as `iter_flagged`)."""
        marks = ", ".join(f":state{i}" for i in range(len(states)))
        params: dict = {"reference": reference, **{f"state{i}": s for i, s in enumerate(states)}}
        case = "c.id AS case_id, c.state AS case_state"
        listing = f"""
            SELECT {FLAGGED_COLUMNS}, {LISTING_COLUMNS}, {case}, {SHOWN}, {CAPTURE_COLUMNS}
            {
            LISTING_FROM.replace(
                "WHERE",
                f"{CAPTURE} JOIN cases c ON c.subject_kind = 'listing'"
                " AND c.subject_id = f.subject_id WHERE",
            )
        }
            AND c.state IN ({marks}) ORDER BY {FLAGGED_ORDER}
        """
        seller = f"""
            SELECT {FLAGGED_COLUMNS}, {SELLER_COLUMNS}, {case}, {SHOWN}, {NO_CAPTURE}
            {
            SELLER_FROM.replace(
                "WHERE",
                "JOIN cases c ON c.subject_kind = 'seller' AND c.subject_id = f.subject_id WHERE",
            )
        }
            AND c.state IN ({marks}) ORDER BY {FLAGGED_ORDER}
        """
        for sql in (listing, seller):
            yield from _dict_rows(self.db.execute(sql.format(flagged=FLAGGED), params))


class FlaggedSubjects(Mapping):
    """{(subject_kind, subject_id): flagged row} read from the store as it is used: a key's row
    by its index, the whole in one streamed pass; never all held (what triage's
    `reopen_changed` and `follow_sellers` read)."""

    def __init__(self, store):
        self._store = store

    def __getitem__(self, key: tuple):
        kind, subject_id = key
        if kind == "listing":
            rows = self._store.flagged_listing_findings(subject_id)
        else:
            rows = self._store.flagged_seller_findings(subject_id)
        if not rows:
            raise KeyError(key)
        return rows[0]

    def __iter__(self) -> Iterator[tuple]:
        """The keys, in `iter_flagged` order, read alone (no row is built)."""
        db = self._store.db
        for sql in (
            f"SELECT f.subject_kind, f.subject_id {LISTING_FROM} ORDER BY {FLAGGED_ORDER}",
            f"SELECT f.subject_kind, f.subject_id {SELLER_FROM} ORDER BY {FLAGGED_ORDER}",
        ):
            yield from db.execute(sql.format(flagged=FLAGGED))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def open_cases(self, now: str) -> None:
        """`Store.open_cases(self, now)` in one statement per kind, in SQL: a case for every
        flagged subject without one, numbered in `iter_flagged` order."""
        db = self._store.db
        with db.atomic():
            for where in (LISTING_FROM, SELLER_FROM):
                db.execute(
                    "INSERT OR IGNORE INTO cases (subject_kind, subject_id, state, opened_at,"
                    f" updated_at) SELECT f.subject_kind, f.subject_id, 'open', ?, ? {where}"
                    " AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.subject_kind ="
                    " f.subject_kind AND c.subject_id = f.subject_id)"
                    f" ORDER BY {FLAGGED_ORDER}".format(flagged=FLAGGED),
                    [now, now],
                )

    def items(self):  # one pass, not one query per key
        return (
            ((row["subject_kind"], row["subject_id"]), row) for row in self._store.iter_flagged()
        )


def _dict_rows(cursor) -> Iterator[dict]:
    """Rows as plain dicts (each read once and let go), `flags` and `reasons` decoded into
    tuples as `shared_rows` does; the decoded lists are remembered for `KEEP` rows at most."""
    names = [column[0] for column in cursor.description]
    decoded: dict[str, tuple] = {}
    for number, values in enumerate(cursor, 1):
        row = dict(zip(names, values, strict=True))
        for key in ("flags", "reasons"):
            text = row[key] or "[]"
            if text not in decoded:
                decoded[text] = tuple(json.loads(text))
            row[key] = decoded[text]
        yield row
        if number % KEEP == 0:
            decoded.clear()
