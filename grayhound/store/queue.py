"""The cases queue of `grayhound serve` as SQL (issue 19): one row per flagged subject with its
case, filled by INSERT … SELECT from the store into a separate database that holds only the
queue, so no flagged row passes through Python but for the two columns only Python can say
(`PRICE_TEXT`, `CHANGES`, functions the caller registers on the connection) and, for
changes, only where the evidence the latest digest showed differs from the current one.

The queue database attaches the store read-only as `store`. It is kept beside the store
(`queue_path`) across runs with a mark of what it was derived from (`queue_source`: the
statement's version, the last `queue_changes` entry taken in, the last crawl); `fill_queue`
fills it whole (no mark, another version, or a store that went back) or only for the cases
whose subjects `grayhound.store.queuelog`'s triggers logged since (`changed_cases`).

What Datasette shows is the view `queue` (`VIEW`) over two tables: each case's row
(`queue_cases`) and when its subject was last seen (`queue_seen`), which every crawl moves."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path

from grayhound.errors import GrayhoundError
from grayhound.store.digestcases import SHOWN_COLUMNS, read_only_uri
from grayhound.store.digests import FLAGGED
from grayhound.store.queuelog import SELLER_LISTINGS

LOG = logging.getLogger(__name__)
STORE = "store"  # the schema name the store is attached under
PRICE_TEXT = "grayhound_price_text"  # (price, currency, msrp, msrp_currency, ratio) -> text
CHANGES = "grayhound_changes"  # (shown evidence JSON, evidence JSON) -> "a; b" or ""
SHOWN_STATES = ("open", "confirmed", "takedown-requested")  # as grayhound.triage.SHOWN_STATES
PAGE_CACHE_KIB = 32 * 1024  # SQLite's page cache per database for the queue (default 2 MiB)
BUSY_TIMEOUT_MS = 5000  # what sqlite3.connect gives by default (timeout=5.0)
TRUNCATE_TRIES, TRUNCATE_PAUSE = 20, 0.1  # `checkpoint_behind`: readers leave within seconds

# A queue row: the view Datasette shows (`queue`) and each row derived again (`DERIVED`).
ROW = """(
    case_id INTEGER PRIMARY KEY, subject TEXT, risk FLOAT, verdict TEXT, why TEXT,
    price_text TEXT, seller TEXT, seller_verdict TEXT, network_id INTEGER,
    flagged_listings INTEGER, flags TEXT, brand TEXT, state TEXT, "group" TEXT, changes TEXT,
    kind TEXT, source TEXT, model TEXT, severity TEXT, first_seen TEXT, last_seen TEXT,
    case_updated_at TEXT, url TEXT, subject_id INTEGER, seller_id INTEGER, reasons TEXT
)"""
# The queue is kept in two tables, shown as one view (`VIEW`, named `queue`: what Datasette
# shows, sorts and facets): each case's row but when its subject was last seen (`CASES`), and
# that moment (`SEEN`). A crawl moves every listing's last_seen: kept in the wide row (~670
# bytes), every row of the queue was written again at the first start after a crawl (~0.5 GB
# at a million rows, the longest step before serve's first page; issue 19, rounds 44 and 49);
# in a narrow row of its own (the case, its subject and the moment), ~35 MB.
CASES, SEEN = "queue_cases", "queue_seen"
TABLE = f"CREATE TABLE IF NOT EXISTS {CASES} " + ROW.replace(" last_seen TEXT,", "", 1)
assert "last_seen" not in TABLE, "ROW no longer lists last_seen as the queue expects"
SEEN_TABLE = f"""CREATE TABLE IF NOT EXISTS {SEEN} (
    case_id INTEGER PRIMARY KEY, kind TEXT, subject_id INTEGER, last_seen TEXT)"""
# The first page (riskiest first), a seller's cases, and each facet's counts, by index. A
# seller's rows carry its verdict and network in its index too: the listings' rows that must
# take a re-judged seller's over (`SELLER_OF_LISTINGS`) are found without reading any row.
INDEXES = (
    f"CREATE INDEX IF NOT EXISTS queue_seller"
    f" ON {CASES} (seller_id, risk, kind, seller_verdict, network_id)",
    f"CREATE INDEX IF NOT EXISTS queue_risk ON {CASES} (risk, case_id)",
    *(
        f'CREATE INDEX IF NOT EXISTS queue_{column} ON {CASES} ("{column}")'
        for column in ("group", "state", "brand", "source", "seller_verdict", "kind", "flags")
    ),
)
SUFFIX = "-triage"  # the queue's file beside the store: grayhound.db-triage
SOURCE = "CREATE TABLE IF NOT EXISTS derived_from (name TEXT PRIMARY KEY, value)"
# What the queue was derived from (`queue_source`): the last change log entry taken in, the
# last crawl (its `last_seen`), the newest finding (a store that went back is derived again).
MARKS = """
SELECT COALESCE((SELECT seq FROM store.sqlite_sequence WHERE name = 'queue_changes'), 0),
       (SELECT json_array(id, status, finished_at) FROM store.crawl_runs ORDER BY id DESC LIMIT 1),
       COALESCE((SELECT MAX(id) FROM store.findings), 0)
"""
# What a crawl moves as it goes (each sighting adds an observation): a crawl that wrote after
# `LastSeen` read the store, and before the fill takes the queue's write lock, moved these.
OBSERVED = """SELECT (SELECT MAX(id) FROM store.observations),
                     (SELECT MAX(id) FROM store.seller_observations)"""
# The cases whose rows may have moved: those of the subjects logged in (:after, :upto], and
# the listings' of a seller whose name or domain moved (`queuelog.SELLER_LISTINGS`).
CHANGED_CASES = """
WITH changed AS (SELECT DISTINCT subject_kind, subject_id FROM store.queue_changes
                 WHERE id > :after AND id <= :upto)
SELECT c.id FROM changed g
CROSS JOIN store.cases c ON c.subject_kind = g.subject_kind AND c.subject_id = g.subject_id
UNION
SELECT c.id FROM changed g
CROSS JOIN store.cases c ON c.subject_kind = 'seller' AND c.subject_id = g.subject_id
WHERE g.subject_kind = :seller_listings
UNION
SELECT c.id FROM changed g
CROSS JOIN store.listings l ON l.seller_id = g.subject_id
CROSS JOIN store.cases c ON c.subject_kind = 'listing' AND c.subject_id = l.id
WHERE g.subject_kind = :seller_listings
"""
# A logged seller's verdict and network, taken over by its listings' rows where they differ:
# each logged seller's read once, its rows found by the seller index (which holds the kind,
# verdict and network, so rows that already agree are never read).
SELLER_OF_LISTINGS = """
WITH v AS MATERIALIZED (
    SELECT g.seller_id,
        (SELECT sf.verdict FROM store.findings sf WHERE sf.subject_kind = 'seller'
           AND sf.subject_id = g.seller_id AND sf.is_current = 1) AS verdict,
        (SELECT n.network_id FROM store.network_members n
         WHERE n.seller_id = g.seller_id AND n.is_current = 1
         ORDER BY n.rowid DESC LIMIT 1) AS network_id
    FROM (SELECT DISTINCT subject_id AS seller_id FROM store.queue_changes
          WHERE id > :after AND id <= :upto AND subject_kind = 'seller') g)
UPDATE queue_cases SET seller_verdict = v.verdict, network_id = v.network_id
FROM v
WHERE queue_cases.seller_id = v.seller_id AND +queue_cases.kind = 'listing'
  AND (queue_cases.seller_verdict IS NOT v.verdict OR queue_cases.network_id IS NOT v.network_id)
"""
# When a row's subject was last seen, as the store has it now (`FILL`'s last_seen).
SEEN_AT = """CASE {row}.kind
    WHEN 'listing' THEN (SELECT l.last_seen FROM store.listings l WHERE l.id = {row}.subject_id)
    WHEN 'seller' THEN (SELECT s.last_seen FROM store.sellers s WHERE s.id = {row}.subject_id)
    END"""
# A crawl ran since: every row's last_seen as the store has it now (not logged, see queuelog),
# the narrow rows walked in their own order (a row whose moment did not move is not written).
LAST_SEEN = f"UPDATE {SEEN} SET last_seen = {SEEN_AT.format(row=SEEN)}"
# A queue derived whole: each row's moment, from its case's row just written.
SEEN_EVERY = (
    f"INSERT INTO {SEEN} SELECT q.case_id, q.kind, q.subject_id, {SEEN_AT.format(row='q')}"
    f" FROM {CASES} q"
)

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
               {shown_columns}
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
               {shown_columns}
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
           AND r.shown_price IS r.price
           AND r.shown_currency IS r.currency
           AND r.shown_title IS r.title
           AND r.shown_seller_name IS r.seller_name
           AND r.shown_seller_domain IS r.seller_domain)"""
# What the digests last showed of the case, as the next digest compares against it:
# `digest_shown` (`DigestShown.remember_shown`), read by case id with the evidence's fields as
# columns. Round 17: before, the newest `digest_items` row per case was found and its evidence
# parsed five times (~0.8 s of a day's 93,000 rows at a million listings). The two differ after
# a late digest (dated before one already recorded): it adds to the history but leaves the
# newer digest's record, so the queue says what the next digest will say, as the digest does.
SHOWN = "LEFT JOIN store.digest_shown si ON si.case_id = c.id"
SHOWN_READ = "si.evidence AS shown, si.finding_id AS shown_finding_id, " + ", ".join(
    f"si.{name} AS shown_{name}" for name in SHOWN_COLUMNS
)
FILL = """
SELECT case_id, subject, risk, verdict, why, price_text, seller, seller_verdict, network_id,
       NULL AS flagged_listings, flags, brand, state,
       CASE WHEN state NOT IN ({shown_states}) THEN 'closed' WHEN shown IS NULL THEN 'new'
            WHEN changes != '' THEN 'changed' ELSE 'still_open' END AS "group",
       NULLIF(changes, '') AS changes, kind, source, model, severity, first_seen, last_seen,
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
           r0.shown, {shown_fields}
    FROM ({subjects}) r0
  ) r
)
"""
# The rows of some cases derived again are written where they moved (issue 19, round 6): each
# is derived into `DERIVED` first; then the rows no longer derived are deleted, a kept row's
# columns are set where they differ, and the new rows are inserted. SQLite rewrites an index
# entry of a row for every index holding a column the UPDATE sets (whether or not its value
# moved), so a kept row's columns are written by what moved (round 7): `MOVED` notes, per kept
# row, which indexed columns differ and whether any other does (a bit each, `WRITE_GROUPS`),
# and one UPDATE per distinct set of bits writes those columns only — a day's row whose group
# moved (new -> still_open) rewrites the group index's entry, not all nine indexes' (setting
# every indexed column where one moved did). The queue ends as deleting and inserting every
# derived row would leave it, row for row. A seller's count of flagged listings is not among
# them: `COUNT_LISTINGS` counts it again for every derived row's seller.
COLUMNS = (  # ROW's, in order: the view's
    "case_id", "subject", "risk", "verdict", "why", "price_text", "seller", "seller_verdict",
    "network_id", "flagged_listings", "flags", "brand", "state", "group", "changes", "kind",
    "source", "model", "severity", "first_seen", "last_seen", "case_updated_at", "url",
    "subject_id", "seller_id", "reasons",
)  # fmt: skip
CASE_COLUMNS = tuple(c for c in COLUMNS if c != "last_seen")  # TABLE's, in order
SEEN_COLUMNS = ("case_id", "kind", "subject_id", "last_seen")  # SEEN_TABLE's
# The view: each case's row with its moment read by a scalar subquery, not a join. A statement
# that does not read last_seen never reads `SEEN` (Datasette's counts and facets, each over
# every row: SQLite keeps a LEFT JOIN in them, ~0.1-0.2 s more each at a million rows).
SEEN_OF = f"(SELECT s.last_seen FROM {SEEN} s WHERE s.case_id = c.case_id) AS last_seen"
VIEW = f"""CREATE VIEW IF NOT EXISTS queue AS SELECT {
    ", ".join(SEEN_OF if c == "last_seen" else f'c."{c}"' for c in COLUMNS)
} FROM {CASES} c"""
INDEXED = (  # the columns INDEXES hold but case_id
    "seller_id", "risk", "kind", "seller_verdict", "network_id", "group", "state", "brand",
    "source", "flags",
)  # fmt: skip
COUNTED = "flagged_listings"  # set by COUNT_LISTINGS, never from the derived row
# bit 0: the columns no index holds; bit 1 + i: the indexed column INDEXED[i]
WRITE_GROUPS = (
    tuple(c for c in CASE_COLUMNS[1:] if c not in INDEXED and c != COUNTED),
    *((c,) for c in INDEXED),
)
DERIVED = "temp.queue_derived"
DERIVED_TABLE = f"CREATE TABLE IF NOT EXISTS {DERIVED} {ROW}"
MOVED = "temp.queue_moved"
MOVED_TABLE = f"""CREATE TABLE IF NOT EXISTS {MOVED} (
    bits INTEGER, case_id INTEGER, PRIMARY KEY (bits, case_id)) WITHOUT ROWID"""
GONE = tuple(
    f"""DELETE FROM {table} WHERE case_id IN (SELECT value FROM json_each(:cases))
    AND case_id NOT IN (SELECT case_id FROM {DERIVED})"""
    for table in (CASES, SEEN)
)
# The new rows; and every derived row's moment, the narrow row written whole (a day's rows)
NEW = (
    f"""INSERT INTO {CASES} SELECT {", ".join(f'd."{c}"' for c in CASE_COLUMNS)} FROM {DERIVED} d
    WHERE NOT EXISTS (SELECT 1 FROM {CASES} q WHERE q.case_id = d.case_id)""",
    f"INSERT OR REPLACE INTO {SEEN} SELECT {', '.join(SEEN_COLUMNS)} FROM {DERIVED}",
)


def _differs(columns: tuple[str, ...]) -> str:
    return "(" + " OR ".join(f'q."{c}" IS NOT d."{c}"' for c in columns) + ")"


# Each kept row that moved with its bits: the derived rows walked (CROSS JOIN: never the
# queue), each kept row reached by its case id.
NOTE_MOVED = f"""INSERT INTO {MOVED} (bits, case_id)
SELECT bits, case_id FROM (
    SELECT {" | ".join(f"({_differs(g)} << {i})" for i, g in enumerate(WRITE_GROUPS))} AS bits,
           d.case_id
    FROM {DERIVED} d CROSS JOIN {CASES} q ON q.case_id = d.case_id)
WHERE bits != 0"""


def set_moved(bits: int) -> str:
    """The UPDATE of the columns these bits name (`WRITE_GROUPS`), for the kept rows noted
    with these very bits: each reached by its case id from `MOVED`."""
    columns = [c for i, g in enumerate(WRITE_GROUPS) if bits >> i & 1 for c in g]
    names = ", ".join(f'"{c}"' for c in columns)
    derived = ", ".join(f'd."{c}"' for c in columns)
    return f"""UPDATE {CASES} SET ({names}) = (SELECT {derived} FROM {DERIVED} d
        WHERE d.case_id = {CASES}.case_id)
    WHERE case_id IN (SELECT case_id FROM {MOVED} WHERE bits = :bits)"""


# A seller's row says how many of its listings are flagged (all of them are queue rows): the
# rows naming it but its own, counted in the seller index alone (no row read).
COUNT_LISTINGS = """
UPDATE queue_cases SET flagged_listings = (
    SELECT COUNT(*) - 1 FROM queue_cases q WHERE q.seller_id = queue_cases.seller_id)
WHERE kind = 'seller' {cases}
"""


def open_queue(path: str, store_path: str) -> sqlite3.Connection:
    """A connection to the queue database at `path` (created when missing) with the store
    attached read-only."""
    conn = _connect(path)
    conn.execute("PRAGMA journal_mode = WAL")  # Datasette reads the old queue while it fills
    _empty_wal(conn)
    _attach_store(conn, store_path)
    # A queue kept in one table named `queue` (before round 49) stays as it is, and so do its
    # indexes, until the fill that replaces it (`_fill_every`: its version differs).
    for sql in (TABLE, SEEN_TABLE, VIEW, SOURCE, *INDEXES):
        conn.execute(sql)
    return conn


def _connect(
    path: str, *, wait_ms: int = BUSY_TIMEOUT_MS, create: bool = True
) -> sqlite3.Connection:
    """A connection of grayhound's to the queue's file: it commits what it says, when it says
    (`wait_ms`: how long it waits for a lock; `create`: a missing file is made)."""
    uri = Path(path).resolve().as_uri() + ("" if create else "?mode=rw")
    conn = sqlite3.connect(
        uri, uri=True, isolation_level=None, check_same_thread=False, timeout=wait_ms / 1000
    )
    conn.execute("PRAGMA synchronous = OFF")  # derived again after a crash: never fsync it
    # No commit copies the WAL back into the file as its own work (SQLite does from 1,000
    # pages on): a whole derive writes ~0.7 GB at a million rows (a refresh after a crawl did
    # too, before its moments were kept apart: `SEEN`), and copying it back in the refresh's
    # commit kept the first page waiting ~0.9 s. `checkpoint_behind`
    # copies it after the refresh, and each start empties what is left (`_empty_wal`).
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    return conn


def _attach_store(conn: sqlite3.Connection, store_path: str) -> None:
    conn.execute(f"ATTACH DATABASE ? AS {STORE}", [read_only_uri(store_path)])
    for schema in ("main", STORE):  # a day's cases lie all over both: keep what was read
        conn.execute(f"PRAGMA {schema}.cache_size = -{PAGE_CACHE_KIB}")


def _empty_wal(conn: sqlite3.Connection) -> None:
    """Write the queue's WAL back into its file and truncate it, before anything reads it.

    A serve stopped by a signal never closes the queue, and while Datasette reads it the WAL
    is not started again from its beginning: each start appended its writes (~70 MB at 100k
    listings after a day, ~700 MB at 1M) behind the last, and the file only grew (5.5 GB
    beside a 0.7 GB queue after ten days at 1M). Emptied at each start, the WAL holds one
    start's writes. A server's shutdown empties it too (`finish_behind`); what is left here
    is a server's that was killed (SIGKILL, a crash, a second Ctrl-C), stopped before it
    listened, or stopped while another process read the queue. Another process reading the
    queue just now: left as it is (no wait), emptied at the next start."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.OperationalError:  # busy: another serve of this store holds it
        pass
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def checkpoint_behind(path: str) -> threading.Thread:
    """Copy the WAL of the queue's file at `path` back into the file after a refresh
    committed, on a connection and thread of its own: passive checkpoints (no reader or
    writer waits for them, and they wait for none), the WAL truncated once they copied it all
    and no reader is in it (tried `TRUNCATE_TRIES` times, never waiting on a lock). A WAL left
    whole is read through again by the next start before it can be emptied (~1 s for the
    0.7 GB a million rows' first derive writes). One thread per file: asked while it copies,
    it copies once more after. Not a daemon (whichever thread asks), and a server's shutdown
    waits for it (`finish_behind`)."""
    with _BEHIND_LOCK:
        running = _BEHIND.get(path)
        if running is not None:
            _AGAIN.add(path)
            return running
        thread = _BEHIND[path] = threading.Thread(
            target=_copy_back_while_asked,
            args=(path,),
            name="grayhound-queue-checkpoint",
            daemon=False,
        )
        try:
            thread.start()
        except BaseException:
            del _BEHIND[path]
            raise
        return thread


def finish_behind(path: str) -> None:
    """A server's last step, once no request runs: the queue's WAL at `path` copied back into
    its file and truncated (`checkpoint_behind` asked once more, then waited for). The next
    start then finds it empty instead of reading a refresh's writes (~0.7 GB at a million
    rows for a whole derive) through and copying them back before its first page."""
    checkpoint_behind(path).join()


_BEHIND: dict[str, threading.Thread] = {}  # the file's copying thread, while it runs
_AGAIN: set[str] = set()  # files asked for again while their thread copied
_BEHIND_LOCK = threading.Lock()


def _copy_back_while_asked(path: str) -> None:
    try:
        while True:
            _copy_back(path)
            with _BEHIND_LOCK:
                if path not in _AGAIN:
                    return
                _AGAIN.discard(path)
    finally:  # whatever ended it, the next refresh starts another
        with _BEHIND_LOCK:
            _BEHIND.pop(path, None)
            _AGAIN.discard(path)


def _copy_back(path: str) -> None:
    try:
        conn = _connect(path, wait_ms=0, create=False)
        try:
            for _ in range(TRUNCATE_TRIES):
                _, log, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                # a TRUNCATE holds writers back while it copies: only once nothing is left
                if (
                    log == copied
                    and not conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                ):
                    break
                time.sleep(TRUNCATE_PAUSE)
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:  # the next refresh or start copies it
        LOG.debug("grayhound serve: the queue's WAL not copied back: %s", exc)


def queue_path(store_path: str) -> str:
    """The file the queue of the store at `store_path` is kept in, beside it."""
    return f"{store_path}{SUFFIX}"


def version(functions: str = "") -> str:
    """What a derived row is: a queue filled by other statements, or by other versions of the
    functions the caller registers (`functions`: the caller's fingerprint of their code), is
    derived again whole."""
    text = "\n".join(
        (TABLE, SEEN_TABLE, VIEW, fill_statement(every=True), SEEN_EVERY, COUNT_LISTINGS,
         *INDEXES, functions)
    )  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def add_ended_index(db) -> None:
    """Migration 0012_issue19_ended_index: the newest moment a finding ended (its listing
    gone) read by index, so that serve's queue (`MARKS`) sees a detection that only ended
    findings."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS findings_ended ON findings (ended_at)"
        " WHERE ended_at IS NOT NULL"
    )


def queue_marks(conn: sqlite3.Connection) -> dict:
    """The store's marks now: {"log": last change logged, "crawl": last crawl, "findings"}."""
    log, crawl, findings = conn.execute(MARKS).fetchone()
    return {"log": log, "crawl": crawl, "findings": findings}


def queue_source(conn: sqlite3.Connection, functions: str = "") -> dict | None:
    """The marks the queue was derived from (`queue_marks` and "version"), or None when it was
    never filled, was filled by another version or from a store that has gone back since."""
    source = dict(conn.execute("SELECT name, value FROM derived_from").fetchall())
    if source.get("version") != version(functions):
        return None
    now = queue_marks(conn)
    if (source.get("log") or 0) > now["log"] or (source.get("findings") or 0) > now["findings"]:
        return None  # another store, or one restored from an older copy
    taken = conn.execute(f"SELECT log FROM {STORE}.queue_taken").fetchall()
    if taken != [(source.get("log"),)]:
        return None  # the store did not see this queue take the log in: restored, or another
    return source


def changed_cases(conn: sqlite3.Connection, after: int, upto: int) -> list[int]:
    """The ids of the cases whose rows the changes logged in (after, upto] may have moved."""
    params = {"after": after, "upto": upto, "seller_listings": SELLER_LISTINGS}
    return sorted(row[0] for row in conn.execute(CHANGED_CASES, params))


def sync_last_seen(conn: sqlite3.Connection) -> None:
    conn.execute(LAST_SEEN)


def fill_statement(every: bool, into: str = CASES) -> str:
    """The INSERT of every flagged subject's row, or (`every` false) of those of the cases
    named by the JSON list `:cases`, read by case id, into the table `into`: a table of whole
    rows (`ROW`: `DERIVED`), or the queue's table of cases (`CASES`, without last_seen)."""
    subjects = " UNION ALL ".join(
        sql.format(
            finding=FINDING,
            flagged=FLAGGED,
            source=EVERY if every else SOME,
            shown=SHOWN,
            shown_columns=SHOWN_READ,
        )
        for sql in SUBJECTS.values()
    )
    select = FILL.format(
        subjects=subjects,
        same=SAME,
        shown_fields=", ".join(f"r0.shown_{name}" for name in SHOWN_COLUMNS),
        evidence=EVIDENCE,
        changes=CHANGES,
        price_text=PRICE_TEXT,
        shown_states=", ".join(f"'{state}'" for state in SHOWN_STATES),
    )
    if into != CASES:
        return f"INSERT INTO {into} {select}"
    columns = ", ".join(f'"{c}"' for c in CASE_COLUMNS)
    return f"INSERT INTO {CASES} SELECT {columns} FROM ({select})"


def fill_queue(
    conn: sqlite3.Connection,
    cases: list[int] | None = None,
    marks: dict | None = None,
    crawled: bool = False,
    after: int | None = None,
    functions: str = "",
    last_seen: LastSeen | None = None,
) -> int:
    """Fill the queue from the store: every row (`cases` None), or the rows of
    these case ids (a seller's count of flagged listings with them; `crawled`: every row's
    last_seen taken over too; `after`: the change log entry they were logged after, whose
    sellers' verdict and network their listings' rows take over). `marks` (`queue_marks`, taken
    before the store was read) are recorded as what it was derived from, in the same
    transaction as the rows. Returns the rows written.

    Some cases: their rows are derived first into a temporary table, before the queue's write
    lock is taken, while another thread takes `last_seen` over on a connection of its own and
    commits it (`LastSeen`; `last_seen`: one the caller began already); both read the store
    after their marks were taken, so anything they see beyond them is taken in again by the
    next fill. A crawl that observed anything after `LastSeen` read the store (a sighting
    writes an observation) has last_seen read again under the write lock. When another
    server of the same store filled the queue meanwhile, nothing is written (its crawl mark
    cleared) and a `GrayhoundError` says so: the next fill takes in what moved."""
    params: dict = {}
    if cases is None:
        if last_seen is not None:
            last_seen.join(quiet=True)  # every row is derived again, last_seen with it
        return _fill_every(conn, params, marks, functions)
    params["cases"] = json.dumps(cases)
    if last_seen is None and crawled:
        last_seen = LastSeen(conn)
    try:
        # the sellers whose listings' rows go: counted again below (last_seen moves no seller)
        before = f"SELECT DISTINCT seller_id FROM {CASES} WHERE case_id IN (SELECT value FROM json_each(:cases))"
        params["sellers"] = json.dumps([row[0] for row in conn.execute(before, params)])
        written = _derive(conn, params)
    except BaseException:
        if last_seen is not None:
            last_seen.join(quiet=True)  # this error, not the thread's, is the one to say
        raise
    if last_seen is not None:
        last_seen.join()  # its error raised: the marks are not recorded, the next fill syncs
    conn.execute("BEGIN IMMEDIATE")
    try:
        meanwhile = _refreshed_meanwhile(conn, after)
        if meanwhile and last_seen is not None:  # its values may be older than the other's:
            conn.execute("UPDATE derived_from SET value = NULL WHERE name = 'crawl'")
        if not meanwhile:
            if last_seen is not None and last_seen.observed != observed(conn):
                sync_last_seen(conn)  # a crawl wrote after it read the store: read it now
            _write_derived(conn, params)
            conn.execute(INDEXES[0])
            conn.execute(COUNT_LISTINGS.format(cases=TOUCHED), params)
            for index in INDEXES[1:]:
                conn.execute(index)
            if marks is not None and after is not None:
                conn.execute(SELLER_OF_LISTINGS, {"after": after, "upto": marks["log"]})
            _mark(conn, marks, functions)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if meanwhile:
        raise GrayhoundError(
            "the cases queue was refreshed by another server of this store meanwhile;"
            " it is brought up to date at the next request"
        )
    return written


def observed(conn: sqlite3.Connection) -> tuple:
    """The newest observations of listings and sellers in the store (`OBSERVED`)."""
    return tuple(conn.execute(OBSERVED).fetchone())


def _refreshed_meanwhile(conn: sqlite3.Connection, after: int | None) -> bool:
    """Whether another connection (a second server of the same store) filled the queue since
    this fill read where it stood (`after`, the log entry it took in last): its rows, derived
    outside the lock, may be older than the other's. (The caller then clears the crawl mark,
    so the next fill takes every row's last_seen over again.)"""
    if after is None:
        return False
    row = conn.execute("SELECT value FROM derived_from WHERE name = 'log'").fetchone()
    return row is None or row[0] != after


# The sellers' rows whose count of flagged listings may have moved: the sellers of the cases
# derived again (as derived, and as they were before: `:sellers`), where the count moved.
TOUCHED = """AND (seller_id IN (SELECT seller_id FROM queue_cases WHERE case_id IN
    (SELECT value FROM json_each(:cases))) OR seller_id IN (SELECT value FROM json_each(:sellers)))
    AND flagged_listings IS NOT
        (SELECT COUNT(*) - 1 FROM queue_cases q WHERE q.seller_id = queue_cases.seller_id)"""


def _fill_every(conn: sqlite3.Connection, params: dict, marks: dict | None, functions: str) -> int:
    """Every flagged subject's row, into new tables indexed once filled (faster than row by
    row), and the view over them made again (its columns are this version's), in one
    transaction: a queue kept in one table before (round 49) is shown until it commits."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        shown = conn.execute("SELECT type FROM main.sqlite_master WHERE name = 'queue'")
        for (kind,) in shown.fetchall():  # the view, or a queue kept in one table (its indexes)
            conn.execute(f"DROP {'TABLE' if kind == 'table' else 'VIEW'} queue")
        for table in (CASES, SEEN):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        for sql in (TABLE, SEEN_TABLE, VIEW):
            conn.execute(sql)
        written = conn.execute(fill_statement(every=True), params).rowcount
        conn.execute(SEEN_EVERY)
        conn.execute(INDEXES[0])  # by seller: each seller's count of flagged listings
        conn.execute(COUNT_LISTINGS.format(cases=""), params)
        for index in INDEXES[1:]:
            conn.execute(index)
        _mark(conn, marks, functions)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return written


def _mark(conn: sqlite3.Connection, marks: dict | None, functions: str) -> None:
    if marks is not None:
        conn.executemany(
            "INSERT OR REPLACE INTO derived_from (name, value) VALUES (?, ?)",
            [*marks.items(), ("version", version(functions))],
        )


class LastSeen:
    """`LAST_SEEN` in a thread, on a second connection to the queue's file (the store attached
    read-only), in a transaction of its own: nearly every row's moment moves after a crawl
    (1.35-1.86 s at a million rows in the narrow `SEEN` rows, against 3.18-3.86 s when they
    were the wide rows: docs/performance.md, round 49), while this connection derives the day's
    rows, which reads only the store.
    A row's last_seen is the store's then; one committed before the rest of the fill (or
    without it, when the fill fails) says nothing the store did not say."""

    def __init__(self, conn: sqlite3.Connection):
        self.observed = observed(conn)  # the newest observations before it read the store
        files = {name: file for _, name, file in conn.execute("PRAGMA database_list")}
        self.paths = files["main"], files[STORE]
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="grayhound-last-seen", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            side = _connect(self.paths[0])
            try:
                _attach_store(side, self.paths[1])
                side.execute("BEGIN IMMEDIATE")
                try:
                    sync_last_seen(side)
                    side.execute("COMMIT")
                except BaseException:
                    side.execute("ROLLBACK")
                    raise
            finally:
                side.close()
        except BaseException as exc:  # raised in the filling thread by `join`
            self.error = exc

    def join(self, *, quiet: bool = False) -> None:
        """Wait for it; its error raised here (`quiet`: only waited for)."""
        self.thread.join()
        if self.error is not None and not quiet:
            raise self.error


def _derive(conn: sqlite3.Connection, params: dict) -> int:
    """The rows of the cases `params["cases"]` derived again into `DERIVED` (read from the
    store alone); returns how many."""
    conn.execute(DERIVED_TABLE)
    conn.execute(f"DELETE FROM {DERIVED}")
    return conn.execute(fill_statement(every=False, into=DERIVED), params).rowcount


def _write_derived(conn: sqlite3.Connection, params: dict) -> None:
    """The derived rows written where they moved (`MOVED`, `set_moved`); their moments (`SEEN`)
    written whole."""
    conn.execute(MOVED_TABLE)
    conn.execute(f"DELETE FROM {MOVED}")
    for sql in GONE:
        conn.execute(sql, params)
    conn.execute(NOTE_MOVED)
    for (bits,) in conn.execute(f"SELECT DISTINCT bits FROM {MOVED}").fetchall():
        conn.execute(set_moved(bits), {"bits": bits})
    for sql in NEW:
        conn.execute(sql)
    conn.execute(f"DELETE FROM {DERIVED}")
    conn.execute(f"DELETE FROM {MOVED}")
