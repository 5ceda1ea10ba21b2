"""The cases queue of `grayhound serve` as SQL (issue 19): one row per flagged subject with its
case, filled by INSERT … SELECT from the store into a separate database that holds only the
queue, so no flagged row passes through Python but for the two columns only Python can say
(`PRICE_TEXT`, `CHANGES`, functions the caller registers on the connection) and, for
changes, only where the evidence the latest digest showed differs from the current one.

The queue database attaches the store read-only as `store`. `fill_queue` fills it whole or
for some cases (those a decision or a new case touched since it was filled); `queue_marks`
says what it was filled from, so the caller knows which."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from grayhound.store.digestcases import read_only_uri
from grayhound.store.digests import FLAGGED

STORE = "store"  # the schema name the store is attached under
PRICE_TEXT = "grayhound_price_text"  # (price, currency, msrp, msrp_currency, ratio) -> text
CHANGES = "grayhound_changes"  # (shown evidence JSON, evidence JSON) -> "a; b" or ""
SHOWN_STATES = ("open", "confirmed", "takedown-requested")  # as grayhound.triage.SHOWN_STATES

TABLE = """
CREATE TABLE IF NOT EXISTS queue (
    case_id INTEGER PRIMARY KEY, subject TEXT, risk FLOAT, verdict TEXT, why TEXT,
    price_text TEXT, seller TEXT, seller_verdict TEXT, network_id INTEGER,
    flagged_listings INTEGER, flags TEXT, brand TEXT, state TEXT, "group" TEXT, changes TEXT,
    kind TEXT, source TEXT, model TEXT, severity TEXT, first_seen TEXT, last_seen TEXT,
    case_updated_at TEXT, url TEXT, subject_id INTEGER, seller_id INTEGER, reasons TEXT
)
"""
# The first page (riskiest first), a seller's cases, and each facet's counts, by index.
INDEXES = (
    "CREATE INDEX IF NOT EXISTS queue_seller ON queue (seller_id, risk)",
    "CREATE INDEX IF NOT EXISTS queue_risk ON queue (risk, case_id)",
    *(
        f'CREATE INDEX IF NOT EXISTS queue_{column} ON queue ("{column}")'
        for column in ("group", "state", "brand", "source", "seller_verdict", "kind")
    ),
)
# What the queue was last filled from: the store's figures that, when they move, say what to
# redo (`queue_marks`).
MARKS = """
SELECT (SELECT MAX(id) FROM store.findings), (SELECT MAX(ended_at) FROM store.findings),
       (SELECT MAX(id) FROM store.digests),
       (SELECT MAX(id) FROM store.observations), (SELECT MAX(id) FROM store.seller_observations),
       (SELECT MAX(last_seen) FROM store.network_members),
       (SELECT MAX(id) FROM store.cases), (SELECT MAX(id) FROM store.review_log)
"""
EVIDENCE_MARKS = 6  # the first six marks: a move in any of them re-derives every row

# One subject kind's flagged rows with their case and the evidence the latest digest showed,
# from every current finding (`EVERY`) or from some cases (`SOME`: read by case id first).
EVERY = """store.findings f
    JOIN store.cases c ON c.subject_kind = f.subject_kind AND c.subject_id = f.subject_id"""
SOME = """json_each(:cases) w
    CROSS JOIN store.cases c ON c.id = w.value
    CROSS JOIN store.findings f ON f.subject_kind = c.subject_kind AND f.subject_id = c.subject_id"""
FINDING = """f.id, f.subject_kind, f.subject_id, f.subject, f.brand, f.score, f.verdict, f.flags,
    f.reasons, f.model, f.msrp, f.msrp_currency, f.price_ratio"""
SUBJECTS = {
    "listing": """
        SELECT {finding}, c.id AS case_id, c.state, c.updated_at AS case_updated_at,
               l.title, l.price, l.currency, l.source, l.canonical_url AS url,
               l.first_seen, l.last_seen, l.seller_id,
               COALESCE(l.seller_name, s.name) AS seller_name,
               COALESCE(l.seller_domain, s.domain, s.claimed_domain) AS seller_domain,
               si.evidence AS shown, si.finding_id AS shown_finding_id
        FROM {source}
        JOIN store.listings l ON l.id = f.subject_id
        LEFT JOIN store.sellers s ON s.id = l.seller_id
        {shown}
        WHERE f.subject_kind = 'listing' AND {flagged}
    """,
    "seller": """
        SELECT {finding}, c.id AS case_id, c.state, c.updated_at AS case_updated_at,
               NULL AS title, NULL AS price, NULL AS currency, s.source,
               s.profile_url AS url, s.first_seen, s.last_seen, s.id AS seller_id,
               s.name AS seller_name, COALESCE(s.domain, s.claimed_domain) AS seller_domain,
               si.evidence AS shown, si.finding_id AS shown_finding_id
        FROM {source}
        JOIN store.sellers s ON s.id = f.subject_id
        {shown}
        WHERE f.subject_kind = 'seller' AND {flagged}
    """,
}
SORTED_FLAGS = """(SELECT json_group_array(value) FROM
    (SELECT value FROM json_each(COALESCE(NULLIF(r.flags, ''), '[]')) ORDER BY value))"""
# The evidence as `grayhound.triage.evidence_of` gives it, as JSON (flags sorted).
EVIDENCE = f"""json_object(
    'kind', r.subject_kind, 'price', r.price, 'currency', r.currency, 'title', r.title,
    'seller_name', r.seller_name, 'seller_domain', r.seller_domain, 'verdict', r.verdict,
    'flags', json({SORTED_FLAGS}))"""
# The latest digest showed this very finding (so its verdict and flags) and the subject's price,
# title, seller and domain are as it showed them: nothing changed, no need to ask Python.
# Otherwise `CHANGES` says what did (maybe nothing).
SAME = """(r.shown_finding_id IS r.id
           AND json_extract(r.shown, '$.price') IS r.price
           AND json_extract(r.shown, '$.currency') IS r.currency
           AND json_extract(r.shown, '$.title') IS r.title
           AND json_extract(r.shown, '$.seller_name') IS r.seller_name
           AND json_extract(r.shown, '$.seller_domain') IS r.seller_domain)"""
# The latest digest's item of the case (joined by id: its evidence is then read as a column,
# however often the query names it, not looked up again each time).
SHOWN = """LEFT JOIN store.digest_items si ON si.rowid = (
            SELECT i.rowid FROM store.digest_items i JOIN store.digests d ON d.id = i.digest_id
            WHERE i.case_id = c.id AND d.created_at <= :now
            ORDER BY d.created_at DESC, d.id DESC LIMIT 1)"""
FILL = """
INSERT INTO queue
SELECT case_id, subject, risk, verdict, why, price_text, seller, seller_verdict, network_id,
       NULL, flags, brand, state,
       CASE WHEN state NOT IN ({shown_states}) THEN 'closed' WHEN shown IS NULL THEN 'new'
            WHEN changes != '' THEN 'changed' ELSE 'still_open' END,
       NULLIF(changes, ''), kind, source, model, severity, first_seen, last_seen,
       case_updated_at, url, subject_id, seller_id, reasons
FROM (
  SELECT r.*,
         CASE WHEN r.shown IS NULL OR {same} THEN '' ELSE {changes}(r.shown, {evidence}) END
           AS changes
  FROM (
    SELECT r0.id, r0.shown_finding_id, r0.case_id, r0.state, r0.case_updated_at, r0.subject_kind AS kind,
           r0.subject_kind, r0.subject_id, r0.verdict, r0.flags, r0.brand, r0.model,
           r0.source, r0.url, r0.first_seen, r0.last_seen, r0.seller_id, r0.reasons,
           r0.price, r0.currency, r0.title, r0.seller_name, r0.seller_domain,
           COALESCE(NULLIF(CASE WHEN r0.subject_kind = 'seller'
                                THEN COALESCE(NULLIF(r0.seller_name, ''), r0.subject)
                                ELSE r0.title END, ''), '(no title)') AS subject,
           round(COALESCE(r0.score, 0.0), 4) AS risk,
           json_extract(r0.reasons, '$[0]') || CASE WHEN json_array_length(r0.reasons) > 1
               THEN ' (+' || (json_array_length(r0.reasons) - 1) || ' more)' ELSE '' END AS why,
           CASE WHEN r0.subject_kind = 'listing' THEN {price_text}(r0.price, r0.currency,
               r0.msrp, r0.msrp_currency, r0.price_ratio) END AS price_text,
           COALESCE(NULLIF(r0.seller_name, ''), r0.subject) AS seller,
           CASE WHEN r0.verdict = 'impersonation' THEN 'critical'
                WHEN r0.verdict = 'suspicious' OR COALESCE(r0.score, 0) >= 0.5 THEN 'high'
                ELSE 'watch' END AS severity,
           (SELECT sf.verdict FROM store.findings sf WHERE sf.subject_kind = 'seller'
              AND sf.subject_id = r0.seller_id AND sf.is_current = 1) AS seller_verdict,
           (SELECT n.network_id FROM store.network_members n
            WHERE n.seller_id = r0.seller_id AND n.is_current = 1
            ORDER BY n.rowid DESC LIMIT 1) AS network_id,
           r0.shown
    FROM ({subjects}) r0
  ) r
)
"""
# A seller's row says how many of its listings are flagged (all of them are queue rows).
COUNT_LISTINGS = """
UPDATE queue SET flagged_listings = (
    SELECT COUNT(*) FROM queue q WHERE +q.kind = 'listing' AND q.seller_id = queue.seller_id)
WHERE kind = 'seller' {cases}
"""


def open_queue(path: str, store_path: str) -> sqlite3.Connection:
    """A connection to the queue database at `path` (created when missing) with the store
    attached read-only."""
    conn = sqlite3.connect(
        Path(path).resolve().as_uri(), uri=True, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode = WAL")  # Datasette reads the old queue while it fills
    conn.execute("PRAGMA synchronous = OFF")  # derived again after a crash: never fsync it
    conn.execute(f"ATTACH DATABASE ? AS {STORE}", [read_only_uri(store_path)])
    conn.execute(TABLE)
    for sql in INDEXES:
        conn.execute(sql)
    return conn


def add_ended_index(db) -> None:
    """Migration 0012_issue19_ended_index: the newest moment a finding ended (its listing
    gone) read by index, so that serve's queue (`MARKS`) sees a detection that only ended
    findings."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS findings_ended ON findings (ended_at)"
        " WHERE ended_at IS NOT NULL"
    )


def queue_marks(conn: sqlite3.Connection) -> tuple:
    return tuple(conn.execute(MARKS).fetchone())


def fill_statement(every: bool) -> str:
    """The INSERT of every flagged subject's row, or (`every` false) of those of the cases
    named by the JSON list `:cases`, read by case id."""
    subjects = " UNION ALL ".join(
        sql.format(finding=FINDING, flagged=FLAGGED, source=EVERY if every else SOME, shown=SHOWN)
        for sql in SUBJECTS.values()
    )
    return FILL.format(
        subjects=subjects,
        same=SAME,
        evidence=EVIDENCE,
        changes=CHANGES,
        price_text=PRICE_TEXT,
        shown_states=", ".join(f"'{state}'" for state in SHOWN_STATES),
    )


def fill_queue(conn: sqlite3.Connection, now: str, cases: list[int] | None = None) -> int:
    """Fill the queue from the store as of `now`: every row (`cases` None), or the rows of
    these case ids (a seller's count of flagged listings with them). Returns the rows written."""
    sql = fill_statement(every=cases is None)
    params = {"now": now}
    if cases is not None:
        params["cases"] = json.dumps(cases)
    conn.execute("BEGIN")
    try:
        if cases is None:  # a new table indexed once filled: faster than row by row
            conn.execute("DROP TABLE queue")
            conn.execute(TABLE)
        else:
            conn.execute(
                "DELETE FROM queue WHERE case_id IN (SELECT value FROM json_each(?))",
                [params["cases"]],
            )
        written = conn.execute(sql, params).rowcount
        conn.execute(INDEXES[0])  # by seller: each seller's count of flagged listings
        touched = (
            ""
            if cases is None
            else (
                "AND seller_id IN (SELECT seller_id FROM queue WHERE case_id IN"
                " (SELECT value FROM json_each(:cases)))"
            )
        )
        conn.execute(COUNT_LISTINGS.format(cases=touched), params)
        for index in INDEXES[1:]:
            conn.execute(index)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return written


def cases_touched(conn: sqlite3.Connection, case_mark: int | None, log_mark: int | None) -> list:
    """The ids of cases opened, or decided about, since these marks (MAX case id, MAX review
    log id when the queue was filled)."""
    sql = f"""
        SELECT id FROM {STORE}.cases WHERE id > :case_mark
        UNION SELECT case_id FROM {STORE}.review_log WHERE id > :log_mark
    """
    marks = {"case_mark": case_mark or 0, "log_mark": log_mark or 0}
    return [row[0] for row in conn.execute(sql, marks)]
