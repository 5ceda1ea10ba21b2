"""The digest's case book kept in the store (issue 19, round 3): one row per shown case with
its risk order and its group against what the last digest showed, updated only for the
subjects whose finding, listing, seller, case or shown record changed since the book was last
brought up to date.

Triggers (migration 0013) queue a subject in `digest_pending` whenever a write changes what
its book row is made of, whoever writes: detection (a finding added or ended), the crawler (a
listing's price, title, seller; a seller's name or domain, which every listing of the seller
shows), triage (a case opened, decided, merged) and a digest's record (`digest_shown`), but
not that of a digest decided on this book: it sets its recorded cases' rows itself, still
open (`recording_in_book`, issue 19 round 6), so they are not made again the next day.
A digest compared with the last one (`StoredBook.fill`) claims the queue up to its highest
sequence number and makes those subjects' rows again with the same `INSERT … SELECT` as the
private `CaseBook` (restricted to them), aside, where Python decides them (round 7), then sets
in the book the rows that moved, so its SQL work is the change.
Counts and seller summaries are small aggregates (`digest_tally`, `digest_seller_tally`)
kept in step with the book by triggers, read whole, never recounted over every case.
A digest against another point (`--since`) or older than the last recorded one still makes
a private `CaseBook`."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import IO

import sqlite_utils

from grayhound.store import digestaside
from grayhound.store.changes import SUPERSEDED, replace_triggers, requeue
from grayhound.store.digestcases import (
    CASES,
    FROM,
    LISTING_FIELDS,
    RATIO,
    SELLER_FIELDS,
    SEVERITY,
    CaseBook,
    _batches,
    begin_read,
    database_file,
    read_only_uri,
)
from grayhound.store.digestrows import OPEN_EVERY, unopened
from grayhound.store.digests import FLAGGED

# Python's decision of the cases SQL could not decide: (row, evidence shown, dirty) in, (case
# id, group, changes JSON, evidence JSON to record or None) out (`CaseBook.fill`'s `decide`)
Decide = Callable[[Iterator[tuple[dict, str | None, int]]], Iterator[tuple]]
# `beside(here, aside, out)`: `here(out)` run in this process (it writes nothing into `out`)
# while `aside(out)` runs on another CPU, `out` then holding what it wrote (`StoredBook.fill`'s;
# `reports.digest.spool` makes it of `reports.parallel.write_parts`)
Beside = Callable[[Callable[[IO[str]], None], Callable[[IO[str]], None], IO[str]], None]

EVERYTHING = ("*", 0)
# SQLite's page cache for a digest on the kept book (its default is 2 MiB): the fill, the
# decision and the record write rows all over the book's indexes, its tallies and the record's
# tables; at a million listings the default spilled and read the same pages again (~4 s of sys)
PAGE_CACHE_KIB = 64 * 1024
# the private book's table, kept, with `todo`: 1 while Python has not decided the case (made
# again, its evidence differs from what was shown or was never shown)
BOOK = (
    CASES.rstrip()[:-1].replace("CREATE TABLE cases_now", "CREATE TABLE IF NOT EXISTS digest_book")
    + ", todo INTEGER)"
)
# the subjects a fill makes again, and what Python decided of them: the fill's own tables
STALE = """CREATE TEMP TABLE digest_stale (kind TEXT, subject_id INTEGER,
    PRIMARY KEY (kind, subject_id)) WITHOUT ROWID"""
# the queued subjects' rows made again, aside, before they are set in the book (`_refresh`)
FRESH = BOOK.replace("CREATE TABLE IF NOT EXISTS digest_book", "CREATE TEMP TABLE digest_fresh")
# a book row's columns: what its finding, subject and case make of it, and what the digest
# decides of it against its record (the group, the evidence shown or to record, the changes)
MADE = ("kind", "subject_id", "finding_id", "seller_id", "state", "verdict", "score", "nscore",
        "sev", "rkey", "flags")  # fmt: skip
DECIDES = ("grp", "shown", "dirty", "changes", "evidence", "todo")
# what keys the book's subject and score indexes (and the seller's): a moved price leaves them
KEYED = ("kind", "subject_id", "seller_id", "flags", "score", "nscore")
MOVES = tuple(column for column in MADE if column not in KEYED)
DECIDED = "CREATE TEMP TABLE digest_decided (case_id INTEGER PRIMARY KEY, grp, changes, evidence)"  # a queued (kind, id) that asks for the whole book (a new store)
LISTING_EVIDENCE = ("price", "currency", "title", "seller_name", "seller_domain", "seller_id")
SELLER_EVIDENCE = ("name", "domain", "claimed_domain")
# What the decision reads of each case it decides: the evidence last shown, whether to record,
# and what `triage.evidence_of` makes the evidence of (as `ITEM_ROW` reads them), no more
# (not the case's capture, reasons or URL: a capture lookup per case cost more than the rest)
UNDECIDED = """SELECT dc.shown, dc.dirty, dc.case_id, dc.grp, f.subject_kind, f.verdict, f.flags,
           l.title, l.price, l.currency,
           CASE dc.kind WHEN 'listing' THEN COALESCE(l.seller_name, s.name)
                ELSE s.name END AS seller_name,
           CASE dc.kind WHEN 'listing' THEN COALESCE(l.seller_domain, s.domain, s.claimed_domain)
                ELSE COALESCE(s.domain, s.claimed_domain) END AS seller_domain
    FROM {book} dc JOIN findings f ON f.id = dc.finding_id
    LEFT JOIN listings l ON dc.kind = 'listing' AND l.id = dc.subject_id
    LEFT JOIN sellers s ON s.id = dc.seller_id
    WHERE dc.todo = 1"""
# what Python decided of each case, set in the book or in the rows made again aside
SET_DECIDED = """UPDATE {book} SET grp = d.grp, changes = d.changes, evidence = d.evidence,
    shown = NULL, todo = NULL FROM temp.digest_decided d WHERE {name}.case_id = +d.case_id
    AND {name}.todo = 1"""


# The queue up to a fill's mark, claimed: but for the flagged subjects still without a case
# (a detection's write between the digest's opening of cases and its fill), which stay queued
# for the next digest to open (`FlaggedSubjects.open_cases` reads only the queue).
CLAIMED = f"""DELETE FROM digest_pending WHERE seq <= ? AND (subject_kind, subject_id) NOT IN (
    SELECT f.subject_kind, f.subject_id {unopened("listing", queued=True)} UNION ALL
    SELECT f.subject_kind, f.subject_id {unopened("seller", queued=True)})"""


def _differ(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"b.{column} IS NOT n.{column}" for column in columns)


def _set(columns: tuple[str, ...]) -> str:
    return ", ".join(f"{column} = n.{column}" for column in columns)


# BOOK_INSERT: the refresh adds its new rows to the book by `INSERT OR FAIL`. As a plain
# `INSERT` (its key could conflict: an abort) of many rows (the `SELECT`'s, and the tallies'
# its triggers write), SQLite copied every page it wrote to a statement journal, spilled to a
# temporary file past 64 KiB (issue 19, round 41: 40,950 writes in a daily digest at 1M).
# Nothing can conflict (the rows are new: `NOT EXISTS`); a failure rolls back the fill's whole
# transaction, as it did. The tallies' upserts keep their `DO UPDATE`. The book's updates
# change no key and break no constraint, so they never kept one. `_insert` (the rows made
# again aside, in a temporary table; a whole book) was no faster with `OR FAIL` (measured:
# docs/performance.md, round 41) and is left as it was.
FRESH_ROW = (
    "FROM temp.digest_fresh n WHERE b.case_id = +n.case_id"  # each fresh row, then its book row
)
# `_refresh`: the fresh rows set in the book, each row written once (its tally moved once)
REFRESH = (
    *(  # a row of a queued subject or case that is not made again: its case is shown no more
        f"DELETE FROM digest_book WHERE case_id IN ({cases})"
        " AND NOT EXISTS (SELECT 1 FROM temp.digest_fresh n WHERE n.case_id = digest_book.case_id)"
        for cases in (  # by the subject it had, and by the case it has now
            "SELECT b.case_id FROM temp.digest_stale p CROSS JOIN digest_book b"
            " ON b.kind = p.kind AND b.subject_id = p.subject_id",
            "SELECT c.id FROM temp.digest_stale p CROSS JOIN cases c"
            " ON c.subject_kind = p.kind AND c.subject_id = p.subject_id",
        )
    ),
    # moved only in what the digest decides: those columns, not the indexes of the others
    f"UPDATE digest_book AS b SET {_set(DECIDES)} {FRESH_ROW}"
    f" AND NOT ({_differ(MADE)}) AND ({_differ(DECIDES)})",
    # a new finding, price ratio or severity (a moved price): not the subject or score index
    f"UPDATE digest_book AS b SET {_set(MOVES + DECIDES)} {FRESH_ROW}"
    f" AND NOT ({_differ(KEYED)}) AND ({_differ(MOVES)})",
    f"UPDATE digest_book AS b SET {_set(MADE + DECIDES)} {FRESH_ROW} AND ({_differ(KEYED)})",
    # `OR FAIL`: no statement journal (BOOK_INSERT)
    "INSERT OR FAIL INTO digest_book SELECT * FROM temp.digest_fresh n"
    " WHERE NOT EXISTS (SELECT 1 FROM digest_book b WHERE b.case_id = n.case_id)",
)


def _queue(kind: str, subject: str, where: str = "", match: str = "", *, fail=False) -> str:
    keys = {"subject_kind": kind, "subject_id": subject}
    return requeue("digest_pending", keys, where, match, fail=fail)


def _changed(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"old.[{column}] IS NOT new.[{column}]" for column in columns)


def _case_of(row: str) -> str:
    case = f"FROM cases WHERE id = {row}.case_id"
    match = f"(subject_kind, subject_id) = (SELECT subject_kind, subject_id {case})"
    return _queue("subject_kind", "subject_id", case, match)


def _tally(row: str, sign: str) -> str:
    """The book's aggregates moved by one row (`new` added, `old` taken away)."""
    return f"""
        INSERT INTO digest_tally VALUES (IFNULL({row}.grp, -1), {row}.sev, {row}.state,
            {row}.flags, {sign}1) ON CONFLICT DO UPDATE SET n = n {sign} 1;
        INSERT INTO digest_seller_tally SELECT {row}.seller_id, {row}.flags,
            IFNULL({row}.grp, -1), {row}.sev, {row}.verdict = 'clean', {sign}1
            WHERE {row}.kind = 'listing' AND {row}.seller_id IS NOT NULL
            ON CONFLICT DO UPDATE SET n = n {sign} 1;"""


def _flag_list(flags: str) -> str:
    """A finding's flags as a JSON list ('[]' for none, NULL or ''), as `COALESCE(NULLIF(flags,
    ''), '[]')` gave it but without a function call: a function may fail, and one in a trigger
    on `findings` makes the statements that fire it keep a statement journal (`changes`, the
    triggers on `findings`)."""
    return f"CASE WHEN {flags} != '' THEN {flags} ELSE '[]' END"


def _flags(sign: str, finding: str, seller: str) -> str:
    """A listing finding's flags counted in (`+`) or out (`-`) of its seller's flag counts."""
    return f"""
        INSERT INTO seller_flag_counts SELECT {seller}, j.value, {sign}1
            FROM json_each({_flag_list(f"{finding}.flags")}) j
            WHERE {seller} IS NOT NULL
            ON CONFLICT DO UPDATE SET n = n {sign} 1;"""


# A row while a digest records what its kept book decided (`settle_recorded`), inside the
# record's transaction (no other connection sees it): its `digest_shown` writes queue nothing.
RECORDING = "CREATE TABLE IF NOT EXISTS digest_recording (digest_id INTEGER)"
QUIET = "NOT EXISTS (SELECT 1 FROM digest_recording)"
# the cases a digest recorded, and whether the next fill would find them still open
RECORDED = "CREATE TEMP TABLE digest_recorded (case_id INTEGER PRIMARY KEY, still INTEGER)"


def _still(kind: str, fields: dict[str, str]) -> str:
    """The recorded cases of `kind` that the next fill would make still open: their subject not
    queued since (so their book row is what the store holds now), and nothing of the finding
    or evidence just recorded differs from it (the fill's own comparison, `_insert`'s)."""
    moved = " OR ".join(
        [f"ds.{name} IS NOT {sql}" for name, sql in fields.items()]
        + ["ds.finding_id IS NOT f.id", "ds.fingerprint IS NOT f.fingerprint"]
    )
    subject = (
        "JOIN listings l ON l.id = b.subject_id LEFT JOIN sellers s ON s.id = l.seller_id"
        if kind == "listing"
        else "JOIN sellers s ON s.id = b.subject_id"
    )
    return f"""UPDATE temp.digest_recorded SET still = 1 WHERE case_id IN (
        SELECT b.case_id FROM temp.digest_recorded r CROSS JOIN digest_book b
        ON b.case_id = r.case_id JOIN digest_shown ds ON ds.case_id = b.case_id
        JOIN findings f ON f.id = b.finding_id {subject}
        WHERE b.kind = '{kind}' AND NOT ({moved}) AND NOT EXISTS (SELECT 1 FROM digest_pending p
            WHERE p.subject_kind = b.kind AND p.subject_id = b.subject_id))"""


STILL_OPEN = {"grp": "2", "shown": "NULL", "dirty": "0", "changes": "NULL", "evidence": "NULL",
              "todo": "0"}  # fmt: skip
UNSETTLED = """FROM temp.digest_recorded r JOIN cases c ON c.id = r.case_id
    WHERE r.still IS NULL"""
# `settle_recorded`: each recorded case's row set as the next fill would make it, or its
# subject queued (as the `digest_shown` triggers queue it) for the fill to make it again
SETTLE = (
    _still("listing", LISTING_FIELDS),
    _still("seller", SELLER_FIELDS),
    "UPDATE digest_book AS b SET "
    + ", ".join(f"{column} = {value}" for column, value in STILL_OPEN.items())
    + " FROM temp.digest_recorded r WHERE b.case_id = +r.case_id AND r.still = 1 AND ("
    + " OR ".join(f"b.{column} IS NOT {value}" for column, value in STILL_OPEN.items())
    + ")",
    "DELETE FROM digest_pending WHERE (subject_kind, subject_id) IN"
    f" (SELECT c.subject_kind, c.subject_id {UNSETTLED})",
    "INSERT OR IGNORE INTO digest_pending (subject_kind, subject_id)"
    f" SELECT c.subject_kind, c.subject_id {UNSETTLED} ORDER BY r.case_id",
)


@contextmanager
def recording_in_book(db: sqlite_utils.Database, digest_id: int) -> Iterator[None]:
    """Inside the record's transaction, around its writes of `digest_shown`: the kept book's
    rows of the cases the digest recorded are set as the next fill would make them (still
    open: their record is what they show), instead of the record queueing them for the fill
    to make again (the SQL of five joins and a compare, round 5's "requeue", each day for
    every case a digest recorded). A row the fill would make otherwise (its subject queued
    since, or what was recorded differs from the store) has its subject queued, as before.
    The switch row silences the record's queue triggers: only the caller's transaction, rolled
    back on any failure, makes sure it never outlives the record."""
    if not db.conn.in_transaction:
        raise RuntimeError("recording_in_book needs the record's open transaction")
    db.execute("INSERT INTO digest_recording VALUES (?)", [digest_id])
    yield
    db.execute("DROP TABLE IF EXISTS temp.digest_recorded")
    db.execute(RECORDED)
    db.execute(
        "INSERT INTO temp.digest_recorded SELECT case_id, NULL FROM digest_items"
        " WHERE digest_id = ?",
        [digest_id],
    )
    for sql in SETTLE:
        db.execute(sql)
    db.execute("DROP TABLE temp.digest_recorded")
    db.execute("DELETE FROM digest_recording")


LISTING_SELLER = "(SELECT seller_id FROM listings WHERE id = {row}.subject_id)"
# The current finding a listing's new one replaces (detection writes the successor first, then
# closes it: `Findings._record_batch`), and a close or removal of a finding so replaced: a
# newer current finding of its listing is already written, whatever the close sets.
PREDECESSOR = (
    "FROM findings p WHERE p.subject_kind = 'listing' AND p.subject_id = new.subject_id"
    " AND p.is_current = 1 AND p.id < new.id ORDER BY p.id DESC LIMIT 1"
)
REPLACED = (
    "EXISTS (SELECT 1 FROM findings s WHERE s.subject_kind = 'listing'"
    " AND s.subject_id = old.subject_id AND s.is_current = 1 AND s.id > old.id)"
)
# A listing's new finding moves its seller's counts by the difference with the one it replaces
# (issue 19, round 7): a flag in both is not counted out and in again, and flags that did not
# move (most of a day's new findings: a moved price) write nothing. The replaced finding's close
# then counts nothing out. Counted per flag (a list naming a flag twice counts it twice); a
# seller's first count of a flag is made in the order of the new list, as counting it in was.
FLAG_DIFFERENCE = f"""
    INSERT INTO seller_flag_counts SELECT s.seller_id, d.flag, d.n
        FROM (SELECT seller_id FROM listings WHERE id = new.subject_id) s,
             (SELECT j.value AS flag, SUM(j.sign) AS n, MIN(j.at) AS at FROM (
                 SELECT value, 1 AS sign, key AS at
                     FROM json_each({_flag_list("new.flags")})
                 UNION ALL
                 SELECT f.value, -1, NULL FROM (SELECT p.flags {PREDECESSOR}) p,
                     json_each({_flag_list("p.flags")}) f) j
              GROUP BY j.value) d
        WHERE s.seller_id IS NOT NULL AND d.n != 0
        ORDER BY d.at
        ON CONFLICT DO UPDATE SET n = n + excluded.n;"""
# Per seller and flag, how many current findings of its listings carry it (what
# `SellerViews.flag_counts` counted over every listing): kept by these triggers.
FLAG_TRIGGERS = {
    "seller_flags_finding_added": (
        "AFTER INSERT ON findings WHEN new.subject_kind = 'listing' AND new.is_current = 1"
        f" AND new.flags IS NOT (SELECT p.flags {PREDECESSOR})",
        FLAG_DIFFERENCE,
    ),
    "seller_flags_finding_ended": (
        "AFTER UPDATE ON findings WHEN old.subject_kind = 'listing' AND old.is_current = 1"
        f" AND NOT (new.is_current = 0 AND {REPLACED})",
        _flags("-", "old", LISTING_SELLER.format(row="old")),
    ),
    "seller_flags_finding_current": (
        "AFTER UPDATE ON findings WHEN new.subject_kind = 'listing' AND new.is_current = 1",
        _flags("+", "new", LISTING_SELLER.format(row="new")),
    ),
    "seller_flags_finding_removed": (
        "AFTER DELETE ON findings WHEN old.subject_kind = 'listing' AND old.is_current = 1"
        f" AND NOT {REPLACED}",
        _flags("-", "old", LISTING_SELLER.format(row="old")),
    ),
    "seller_flags_listing_moved": (
        "AFTER UPDATE ON listings WHEN old.seller_id IS NOT new.seller_id",
        "INSERT INTO seller_flag_counts SELECT s.seller_id, j.value, s.sign FROM (SELECT"
        " old.seller_id AS seller_id, -1 AS sign UNION ALL SELECT new.seller_id, 1) s"
        " JOIN findings f ON f.subject_kind = 'listing' AND f.subject_id = new.id"
        " AND f.is_current = 1, json_each(COALESCE(NULLIF(f.flags, ''), '[]')) j"
        " WHERE s.seller_id IS NOT NULL ON CONFLICT DO UPDATE SET n = n + excluded.n;",
    ),
}
# the same counts from every listing, as `flag_counts` read them before: the backfill
FLAG_COUNTS = """
    SELECT l.seller_id, j.value, COUNT(*) FROM listings l
    JOIN findings f ON f.subject_kind = 'listing' AND f.subject_id = l.id AND f.is_current = 1,
         json_each(COALESCE(NULLIF(f.flags, ''), '[]')) j
    WHERE l.seller_id IS NOT NULL GROUP BY l.seller_id, j.value
"""

TRIGGERS = {
    "digest_finding_added": (
        "AFTER INSERT ON findings",
        _queue("new.subject_kind", "new.subject_id", fail=True),
    ),
    # a close for a successor is queued by the successor's insert (`SUPERSEDED`); a finding's
    # subject does not change, but were it rewritten the old subject is queued too
    "digest_finding_changed": (
        f"AFTER UPDATE ON findings WHEN NOT ({SUPERSEDED})",
        _queue("new.subject_kind", "new.subject_id", fail=True),
    ),
    "digest_finding_moved": (
        "AFTER UPDATE ON findings WHEN old.subject_kind IS NOT new.subject_kind"
        " OR old.subject_id IS NOT new.subject_id",
        _queue("old.subject_kind", "old.subject_id", fail=True),
    ),
    "digest_listing_changed": (
        f"AFTER UPDATE ON listings WHEN {_changed(LISTING_EVIDENCE)}",
        _queue("'listing'", "new.id"),
    ),
    "digest_seller_changed": (
        f"AFTER UPDATE ON sellers WHEN {_changed(SELLER_EVIDENCE)}",
        _queue("'seller'", "new.id")
        + _queue(
            "'listing'",
            "id",
            "FROM listings WHERE seller_id = new.id",
            "subject_kind = 'listing' AND subject_id IN"
            " (SELECT id FROM listings WHERE seller_id = new.id)",
        ),
    ),
    "digest_case_added": ("AFTER INSERT ON cases", _queue("new.subject_kind", "new.subject_id")),
    "digest_case_changed": (
        f"AFTER UPDATE ON cases WHEN {_changed(('state', 'subject_kind', 'subject_id'))}",
        _queue("old.subject_kind", "old.subject_id") + _queue("new.subject_kind", "new.subject_id"),
    ),
    # not while a digest records what its kept book decided (its `INSERT OR REPLACE` deletes
    # too, under sqlite-utils' recursive triggers): the record sets those rows itself
    "digest_shown_added": (f"AFTER INSERT ON digest_shown WHEN {QUIET}", _case_of("new")),
    "digest_shown_changed": (
        f"AFTER UPDATE ON digest_shown WHEN {QUIET}",
        _case_of("new") + _case_of("old"),
    ),
    "digest_shown_removed": (f"AFTER DELETE ON digest_shown WHEN {QUIET}", _case_of("old")),
    "digest_book_added": ("AFTER INSERT ON digest_book", _tally("new", "+")),
    "digest_book_removed": ("AFTER DELETE ON digest_book", _tally("old", "-")),
    "digest_book_changed": ("AFTER UPDATE ON digest_book", _tally("old", "-") + _tally("new", "+")),
}


# The book's risk order, holding every column of a book row the digest's JSON and CSV lines read
# (`digestlines`; issue 19, round 6): those rows are read from the index alone, in its order,
# not each row looked up by its key (at a million listings 745,000 lookups, ~2 s). A store
# made with the narrower index before gets this one from migration 0016_lines_risk_index.
RISK_INDEX = (
    "grp, sev, nscore, rkey, case_id, state, changes, finding_id, kind, subject_id, seller_id"
)


def create_schema(db: sqlite_utils.Database) -> None:
    """The book, its aggregates, its queue and the triggers that fill the queue; the book
    starts empty with the whole of it queued (the next digest fills it, once)."""
    new_book = not db["digest_book"].exists()
    db.execute(BOOK)
    for name, columns in {
        "digest_book_subject": "kind, subject_id",
        "digest_book_risk": RISK_INDEX,
        "digest_book_seller": "seller_id, kind, sev, nscore, rkey, case_id",
        "digest_book_score": "seller_id, kind, flags, score",
    }.items():
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON digest_book ({columns})")
    db.execute("CREATE INDEX IF NOT EXISTS digest_book_todo ON digest_book (todo) WHERE todo = 1")
    db.execute(
        "CREATE INDEX IF NOT EXISTS digest_book_recorded ON digest_book (dirty, case_id)"
        " WHERE dirty = 1"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS digest_tally (grp INTEGER, sev INTEGER, state TEXT,"
        " flags TEXT, n INTEGER, PRIMARY KEY (grp, sev, state, flags))"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS digest_seller_tally (seller_id INTEGER, flags TEXT,"
        " grp INTEGER, sev INTEGER, clean INTEGER, n INTEGER,"
        " PRIMARY KEY (seller_id, flags, grp, sev, clean))"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS digest_pending (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " subject_kind TEXT NOT NULL, subject_id INTEGER NOT NULL,"
        " UNIQUE (subject_kind, subject_id))"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS seller_flag_counts (seller_id INTEGER, flag TEXT,"
        " n INTEGER, PRIMARY KEY (seller_id, flag))"
    )
    if not db.execute("SELECT 1 FROM seller_flag_counts LIMIT 1").fetchone():
        db.execute(f"INSERT INTO seller_flag_counts {FLAG_COUNTS}")
    create_triggers(db)
    if new_book:
        db.execute(
            "INSERT OR REPLACE INTO digest_pending (subject_kind, subject_id) VALUES (?, ?)",
            EVERYTHING,
        )


def book_waits_whole(db: sqlite_utils.Database) -> bool:
    """Whether the next fill makes the whole book (`EVERYTHING` queued: a new store's)."""
    sql = "SELECT 1 FROM digest_pending WHERE subject_kind = ? AND subject_id = ?"
    return db.execute(sql, EVERYTHING).fetchone() is not None


def open_from_queue(db: sqlite_utils.Database) -> None:
    """Migration 0014_issue19_digest: the digest opens cases only for the subjects queued for
    its book; the mark asks the next opening to look at every flagged subject once (a store
    whose fills claimed the queue before they spared the subjects still without a case)."""
    db.execute(
        "INSERT OR IGNORE INTO digest_pending (subject_kind, subject_id) VALUES (?, ?)", OPEN_EVERY
    )


def create_triggers(db: sqlite_utils.Database) -> None:
    """The triggers that queue the book's subjects and keep its aggregates (made again by
    migrations 0013_issue19_trigger_conflicts, 0015 and 0017_digest_record_in_place)."""
    db.execute(RECORDING)
    replace_triggers(db, {**TRIGGERS, **FLAG_TRIGGERS})


class StoredBook(CaseBook):
    """The `CaseBook` interface over the store's own `digest_book`: brought up to date by
    `fill`, read as the private book is (its SQL names `cases_now` and `{st}.` are this
    table and the store itself)."""

    kept = True  # the store's own: its record sets the recorded rows (`recording_in_book`)

    def __init__(self, db: sqlite_utils.Database, functions: dict[str, Callable]):
        self.db = db
        self.writer = db.conn
        self.writer.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")  # the record's too
        # the digest is read after the store is closed (the command writes it then): through
        # a connection of its own, read-only, as the private book reads it
        path = database_file(db)
        self.conn = sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=False)
        for connection in (self.writer, self.conn):
            for name, function in functions.items():
                connection.create_function(name, -1, function, deterministic=True)
        self.queries = 0
        self.refreshed = 0  # book rows made again by the last `fill`: what a test reads
        self._ordered = True  # the store keeps the risk index

    def execute(self, sql: str, params=()):
        self.queries += 1
        return self.conn.execute(
            sql.replace("{st}.", "").replace("cases_now", "digest_book"), params
        )

    def fill(
        self,
        states: tuple[str, ...],
        reference: str | None,
        decide: Decide,
        *,
        record_all=False,
        beside: Beside | None = None,
    ) -> None:
        """Make again the rows of every subject queued since the last fill (all of them on a
        new store): each flagged subject's whose case is in `states`, against what the last
        digest showed; then `decide` the cases SQL could not, in the same transaction. Only for
        a digest compared with the last one. With `beside` (`Beside`: a worker on another
        CPU) the queued cases are decided there while this connection writes
        (`digestaside`)."""
        assert reference is None and not record_all, "a StoredBook compares with the last digest"
        with self.db.atomic():
            self._hold_write_lock()
            self.refreshed = self._fill(states, decide, beside)
            # what is still undecided in the book: a book made whole (not aside), a row left
            # undecided by an older grayhound's digest that stopped between fill and decision
            self._decide("digest_book", decide)
        # The book is this digest's from here on: its reader keeps the snapshot it sees now
        # until it is closed, so what is read while the digest is written (groups, seller
        # cards' worst listings) is not another digest's fill made meanwhile.
        begin_read(self.conn)

    def _fill(self, states: tuple[str, ...], decide: Decide, beside: Beside | None) -> int:
        """The queued subjects' rows made again, their cases decided; how many were made."""
        upto = self.writer.execute("SELECT MAX(seq) FROM digest_pending").fetchone()[0]
        if upto is None:
            return 0
        everything = self.writer.execute(
            "SELECT 1 FROM digest_pending WHERE subject_kind = ? AND subject_id = ? AND seq <= ?",
            [*EVERYTHING, upto],
        ).fetchone()
        self.writer.execute("DROP TABLE IF EXISTS temp.digest_stale")
        self.writer.execute(STALE)
        if everything:
            self.writer.execute("DELETE FROM digest_book")
            self.writer.execute("DELETE FROM digest_tally")
            self.writer.execute("DELETE FROM digest_seller_tally")
            refreshed = self._insert(states, everything=True)
        else:
            self.writer.execute(
                "INSERT OR IGNORE INTO temp.digest_stale SELECT subject_kind, subject_id"
                " FROM digest_pending WHERE seq <= ?",
                [upto],
            )
            if beside is None:
                refreshed = self._refresh(states, decide)
            else:
                refreshed = self._refresh_beside(states, decide, beside, upto)
        if beside is None or everything:
            self.writer.execute(CLAIMED, [upto])
        self.writer.execute("DROP TABLE temp.digest_stale")
        return refreshed

    def _hold_write_lock(self) -> None:
        """Take the store's write lock before the first read: the fill and the decision read
        the store, then write only temporary tables for a while (the rows made again, the
        decided cases) before their first write to the book. A detection committing in
        between would leave their read snapshot behind, and that first write would fail at
        once with "database is locked" (SQLite does not wait on a stale snapshot); holding the
        lock from the start has the detection wait for the digest instead (`busy_timeout`)."""
        # writes nothing (no queue row has a negative number), takes the lock
        self.writer.execute("DELETE FROM digest_pending WHERE seq = -1")

    def _refresh(self, states: tuple[str, ...], decide: Decide) -> int:
        """The queued subjects' rows made again aside (`digest_fresh`) and decided there, then
        set in the book where they differ: a row whose case is no longer shown goes; one that moved only in
        what the digest decides of it (most often a case the last digest recorded, queued by
        its `digest_shown` row, now still open) is updated in those columns, which no index
        but the risk order's and the partial ones holds; any other moved row is replaced
        whole and a new one added. The book ends as deleting the subjects' rows and making
        them again would leave it, its aggregates too (each row's tally moves once)."""
        self.writer.execute("DROP TABLE IF EXISTS temp.digest_fresh")
        self.writer.execute(FRESH)
        made = self._insert(states, everything=False, into="temp.digest_fresh")
        # decided aside: a row made again is written to the book once, already decided (not
        # written undecided, then again by the decision: its risk index entry and tallies
        # moved twice; issue 19, round 7)
        self._decide("temp.digest_fresh", decide)
        for sql in REFRESH:
            self.writer.execute(sql)
        self.writer.execute("DROP TABLE temp.digest_fresh")
        return made

    def _refresh_beside(
        self, states: tuple[str, ...], decide: Decide, beside: Beside, upto: int
    ) -> int:
        """`_refresh` with its decision made by a worker (`digestaside.decide_queued`, from
        the store as this fill's snapshot holds it) while this connection makes the rows again
        aside, deletes the book's rows no longer shown and claims the queue (none of which
        reads a decision); then the rows made again take the worker's decisions, and the moved
        ones are set in the book as `_refresh` sets them. The book, its tallies and the queue
        end as `_refresh` and the claim leave them."""
        self.writer.execute("DROP TABLE IF EXISTS temp.digest_fresh")
        self.writer.execute(FRESH)
        made = []

        def here(_unused: IO[str]) -> None:
            made.append(self._insert(states, everything=False, into="temp.digest_fresh"))
            for sql in REFRESH[:2]:  # the deletes: they read only the rows made again
                self.writer.execute(sql)
            self.writer.execute(CLAIMED, [upto])

        path = database_file(self.writer)
        rows = partial(self.rows, decode=("flags",))
        aside = partial(digestaside.decide_queued, path, upto, states, decide, rows)
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as decided:
            beside(here, aside, decided)
            decided.seek(0)
            self._set_decided("temp.digest_fresh", digestaside.read_decided(decided))
        # a row the worker did not decide (none: it read the same cases) is decided here
        self._decide("temp.digest_fresh", decide)
        for sql in REFRESH[2:]:
            self.writer.execute(sql)
        self.writer.execute("DROP TABLE temp.digest_fresh")
        return made[0]

    def _insert(
        self, states: tuple[str, ...], *, everything: bool, into: str = "digest_book"
    ) -> int:
        params = {f"s{i}": s for i, s in enumerate(states)}
        marks = ", ".join(f":s{i}" for i in range(len(states)))
        written = 0
        for kind, fields in (("listing", LISTING_FIELDS), ("seller", SELLER_FIELDS)):
            moved = " OR ".join(
                [f"ds.{name} IS NOT {sql}" for name, sql in fields.items()]
                + ["ds.finding_id IS NOT f.id", "ds.fingerprint IS NOT f.fingerprint"]
            )
            seller = "l.seller_id" if kind == "listing" else "s.id"
            source = FROM[kind].format(st="main", flagged=FLAGGED, states=marks)
            if not everything:  # only the queued subjects, read first, each by its index
                source = source.replace(
                    "FROM main.findings f",
                    "FROM temp.digest_stale p CROSS JOIN main.findings f",
                ).replace(
                    "WHERE f.subject_kind",
                    "WHERE p.kind = f.subject_kind AND p.subject_id ="
                    " f.subject_id AND f.subject_kind",
                )
            sql = f"""INSERT INTO {into}
                SELECT c.id, '{kind}', f.subject_id, f.id, {seller}, c.state, f.verdict,
                       digest_round(COALESCE(f.score, 0.0)), -digest_round(COALESCE(f.score,
                       0.0)), {SEVERITY}, COALESCE({RATIO[kind]}, 9.0), IFNULL(f.flags, '[]'),
                       CASE WHEN ds.case_id IS NULL THEN 0 WHEN {moved} THEN NULL ELSE 2 END,
                       CASE WHEN ds.case_id IS NOT NULL AND ({moved}) THEN ds.evidence END,
                       (ds.case_id IS NULL OR {moved}), NULL, NULL,
                       (ds.case_id IS NULL OR {moved})
                {source}"""
            written += self.writer.execute(sql, params).rowcount
        return written

    def undecided(self, book: str = "digest_book") -> Iterator[tuple[dict, str | None, int]]:
        """As `CaseBook.undecided`: the rows made again (in `book`) whose group Python decides,
        or whose evidence to record is not yet made."""
        sql = UNDECIDED.format(book=book)
        for row in self.rows(self.writer.execute(sql), decode=("flags",)):
            yield row, row.pop("shown"), row.pop("dirty")

    def _decide(self, book: str, decide: Decide) -> None:
        """Set in `book` what `decide` made of each case `undecided` yields there (kept aside
        in a temporary table while the cases are read, then set in one statement)."""
        self._set_decided(book, decide(self.undecided(book)))

    def _set_decided(self, book: str, decided: Iterator[tuple]) -> None:
        """Set in `book`'s undecided rows the `decided` tuples (`Decide`'s)."""
        self.writer.execute("DROP TABLE IF EXISTS temp.digest_decided")
        self.writer.execute(DECIDED)
        for batch in _batches(decided, 1000):
            self.writer.executemany("INSERT INTO temp.digest_decided VALUES (?, ?, ?, ?)", batch)
        # each decided case, then its row (not the whole book read)
        self.writer.execute(SET_DECIDED.format(book=book, name=book.removeprefix("temp.")))
        self.writer.execute("DROP TABLE temp.digest_decided")

    def tally(self) -> Iterator[tuple]:
        return self.conn.execute(
            "SELECT grp, sev, state, flags, n FROM digest_tally WHERE n > 0 ORDER BY 1, 2, 3, 4"
        )

    def seller_summaries(self) -> Iterator[tuple]:
        return self.conn.execute(
            """SELECT t.seller_id, t.flags, SUM(t.n), SUM(CASE WHEN t.grp = 0 THEN t.n ELSE 0 END),
                      (SELECT MAX(b.score) FROM digest_book b WHERE b.seller_id = t.seller_id
                       AND b.kind = 'listing' AND b.flags = t.flags), MIN(t.sev), MIN(t.grp),
                      MIN(t.clean)
               FROM digest_seller_tally t WHERE t.n > 0 GROUP BY t.seller_id, t.flags"""
        )

    def recorded(self) -> Iterator[tuple]:
        """As `CaseBook.recorded`, by the index of the cases to record."""
        sql = """SELECT case_id, finding_id, f.fingerprint, grp, evidence FROM digest_book
                 JOIN findings f ON f.id = finding_id WHERE dirty = 1 ORDER BY case_id"""
        return self.execute(sql)

    def close(self) -> None:
        self.conn.close()

    def _sql(self, sql: str) -> str:
        return sql.replace("{st}.", "").replace("cases_now", "digest_book")
