"""What moved under `grayhound serve`'s cases queue since it was derived (issue 19): triggers
append the subject of every change to a finding, a listing's or seller's shown fields, a case,
a digest's item or a network membership to `queue_changes`, so a queue kept across runs
(`grayhound.store.queue`) derives again only the cases of those subjects (a change to a
seller's name or domain: its own and its listings'; to its verdict or network: its own, its
listings' rows only take the new verdict and network over), not every flagged row.

A listing's or seller's `last_seen` (every crawl moves all of them) is not logged: the queue
takes it over in one pass when a crawl ran since (`queue.sync_last_seen`)."""

from __future__ import annotations

import sqlite_utils

from grayhound.store.changes import SUPERSEDED, replace_triggers, requeue
from grayhound.store.digests import FLAGGED, FLAGGED_ORDER

LISTING_FIELDS = (
    "title", "price", "currency", "seller_id", "seller_name", "seller_domain", "source",
    "canonical_url", "first_seen",
)  # fmt: skip
SELLER_FIELDS = ("name", "domain", "claimed_domain", "profile_url", "source", "first_seen")
SELLER_LISTINGS = "seller+listings"  # logged kind: a seller whose listings' rows moved too
# One entry per subject, its newest (a change moves it to the end of the log), so the log
# never holds more than the store's subjects, however long no server takes it in.
LOG = "queue_changes"
# trigger name -> (event, WHEN or "", the logged subject's kind and id)
TRIGGERS = {
    "queue_finding_added": ("AFTER INSERT ON findings", "", "new.subject_kind", "new.subject_id"),
    "queue_finding_changed": (
        "AFTER UPDATE ON findings",
        f"NOT ({SUPERSEDED})",  # its successor's insert logs the subject
        "new.subject_kind",
        "new.subject_id",
    ),
    "queue_finding_removed": ("AFTER DELETE ON findings", "", "old.subject_kind", "old.subject_id"),
    "queue_listing_changed": (
        "AFTER UPDATE ON listings",
        " OR ".join(f"old.[{name}] IS NOT new.[{name}]" for name in LISTING_FIELDS),
        "'listing'",
        "new.id",
    ),
    "queue_seller_changed": (  # its name and domain are on its listings' rows too
        "AFTER UPDATE ON sellers",
        " OR ".join(f"old.[{name}] IS NOT new.[{name}]" for name in SELLER_FIELDS),
        f"'{SELLER_LISTINGS}'",
        "new.id",
    ),
    "queue_case_added": ("AFTER INSERT ON cases", "", "new.subject_kind", "new.subject_id"),
    "queue_case_changed": ("AFTER UPDATE ON cases", "", "new.subject_kind", "new.subject_id"),
    "queue_member_added": ("AFTER INSERT ON network_members", "", "'seller'", "new.seller_id"),
    "queue_member_changed": (
        "AFTER UPDATE ON network_members",
        "old.network_id IS NOT new.network_id OR old.is_current IS NOT new.is_current",
        "'seller'",
        "new.seller_id",
    ),
    "queue_member_removed": ("AFTER DELETE ON network_members", "", "'seller'", "old.seller_id"),
}


def create_schema(db: sqlite_utils.Database) -> None:
    """Migration 0013_issue19_serve: the change log and its triggers (no backfill: a queue
    derived before it is derived again whole once)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS queue_changes (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " subject_kind TEXT NOT NULL, subject_id INTEGER NOT NULL,"
        " UNIQUE (subject_id, subject_kind))"
    )
    # the log entry the last queue took in, as the store knows it: a queue file whose own
    # mark differs was derived from another store, or from this one before a restore
    db.execute("CREATE TABLE IF NOT EXISTS queue_taken (log INTEGER NOT NULL)")
    triggers = {
        name: (
            f"{event} WHEN {when}" if when else event,
            requeue(
                LOG,
                {"subject_kind": kind, "subject_id": subject},
                fail=event.endswith("ON findings"),  # `changes`: may not abort
            ),
        )
        for name, (event, when, kind, subject) in TRIGGERS.items()
    }
    # a digest's item: the case's subject (its group and changes are said against it)
    triggers["queue_digest_item"] = (
        "AFTER INSERT ON digest_items",
        requeue(
            LOG,
            {"subject_kind": "subject_kind", "subject_id": "subject_id"},
            "FROM cases WHERE id = new.case_id",
            "(subject_kind, subject_id) = (SELECT subject_kind, subject_id FROM cases"
            " WHERE id = new.case_id)",
        ),
    )
    replace_triggers(db, triggers)


# The flagged subjects of one kind logged after an entry, read from the log (by its id) first.
CHANGED_FLAGGED = """
    SELECT f.subject_kind, f.subject_id
    FROM (SELECT DISTINCT subject_id FROM queue_changes WHERE id > :after AND subject_kind = :kind) g
    CROSS JOIN findings f ON f.subject_kind = :kind AND f.subject_id = g.subject_id AND {flagged}
    WHERE EXISTS (SELECT 1 FROM {subjects} t WHERE t.id = f.subject_id)
    ORDER BY {order}
"""


def changed_flagged(db: sqlite_utils.Database, after: int) -> list[tuple[str, int]]:
    """The flagged subjects logged after that entry, listings then sellers, each in the order
    a case is opened for every flagged subject (`FLAGGED_ORDER`): opening theirs opens what
    opening every flagged subject's would, with the same ids."""
    keys = []
    for kind, subjects in (("listing", "listings"), ("seller", "sellers")):
        sql = CHANGED_FLAGGED.format(flagged=FLAGGED, subjects=subjects, order=FLAGGED_ORDER)
        keys += db.execute(sql, {"after": after, "kind": kind})
    return [tuple(key) for key in keys]
