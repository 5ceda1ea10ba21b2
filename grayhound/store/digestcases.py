"""The digest's cases as a table (issue 19, round 2): what the digest decides per case is
computed in SQL, so its daily work is what changed, not every open case.

`digest_shown` keeps, per case, what the digests last showed of it (the finding, its
fingerprint and the evidence, with the evidence's fields as columns) and is written only when
that changes; `digest_items` keeps the history (a row per case each time what was shown
changed). A digest copies its cases into a `CaseBook`: a private temporary SQLite database that
reads the store through ATTACH, one row per shown case with its risk order, its group when SQL
can tell it (new: never shown; still open: nothing of its evidence or finding moved since the
last digest) and the evidence last shown of the others. Python decides only those; counts,
seller summaries and the riskiest cases come from SQL aggregates and indexes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlite_utils

from grayhound.store.digests import FLAGGED

SHOWN_COLUMNS = ("price", "currency", "title", "seller_name", "seller_domain")
CASES = """
    CREATE TABLE cases_now (
        case_id INTEGER PRIMARY KEY, kind TEXT, subject_id INTEGER, finding_id INTEGER,
        seller_id INTEGER, state TEXT, verdict TEXT, score REAL, nscore REAL, sev INTEGER,
        rkey REAL, flags TEXT,
        grp INTEGER,  -- 0 new, 1 changed, 2 still open; NULL: Python decides against `shown`
        shown TEXT,  -- the evidence last shown, when `grp` is NULL
        dirty INTEGER,  -- what the store last recorded of the case differs (or there is none)
        changes TEXT, evidence TEXT  -- set by Python for the cases it decides
    )
"""
RISK = "sev, nscore, rkey, case_id"  # `risk_order` of reports/digest/build.py, as columns
DC_RISK = "dc.sev, dc.nscore, dc.rkey, dc.case_id"
SEVERITY = """CASE WHEN f.verdict = 'impersonation' THEN 0
    WHEN f.verdict = 'suspicious' OR COALESCE(f.score, 0) >= 0.5 THEN 1 ELSE 2 END"""
# the evidence fields of a subject (grayhound.triage.evidence_of) as SQL, per kind
LISTING_FIELDS = {
    "price": "l.price", "currency": "l.currency", "title": "l.title",
    "seller_name": "COALESCE(l.seller_name, s.name)",
    "seller_domain": "COALESCE(l.seller_domain, s.domain, s.claimed_domain)",
}  # fmt: skip
SELLER_FIELDS = {
    "price": "NULL", "currency": "NULL", "title": "NULL", "seller_name": "s.name",
    "seller_domain": "COALESCE(s.domain, s.claimed_domain)",
}  # fmt: skip
# `_ratio` of reports/digest/build.py: the finding's ratio, else price / MSRP in one currency
RATIO = {
    "listing": """CASE WHEN f.price_ratio IS NOT NULL THEN digest_round(f.price_ratio)
        WHEN f.msrp AND l.price IS NOT NULL AND l.price != '' AND l.currency IS f.msrp_currency
        THEN digest_round(CAST(l.price AS REAL) / f.msrp) END""",
    "seller": "CASE WHEN f.price_ratio IS NOT NULL THEN digest_round(f.price_ratio) END",
}
# a listing's or a seller's flagged finding with its case (one statement per kind)
FROM = {
    "listing": """FROM {st}.findings f JOIN {st}.listings l ON l.id = f.subject_id
        LEFT JOIN {st}.sellers s ON s.id = l.seller_id
        JOIN {st}.cases c ON c.subject_kind = 'listing' AND c.subject_id = f.subject_id
        LEFT JOIN {st}.digest_shown ds ON ds.case_id = c.id
        WHERE f.subject_kind = 'listing' AND {flagged} AND c.state IN ({states})""",
    "seller": """FROM {st}.findings f JOIN {st}.sellers s ON s.id = f.subject_id
        JOIN {st}.cases c ON c.subject_kind = 'seller' AND c.subject_id = f.subject_id
        LEFT JOIN {st}.digest_shown ds ON ds.case_id = c.id
        WHERE f.subject_kind = 'seller' AND {flagged} AND c.state IN ({states})""",
}
# Per case, the evidence of the latest digest at or before :reference that showed it (for a
# digest that compares against another point than the last digest).
SHOWN_AT = """(SELECT i.evidence FROM {st}.digest_items i JOIN {st}.digests d
    ON d.id = i.digest_id WHERE i.case_id = c.id AND d.created_at <= :reference
    ORDER BY d.created_at DESC, d.id DESC LIMIT 1)"""
# What `item_fields` reads of a case, for the cases a digest writes out, in one join; a
# listing's newest capture by one search of its links' index by moment (`captures.NEWEST_INDEX`).
ITEM_ROW = """
    SELECT dc.case_id, dc.state AS case_state, dc.grp, dc.changes,
           f.id, f.subject_kind, f.subject_id, f.subject, f.brand, f.score, f.verdict,
           f.flags, f.reasons, f.model, f.msrp, f.msrp_currency, f.price_ratio, f.fingerprint,
           CASE dc.kind WHEN 'listing' THEN l.canonical_url ELSE s.profile_url END AS url,
           l.title, l.price, l.currency,
           CASE dc.kind WHEN 'listing' THEN l.source ELSE s.source END AS source,
           CASE dc.kind WHEN 'listing' THEN l.first_seen ELSE s.first_seen END AS first_seen,
           CASE dc.kind WHEN 'listing' THEN l.last_seen ELSE s.last_seen END AS last_seen,
           dc.seller_id,
           CASE dc.kind WHEN 'listing' THEN COALESCE(l.seller_name, s.name)
                ELSE s.name END AS seller_name,
           CASE dc.kind WHEN 'listing' THEN COALESCE(l.seller_domain, s.domain, s.claimed_domain)
                ELSE COALESCE(s.domain, s.claimed_domain) END AS seller_domain,
           CASE dc.kind WHEN 'seller' THEN (SELECT COUNT(*) FROM {st}.listings n
                WHERE n.seller_id = s.id) END AS listing_count,
           k.id AS capture_id, k.url AS capture_url, k.warc_file AS capture_warc_file,
           k.offset AS capture_offset, k.length AS capture_length,
           k.payload_sha256 AS capture_sha256, k.fetched_at AS capture_fetched_at
    FROM cases_now dc JOIN {st}.findings f ON f.id = dc.finding_id
    LEFT JOIN {st}.listings l ON dc.kind = 'listing' AND l.id = dc.subject_id
    LEFT JOIN {st}.sellers s ON s.id = dc.seller_id
    LEFT JOIN {st}.captures k ON dc.kind = 'listing' AND k.id = (
        SELECT x.capture_id FROM {st}.capture_links x
        WHERE x.subject_kind = 'listing' AND x.subject_id = dc.subject_id
        ORDER BY x.fetched_at DESC, x.capture_id DESC LIMIT 1)
"""
DECODED = 5000  # distinct flag lists remembered while reading rows
BATCH = 1000  # rows written at a time: all a pass holds


def create_schema(db: sqlite_utils.Database) -> None:
    """`digest_shown`, filled from the history in `digest_items` (newest digest per case)."""
    columns = ", ".join(f"{name} TEXT" for name in SHOWN_COLUMNS[1:])
    db.execute(
        "CREATE TABLE IF NOT EXISTS digest_shown (case_id INTEGER PRIMARY KEY REFERENCES"
        " cases(id), digest_id INTEGER REFERENCES digests(id), finding_id INTEGER,"
        f" fingerprint TEXT, price, {columns}, evidence TEXT)"
    )
    fields = ", ".join(f"json_extract(i.evidence, '$.{name}')" for name in SHOWN_COLUMNS)
    # each case's newest row, found through the case_id index (no sort of the whole history)
    db.execute(
        "INSERT OR IGNORE INTO digest_shown SELECT i.case_id, i.digest_id, i.finding_id,"
        f" i.fingerprint, {fields}, i.evidence FROM digest_items i"
        " JOIN digests d ON d.id = i.digest_id WHERE NOT EXISTS (SELECT 1 FROM digest_items j"
        " JOIN digests e ON e.id = j.digest_id WHERE j.case_id = i.case_id"
        " AND (e.created_at > d.created_at OR (e.created_at = d.created_at AND e.id > d.id)))"
    )


def database_file(db) -> str:
    """The file of the main database a connection (or `sqlite_utils.Database`) reads: what a
    connection of another thread or process opens ('' for a database in memory)."""
    return db.execute("PRAGMA database_list").fetchone()[2]


def read_only_uri(path: str) -> str:
    """An SQLite URI that opens the database at `path` read-only: the path quoted, so a `#`,
    `?` or `%` in a folder's name is part of the path, not the URI's query."""
    return Path(path).resolve().as_uri() + "?mode=ro"


def begin_read(conn: sqlite3.Connection) -> None:
    """End what `conn` had open (a read, or what it wrote: committed) and take its snapshot of
    the store now: SQLite takes it at a transaction's first read, not at `BEGIN`. It keeps
    that snapshot until the next commit or rollback."""
    if conn.in_transaction:
        conn.commit()
    conn.execute("BEGIN")
    conn.execute("SELECT COUNT(*) FROM _migrations").fetchall()


class DigestShown:
    """Mixin of Store: what the digests last showed of each case."""

    db: sqlite_utils.Database

    def last_digest_at(self) -> str | None:
        return self.db.execute("SELECT MAX(created_at) FROM digests").fetchone()[0]

    def remember_shown(self, digest_id: int, rows: Iterator[tuple], *, newest: bool = True) -> int:
        """Append to the history and make current what a digest showed of the cases in `rows`
        ((case_id, finding_id, fingerprint, grouping, evidence JSON)); return how many. A
        digest that is not the `newest` recorded only fills in cases no digest showed yet."""
        current_sql = "INSERT OR REPLACE" if newest else "INSERT OR IGNORE"
        written = 0
        for batch in _batches(rows, BATCH):
            history, current = [], []
            for case_id, finding_id, fingerprint, grouping, text in batch:
                evidence = json.loads(text)
                history.append((digest_id, case_id, finding_id, fingerprint, grouping, text))
                fields = tuple(evidence.get(name) for name in SHOWN_COLUMNS)
                current.append((case_id, digest_id, finding_id, fingerprint, *fields, text))
            self.db.conn.executemany(
                "INSERT INTO digest_items (digest_id, case_id, finding_id, fingerprint,"
                " grouping, evidence) VALUES (?, ?, ?, ?, ?, ?)",
                history,
            )
            self.db.conn.executemany(
                f"{current_sql} INTO digest_shown VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                current,
            )
            written += len(batch)
        return written

    def stored_case_book(self, functions: dict[str, Callable]) -> CaseBook:
        """The case book kept in the store (`digestbook.StoredBook`), for a digest compared
        with the last one."""
        from grayhound.store.digestbook import StoredBook

        return StoredBook(self.db, functions)

    def case_book(self, functions: dict[str, Callable]) -> CaseBook:
        return CaseBook(database_file(self.db), functions)


class CaseBook:
    """The shown cases of one digest, in a private temporary database (gone when closed)
    that reads the store (attached read-only as `st`)."""

    kept = False  # not the store's own book: a record of it queues its cases for that one

    def __init__(self, store_path: str, functions: dict[str, Callable]):
        self.conn = sqlite3.connect("", uri=True, check_same_thread=False)
        self.conn.execute("PRAGMA cache_size = -32768")  # 32 MiB: sorts and indexes in memory
        self.conn.execute("ATTACH DATABASE ? AS st", [read_only_uri(store_path)])
        for name, function in functions.items():
            self.conn.create_function(name, -1, function, deterministic=True)
        self.conn.execute(CASES)
        self.queries = 0  # statements run: what a test reads of the work done

    def execute(self, sql: str, params=()) -> sqlite3.Cursor:
        self.queries += 1
        return self.conn.execute(sql.replace("{st}", "st"), params)

    def fill(
        self,
        states: tuple[str, ...],
        reference: str | None,
        decide: Callable[[Iterator[tuple]], Iterator[tuple]],
        *,
        record_all: bool = False,
    ) -> None:
        """Every flagged subject whose case is in `states`. With `reference` None the cases
        compare against what the last digest showed (`digest_shown`), else against the latest
        digest at or before `reference` that showed each. With `record_all` every case is
        marked to be recorded (a digest older than the last one recorded). Then the cases SQL
        could not decide are decided by `decide` (`undecided` in, `decide`'s tuples out)."""
        params: dict = {"reference": reference, **{f"s{i}": s for i, s in enumerate(states)}}
        marks = ", ".join(f":s{i}" for i in range(len(states)))
        for kind, fields in (("listing", LISTING_FIELDS), ("seller", SELLER_FIELDS)):
            moved = " OR ".join(
                [f"ds.{name} IS NOT {sql}" for name, sql in fields.items()]
                + ["ds.finding_id IS NOT f.id", "ds.fingerprint IS NOT f.fingerprint"]
            )
            dirty = "1" if record_all else f"(ds.case_id IS NULL OR {moved})"
            if reference is None:
                group = f"CASE WHEN ds.case_id IS NULL THEN 0 WHEN {moved} THEN NULL ELSE 2 END"
                shown = f"CASE WHEN ds.case_id IS NOT NULL AND ({moved}) THEN ds.evidence END"
            else:
                group = f"CASE WHEN {SHOWN_AT} IS NULL THEN 0 END"
                shown = SHOWN_AT
            seller = "l.seller_id" if kind == "listing" else "s.id"
            sql = f"""INSERT INTO cases_now
                SELECT case_id, kind, subject_id, finding_id, seller_id, state, verdict, score,
                       -score, sev, COALESCE(ratio, 9.0), flags, grp, shown, dirty, NULL, NULL
                FROM (SELECT c.id AS case_id, '{kind}' AS kind, f.subject_id, f.id AS finding_id,
                       {seller} AS seller_id, c.state, f.verdict, digest_round(COALESCE(f.score,
                       0.0)) AS score, {SEVERITY} AS sev, {RATIO[kind]} AS ratio, f.flags,
                       {group} AS grp, {shown} AS shown, {dirty} AS dirty
                      {FROM[kind]} ORDER BY c.id)"""
            self.execute(sql.format(st="st", flagged=FLAGGED, states=marks), params)
        self.conn.execute("CREATE INDEX cases_undecided ON cases_now (grp) WHERE grp IS NULL")
        self.conn.execute("CREATE INDEX cases_dirty ON cases_now (dirty) WHERE dirty")
        self.decide(decide(self.undecided()))

    def undecided(self) -> Iterator[tuple[dict, str | None, int]]:
        """(row, evidence last shown or None, dirty) of each case whose group Python decides
        or whose record is out of date: what changed since the last digest."""
        sql = ITEM_ROW.replace("SELECT dc.case_id,", "SELECT dc.shown, dc.dirty, dc.case_id,")
        sql += " WHERE dc.grp IS NULL OR dc.dirty"
        for row in self.rows(self.execute(sql)):
            yield row, row.pop("shown"), row.pop("dirty")

    def decide(self, decided: Iterator[tuple]) -> None:
        """Store (case id, group, changes JSON, evidence JSON or None) per case, as
        `undecided` yields them (kept aside while it reads, then set in one statement)."""
        self.conn.execute(
            "CREATE TABLE decided (case_id INTEGER PRIMARY KEY, grp, changes, evidence)"
        )
        for batch in _batches(decided, BATCH):
            self.conn.executemany("INSERT INTO decided VALUES (?, ?, ?, ?)", batch)
        self.conn.execute(
            "UPDATE cases_now SET grp = d.grp, changes = d.changes, evidence = d.evidence"
            " FROM decided d WHERE d.case_id = cases_now.case_id"
        )
        self.conn.execute("DROP TABLE decided")
        self.conn.execute(f"CREATE INDEX cases_seller ON cases_now (seller_id, kind, {RISK})")
        self._ordered = False

    def _in_order(self) -> None:
        """The index that reads every case group by group, riskiest first: made the first
        time it is needed (JSON, CSV), not for the pages."""
        if not self._ordered:
            self.conn.execute(f"CREATE INDEX cases_risk ON cases_now (grp, {RISK})")
            self._ordered = True

    def rows(
        self, cursor: sqlite3.Cursor, decode: tuple[str, ...] = ("flags", "reasons")
    ) -> Iterator[dict]:
        """Rows as dicts with their JSON lists (`decode`) decoded into tuples."""
        names = [column[0] for column in cursor.description]
        decoded: dict[str, tuple] = {}
        for values in cursor:
            row = dict(zip(names, values, strict=True))
            for key in decode:
                text = row[key] or "[]"
                if text not in decoded:
                    if len(decoded) > DECODED:
                        decoded.clear()
                    decoded[text] = tuple(json.loads(text))
                row[key] = decoded[text]
            yield row

    def items(self, where: str = "1", params=(), *, grouped=True, limit=-1) -> Iterator[dict]:
        """The full rows of the cases `where` selects (a condition on `dc`), riskiest first
        (group by group when `grouped`)."""
        order = f"dc.grp, {DC_RISK}" if grouped else DC_RISK
        if grouped and limit < 0:
            self._in_order()
        sql = f"{ITEM_ROW} WHERE {where} ORDER BY {order} LIMIT {int(limit)}"
        return self.rows(self.execute(sql, params))

    def tally(self) -> Iterator[tuple]:
        """(group, severity, state, flags JSON, count) of the cases, in one pass."""
        return self.execute(
            "SELECT grp, sev, state, flags, COUNT(*) FROM cases_now GROUP BY grp, sev, state, flags"
        )

    def recorded(self) -> Iterator[tuple]:
        """(case_id, finding_id, fingerprint, group number, evidence JSON) of the cases
        whose record is out of date, by case id."""
        sql = """SELECT case_id, finding_id, f.fingerprint, grp, evidence FROM cases_now
                 JOIN {st}.findings f ON f.id = finding_id WHERE dirty ORDER BY case_id"""
        return self.execute(sql)

    def seller_summaries(self) -> Iterator[tuple]:
        """Per seller with flagged listing cases and per flags JSON they carry, in one pass:
        (seller id, flags, count, new, best score, worst severity, lowest group, all clean)."""
        return self.execute(
            """SELECT seller_id, flags, COUNT(*), SUM(grp = 0), MAX(score), MIN(sev), MIN(grp),
                      MIN(verdict = 'clean')
               FROM cases_now WHERE seller_id IS NOT NULL AND kind = 'listing'
               GROUP BY seller_id, flags"""
        )

    def close(self) -> None:
        self.conn.close()


def _batches(rows, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
