"""Every flagged subject at scale (issue 19), read as triage uses them: one row at a time,
a key's row by its index, and a case opened for each in SQL (`FlaggedSubjects`). The digest's
own reads are in `digestcases`."""

from __future__ import annotations

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
KEEP = 5000  # rows between forgetting shared text: what a streamed pass holds at most
# Every flagged subject without a case is queued for the digest's book (`digest_pending`):
# the write of its finding queued it, and a fill of the book never claims one still without
# a case (`digestbook.StoredBook.fill`). A subject kind of '*' is a mark, not a subject: the
# whole book to make again, or every flagged subject to look at (migration 0014).
WHOLE_QUEUE = "SELECT 1 FROM digest_pending WHERE subject_kind = '*' LIMIT 1"
OPEN_EVERY = ("*", 1)  # the mark that asks `open_cases` to look at every flagged subject
QUEUED = """FROM digest_pending p CROSS JOIN findings f
    ON f.subject_kind = p.subject_kind AND f.subject_id = p.subject_id"""


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
        flagged subject without one, numbered in `iter_flagged` order. Only the subjects
        queued for the digest's book are looked at (`unopened`), unless a mark in the queue
        asks for every flagged subject (a new store, or one from before the queue was read)."""
        db = self._store.db
        with db.atomic():
            whole = db.execute(WHOLE_QUEUE).fetchone() is not None
            for kind in ("listing", "seller"):
                db.execute(
                    "INSERT OR IGNORE INTO cases (subject_kind, subject_id, state, opened_at,"
                    " updated_at) SELECT f.subject_kind, f.subject_id, 'open', ?, ?"
                    f" {unopened(kind, queued=not whole)} ORDER BY {FLAGGED_ORDER}",
                    [now, now],
                )

    def items(self):  # one pass, not one query per key
        return (
            ((row["subject_kind"], row["subject_id"]), row) for row in self._store.iter_flagged()
        )


def unopened(kind: str, *, queued: bool) -> str:
    """The FROM and WHERE (on `f`, the finding) of the flagged subjects of `kind` that have no
    case: among those queued in `digest_pending` (`queued`: each read by its index, `p` its
    queue row) or among every flagged finding."""
    where = LISTING_FROM if kind == "listing" else SELLER_FROM
    if queued:
        where = where.replace("FROM findings f", QUEUED) + f" AND p.subject_kind = '{kind}'"
    return (
        f"{where} AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.subject_kind = f.subject_kind"
        " AND c.subject_id = f.subject_id)"
    ).format(flagged=FLAGGED)
