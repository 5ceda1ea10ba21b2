"""What moved under `grayhound serve`'s cases queue since it was derived (issue 19): triggers
append the subject of every change to a finding, a listing's or seller's shown fields, a case,
a digest's item or a network membership to `queue_changes`, so a queue kept across runs
(`grayhound.store.queue`) derives again only the cases of those subjects (a change to a
seller's name or domain: its own and its listings'; to its verdict or network: its own, its
listings' rows only take the new verdict and network over), not every flagged row.

A listing's or seller's `last_seen` (every crawl moves all of them) is not logged: the queue
takes it over in one pass when a crawl ran since (`queue.sync_last_seen`).

The log is appended to, never rewritten by a trigger (issue 19, round 14): a subject changed
again gets a second entry, and every reader takes the distinct subjects of a span of entries.
Its length stays bounded without a server: `compact_log` keeps only each subject's newest
entry once more entries were appended since the last compaction than the store has subjects
(a crawl, as its run finishes) or four times that (a detect), which leaves every reader's
answer as it was (a subject has an entry after any mark exactly when its newest entry is
after it)."""

from __future__ import annotations

import sqlite3

import sqlite_utils

from grayhound.store.changes import SUPERSEDED, replace_triggers
from grayhound.store.digests import FLAGGED, FLAGGED_ORDER

LISTING_FIELDS = (
    "title", "price", "currency", "seller_id", "seller_name", "seller_domain", "source",
    "canonical_url", "first_seen",
)  # fmt: skip
SELLER_FIELDS = ("name", "domain", "claimed_domain", "profile_url", "source", "first_seen")
SELLER_LISTINGS = "seller+listings"  # logged kind: a seller whose listings' rows moved too
LOG = "queue_changes"
# The log's last entry when it was last compacted (`compact_log`): a one-row table.
COMPACTED = "queue_changes_compacted"
COMPACT_FLOOR = 10_000  # a log of a small store is compacted after this many entries at most
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


DIGEST_ITEM_TRIGGER = "queue_digest_item"  # made apart: its subject is read from `cases`
TRIGGER_NAMES = (*TRIGGERS, DIGEST_ITEM_TRIGGER)  # every trigger that writes the log

TABLE = (
    f"CREATE TABLE IF NOT EXISTS {LOG} (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " subject_kind TEXT NOT NULL, subject_id INTEGER NOT NULL)"
)


def _append(kind: str, subject: str, source: str = "", *, fail: bool = False) -> str:
    """A trigger statement that appends this subject to the log. With `fail`, `OR FAIL`: under
    the default (`ABORT`) a trigger's INSERT makes the statement that fires it keep a statement
    journal (`changes.requeue`); an append has no constraint that may fail."""
    values = f"SELECT {kind}, {subject} {source}" if source else f"VALUES ({kind}, {subject})"
    return f"INSERT{' OR FAIL' if fail else ''} INTO {LOG} (subject_kind, subject_id) {values};"


def create_schema(db: sqlite_utils.Database) -> None:
    """Migration 0013_issue19_serve: the change log and its triggers (no backfill: a queue
    derived before it is derived again whole once). Later migrations call it again to make
    the triggers anew; since 0020 a new store's log has no unique index (`append_only`)."""
    db.execute(TABLE)
    # the log entry the last queue took in, as the store knows it: a queue file whose own
    # mark differs was derived from another store, or from this one before a restore
    db.execute("CREATE TABLE IF NOT EXISTS queue_taken (log INTEGER NOT NULL)")
    db.execute(f"CREATE TABLE IF NOT EXISTS {COMPACTED} (upto INTEGER NOT NULL)")
    triggers = {
        name: (
            f"{event} WHEN {when}" if when else event,
            # `changes`: the triggers on findings may not abort
            _append(kind, subject, fail=event.endswith("ON findings")),
        )
        for name, (event, when, kind, subject) in TRIGGERS.items()
    }
    # a digest's item: the case's subject (its group and changes are said against it)
    triggers[DIGEST_ITEM_TRIGGER] = (
        "AFTER INSERT ON digest_items",
        _append("subject_kind", "subject_id", "FROM cases WHERE id = new.case_id"),
    )
    replace_triggers(db, triggers)


def append_only(db: sqlite_utils.Database) -> None:
    """Migration 0020_issue19_append_only_change_log: the log without its unique index, its
    triggers appending (they deleted the subject's entry, then inserted it last: a DELETE
    by the index and two index writes per change, ~2 s of a daily detection at 1,000,000
    listings). The entries keep their ids and the log its sequence, so a queue derived before
    takes in what it had not yet taken."""
    unique = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NULL",
        [LOG],
    ).fetchone()
    if unique:  # the log of migration 0013: made again, entry for entry
        for name in TRIGGER_NAMES:  # they name the log: none may stand while it is made again
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", [LOG]).fetchone()
        db.execute(TABLE.replace(LOG, f"{LOG}_new", 1))
        db.execute(
            f"INSERT INTO {LOG}_new (id, subject_kind, subject_id)"
            f" SELECT id, subject_kind, subject_id FROM {LOG} ORDER BY id"
        )
        db.execute(f"DROP TABLE {LOG}")
        db.execute(f"ALTER TABLE {LOG}_new RENAME TO {LOG}")
        if row is not None:  # the sequence goes on from where it was, not from the last entry
            db.execute("DELETE FROM sqlite_sequence WHERE name = ?", [LOG])
            db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", [LOG, row[0]])
    create_schema(db)
    if not db.execute(f"SELECT 1 FROM {COMPACTED}").fetchone():
        db.execute(
            f"INSERT INTO {COMPACTED} (upto) SELECT COALESCE("
            "(SELECT seq FROM sqlite_sequence WHERE name = ?), 0)",
            [LOG],
        )


def _due(db: sqlite_utils.Database, allowance: int) -> int | None:
    """The log's last entry when more entries were appended since the last compaction than
    `allowance` times the store's subjects, else None."""
    last = db.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", [LOG]).fetchone()
    compacted = db.execute(f"SELECT upto FROM {COMPACTED}").fetchone()
    if last is None or compacted is None:
        return None
    subjects = db.execute(
        "SELECT COALESCE((SELECT MAX(id) FROM listings), 0)"
        " + 2 * COALESCE((SELECT MAX(id) FROM sellers), 0)"
    ).fetchone()[0]
    if last[0] - compacted[0] <= allowance * max(subjects, COMPACT_FLOOR):
        return None
    return last[0]


def compact_log(db: sqlite_utils.Database, allowance: int = 1) -> int:
    """Keep only each subject's newest entry once more entries were appended since the last
    compaction than `allowance` times the store's subjects (its listings and, twice, its
    sellers: each is logged under two kinds; at least `COMPACT_FLOOR`). A crawl compacts
    with an allowance of 1, so a store crawled every day and never served keeps a log of
    at most about twice its subjects (or `COMPACT_FLOOR`) and a day's changes; a detection
    with `DETECT_ALLOWANCE` (at 1,000,000 listings compaction takes ~2.6 s, which belongs in
    a crawl's minutes rather than a daily detect's seconds; a store judged again and again
    without a crawl still keeps a bounded log). Call it in a write transaction. Returns the
    entries dropped."""
    last = _due(db, allowance)
    if last is None:
        return 0
    dropped = db.execute(
        f"DELETE FROM {LOG} WHERE id NOT IN"
        f" (SELECT MAX(id) FROM {LOG} GROUP BY subject_kind, subject_id)"
    ).rowcount
    db.execute(f"UPDATE {COMPACTED} SET upto = ?", [last])
    return dropped


DETECT_ALLOWANCE = 4
# What leaves the log as it is for the next crawl or detect to compact: the store locked past
# the busy timeout (SQLITE_BUSY, SQLITE_LOCKED) or a full disk (SQLITE_FULL). Any other error
# (a disk I/O error, a read-only file, a broken schema) is the caller's, as any write's.
SKIPPED = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL}


def compact_when_due(db: sqlite_utils.Database, allowance: int = 1) -> int | None:
    """`compact_log`, when it is due (a plain read first: a store not due takes no lock and
    waits for no other writer), in a transaction of its own, begun outside any other, that
    takes the write lock before it reads. A deferred one reads first, and its first write
    then fails at once with "database is locked" while another writer holds the lock or once
    it committed, without waiting for the busy timeout. Housekeeping only: when the store
    stays locked past the busy timeout or the disk is full (`SKIPPED`), nothing is
    compacted, nothing else fails, and the next crawl or detect compacts. Returns the
    entries dropped, or None when it was skipped."""
    conn = db.conn
    if conn.in_transaction:
        raise RuntimeError("compact_when_due runs in a transaction of its own")
    if _due(db, allowance) is None:
        return 0
    try:
        conn.execute("BEGIN IMMEDIATE")
        dropped = compact_log(db, allowance)  # due again under the lock
        conn.commit()
    except BaseException as error:
        if conn.in_transaction:
            conn.rollback()
        if isinstance(error, sqlite3.OperationalError) and _code(error) in SKIPPED:
            return None
        raise
    return dropped


def _code(error: sqlite3.Error) -> int:
    """SQLite's primary result code of an error (0 when the error carries none: one raised
    by Python code, not by SQLite, has no `sqlite_errorcode` at all)."""
    return (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF


def taken_in(db: sqlite_utils.Database, upto: int) -> None:
    """A server took in and dropped every entry up to `upto`: what is left was appended after
    it, so compaction counts from there (a served store's log is never compacted for
    entries already gone). Call it in the transaction that drops them."""
    db.execute(f"DELETE FROM {LOG} WHERE id <= ?", [upto])
    db.execute(f"UPDATE {COMPACTED} SET upto = MAX(upto, ?)", [upto])


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
