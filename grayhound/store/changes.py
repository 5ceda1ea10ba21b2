"""What changed since the last detection: SQLite triggers queue every listing and seller whose
judged facts a write changes, whoever writes (the crawler, the cluster's ingest, a seller
merge, a hand-made fix), and `detection_marks` remembers what the last detection judged with
(the config sections and the detectors' code). Migration 0010 (issue 19).

A queue row has a sequence number: a detection claims the rows up to the highest number it
saw when it began and deletes only those at the end, so a change written meanwhile (a crawl
running beside it) is queued again and judged by the next detection."""

from __future__ import annotations

import sqlite_utils

# The columns of a listing and a seller that detection reads: a write that changes one queues
# the subject. Keep in step with `grayhound.detection` (tests/grayhound/test_incremental.py
# checks that every column the detection reads is here).
LISTING_FACTS = (
    "title", "price", "currency", "condition", "description", "summary", "brand", "seller_id",
    "seller_name", "seller_domain", "source", "category", "image",
)  # fmt: skip
# The listing columns that change its seller's network signals or sales: the seller is queued.
LISTING_SELLER_FACTS = ("seller_id", "description")
SELLER_FACTS = ("name", "domain", "claimed_domain", "source", "merged_into")
ALIAS_FACTS = ("seller_id", "kind", "value", "raw")


# A listing is gone (delisted) once its page answers 404 or 410 in a crawl run after the one
# that last saw it. (Not merely unseen: a crawl may stop at max_pages or fetch a few URLs.)
DELISTED_SQL = (
    "SELECT crawl_run_id, status FROM crawl_failures WHERE url = ? AND source = ?"
    " AND status IN (404, 410) AND crawl_run_id > ? ORDER BY crawl_run_id DESC LIMIT 1"
)


# A listing's finding closed after its successor was written (`Findings._record_batch` inserts
# the new finding, then closes the one it replaces, in one transaction): the queues fed from
# `findings` (serve's change log, the digest's book queue) skip that close, as the successor's
# insert has queued the same subject already and the close's own queue write (a DELETE and an
# INSERT into each queue) would buy nothing. Any other close is queued: one without a newer
# current finding of its subject (a gone listing's, a merged seller's, a hand-made retraction)
# and one that ends (`ended_at`).
SUPERSEDED = (
    "old.subject_kind = 'listing' AND old.is_current = 1 AND new.is_current = 0"
    " AND new.ended_at IS NULL AND EXISTS (SELECT 1 FROM findings s"
    " WHERE s.subject_kind = 'listing' AND s.subject_id = old.subject_id AND s.is_current = 1"
    " AND s.id > old.id)"
)


# The triggers on `findings` (serve's change log, the digest's book queue and flag counts) may
# not abort: the detection's writes of findings (`Findings._record_batch`'s close of a replaced
# finding, `end_findings`), under SQLite's default `ABORT`, then keep no statement journal (a
# copy of each page they write, made before writing it, to undo that one statement alone). So
# they `requeue` with `fail` and call no SQL function (any function may fail:
# `digestbook.FLAG_TRIGGERS`). Issue 19, round 8: 5,000 closes at 100k 54 → 37 ms of CPU.


def _changed(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"old.[{column}] IS NOT new.[{column}]" for column in columns)


def requeue(
    table: str, keys: dict[str, str], source: str = "", match: str = "", *, fail: bool = False
) -> str:
    """Trigger statements that put these keys ({column: SQL value}, selected `source` when it
    is given) last in a queue table (a new sequence number), as `INSERT OR REPLACE` would: a
    DELETE by the queue's unique index (`match`, by default each column equal to its value;
    a `source` that reads a table needs its own), then a plain INSERT. Not `INSERT OR
    REPLACE` itself: SQLite runs a trigger's statements under the conflict policy of the
    statement that fired it when that one has its own (an upsert's, an `OR FAIL`), so a queued
    key made the crawl's upsert of a seller alias fail with "UNIQUE constraint failed".

    With `fail`, the INSERT is `OR FAIL` (it cannot conflict, its key just deleted): under the
    default (`ABORT`) a trigger's INSERT makes the statement that fires it keep a statement
    journal, a third of the cost of closing a replaced finding (the triggers on `findings`)."""
    if not match:
        if "FROM" in source.upper():
            raise ValueError(f"requeue into {table}: a source reading a table needs a match")
        match = " AND ".join(f"{column} = {value}" for column, value in keys.items())
    columns, values = ", ".join(keys), ", ".join(keys.values())
    return (
        f"DELETE FROM {table} WHERE {match};"
        f" INSERT{' OR FAIL' if fail else ''} INTO {table} ({columns}) SELECT {values} {source};"
    )


def replace_triggers(db: sqlite_utils.Database, triggers: dict[str, tuple[str, str]]) -> None:
    """Create these triggers ({name: (event and condition, body)}), replacing any of the name."""
    for name, (when, body) in triggers.items():
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
        db.execute(f"CREATE TRIGGER {name} {when} BEGIN {body} END")


def _queue(table: str, column: str, value: str) -> str:
    return requeue(table, {column: value}, f"WHERE {value} IS NOT NULL")


TRIGGERS = {
    "detect_listing_added": (
        "AFTER INSERT ON listings",
        _queue("pending_listings", "listing_id", "new.id")
        + _queue("pending_sellers", "seller_id", "new.seller_id"),
    ),
    "detect_listing_changed": (
        f"AFTER UPDATE ON listings WHEN {_changed(LISTING_FACTS)}",
        _queue("pending_listings", "listing_id", "new.id"),
    ),
    "detect_listing_seller_changed": (
        f"AFTER UPDATE ON listings WHEN {_changed(LISTING_SELLER_FACTS)}",
        _queue("pending_sellers", "seller_id", "old.seller_id")
        + _queue("pending_sellers", "seller_id", "new.seller_id"),
    ),
    "detect_seller_added": (
        "AFTER INSERT ON sellers",
        _queue("pending_sellers", "seller_id", "new.id"),
    ),
    "detect_seller_changed": (
        f"AFTER UPDATE ON sellers WHEN {_changed(SELLER_FACTS)}",
        _queue("pending_sellers", "seller_id", "new.id"),
    ),
    "detect_alias_added": (
        "AFTER INSERT ON seller_aliases",
        _queue("pending_sellers", "seller_id", "new.seller_id"),
    ),
    "detect_alias_changed": (
        f"AFTER UPDATE ON seller_aliases WHEN {_changed(ALIAS_FACTS)}",
        _queue("pending_sellers", "seller_id", "old.seller_id")
        + _queue("pending_sellers", "seller_id", "new.seller_id"),
    ),
    "detect_alias_removed": (
        "AFTER DELETE ON seller_aliases",
        _queue("pending_sellers", "seller_id", "old.seller_id"),
    ),
}


# A listing seen again after it was gone is judged again (migration 0010 made it in
# `detectstate`; `requeue_triggers` makes it again with `requeue`).
LISTING_BACK = {
    "detect_listing_back": (
        "AFTER UPDATE OF last_run_id ON listings WHEN EXISTS"
        " (SELECT 1 FROM listing_state WHERE listing_id = new.id AND gone = 1)",
        requeue("pending_listings", {"listing_id": "new.id"}),
    )
}


def requeue_triggers(db: sqlite_utils.Database) -> None:
    """Migration 0013_issue19_trigger_conflicts: the detection's queue triggers made again
    with `requeue` (they were `INSERT OR REPLACE`, which an upsert that fires them turns into
    a UNIQUE failure)."""
    replace_triggers(db, {**TRIGGERS, **LISTING_BACK})


# A listing added, or its description or seller changed: the sellers whose description sample
# may move (`pending_texts`, migration 0012), with the listing, so that a seller whose sample
# was filled by earlier listings is not read again for a new one (`Store.samples_moved`).
TEXT_TRIGGERS = {
    "detect_text_added": (
        "AFTER INSERT ON listings",
        "INSERT INTO pending_texts (listing_id, seller_id) SELECT new.id, new.seller_id"
        " WHERE new.seller_id IS NOT NULL;",
    ),
    "detect_text_changed": (
        "AFTER UPDATE ON listings WHEN old.description IS NOT new.description"
        " OR old.seller_id IS NOT new.seller_id",
        "INSERT INTO pending_texts (listing_id, seller_id) SELECT new.id, old.seller_id"
        " WHERE old.seller_id IS NOT NULL;"
        " INSERT INTO pending_texts (listing_id, seller_id) SELECT new.id, new.seller_id"
        " WHERE new.seller_id IS NOT NULL AND new.seller_id IS NOT old.seller_id;",
    ),
}


def create_text_queue(db: sqlite_utils.Database) -> None:
    """Migration 0012: the queue of listings whose text or seller moved, by seller."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS pending_texts (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " listing_id INTEGER NOT NULL, seller_id INTEGER NOT NULL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS pending_texts_sellers ON pending_texts (seller_id, seq)")
    for name, (when, body) in TEXT_TRIGGERS.items():
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
        db.execute(f"CREATE TRIGGER {name} {when} BEGIN {body} END")


def create_schema(db: sqlite_utils.Database) -> None:
    """Migration 0010: the queues, their triggers, the marks of the last detection."""
    for table, column in (("pending_listings", "listing_id"), ("pending_sellers", "seller_id")):
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            f" {column} INTEGER NOT NULL UNIQUE)"
        )
    db.execute(
        "CREATE TABLE IF NOT EXISTS detection_marks (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
    )
    # the detection's own work in progress (see grayhound.detection): listings to judge, peer
    # groups to score, sellers to give a verdict
    db.execute("CREATE TABLE IF NOT EXISTS judge_queue (listing_id INTEGER PRIMARY KEY)")
    db.execute("CREATE TABLE IF NOT EXISTS group_queue (peer_group TEXT PRIMARY KEY)")
    db.execute("CREATE TABLE IF NOT EXISTS verdict_queue (seller_id INTEGER PRIMARY KEY)")
    replace_triggers(db, TRIGGERS)


# the tables a detection works through (`grayhound.detection`): while all are empty and no
# network is dirty, there is nothing to judge. A new queue is named `pending_*` or `*_queue`:
# tests/grayhound/test_incremental.py finds them by name in the store's schema
DETECTION_QUEUES = (
    "pending_listings", "pending_sellers", "pending_texts", "group_queue", "judge_queue",
    "verdict_queue", "pending_sales",
)  # fmt: skip


class Changes:
    """Mixin of Store: the queues of changed subjects and the marks of the last detection."""

    db: sqlite_utils.Database

    def detection_marks(self) -> dict[str, str]:
        """What the last detection began with (set as it starts, in the transaction that queues
        what a change of them asks to judge again): {"fingerprint:brands": fingerprint, …}; empty
        when no detection has run since this store learned to judge only what changed."""
        return dict(self.db.execute("SELECT name, value FROM detection_marks").fetchall())

    def set_detection_marks(self, marks: dict[str, str]) -> None:
        self.db.conn.executemany(
            "INSERT OR REPLACE INTO detection_marks (name, value) VALUES (?, ?)",
            sorted(marks.items()),
        )

    def mark_dirt(self, *, texts: bool = False) -> None:
        """Networks (with `texts`: near-identical descriptions too) must be found again."""
        names = ["dirty:networks", *(["dirty:texts"] if texts else [])]
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO detection_marks (name, value) VALUES (?, '1')",
            [(name,) for name in names],
        )

    def detection_dirt(self) -> set[str]:
        sql = "SELECT name FROM detection_marks WHERE name LIKE 'dirty:%'"
        return {row[0].removeprefix("dirty:") for row in self.db.execute(sql)}

    def clear_detection_dirt(self) -> None:
        self.db.execute("DELETE FROM detection_marks WHERE name LIKE 'dirty:%'")

    def delisted(self, url: str, source: str, after_run: int | None) -> tuple[int, int] | None:
        """(crawl run, HTTP status) of the latest 404 or 410 the listing's URL answered to a
        crawl of its source after `after_run` (the run that last saw it), or None."""
        return self.db.execute(DELISTED_SQL, [url, source, after_run or 0]).fetchone()

    def queue_gone(self) -> int:
        """Queue the listings whose URL answered 404 or 410 since the last detection looked
        (crawl failures by id, through an index); return how many were queued."""
        mark = self.db.execute(
            "SELECT value FROM detection_marks WHERE name = 'gone:failures'"
        ).fetchone()
        last = int(mark[0]) if mark else 0
        queued = self.db.execute(
            "INSERT OR REPLACE INTO pending_listings (listing_id) SELECT l.id"
            " FROM crawl_failures f JOIN listings l"
            " ON l.source = f.source AND l.canonical_url = f.url"
            " WHERE f.id > ? AND f.status IN (404, 410)",
            [last],
        ).rowcount
        newest = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM crawl_failures").fetchone()[0]
        self.db.execute(
            "INSERT OR REPLACE INTO detection_marks (name, value) VALUES ('gone:failures', ?)",
            [str(newest)],
        )
        return queued

    def detection_queued(self) -> bool:
        """Whether a detection has anything to do: a listing, seller, description, peer
        group, judgement or verdict queued, sales a judge pass staged and did not set (it
        stopped), or networks to find again. Each of
        `DETECTION_QUEUES` is one table; tests/grayhound/test_incremental.py checks that
        every queue table of the store is among them."""
        some = " OR ".join(f"EXISTS (SELECT 1 FROM {table})" for table in DETECTION_QUEUES)
        dirt = "EXISTS (SELECT 1 FROM detection_marks WHERE name LIKE 'dirty:%')"
        return bool(self.db.execute(f"SELECT {some} OR {dirt}").fetchone()[0])

    def queue_high_water(self) -> tuple[int, int]:
        """The highest sequence number of each queue (listings, sellers): what a detection
        that begins now claims."""
        return (
            self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM pending_listings").fetchone()[0],
            self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM pending_sellers").fetchone()[0],
        )

    def claimed_listings(self, upto: int, limit: int = -1) -> list[int]:
        """The first `limit` (every one by default) ids, in id order, of the listings queued
        up to `upto`."""
        sql = "SELECT listing_id FROM pending_listings WHERE seq <= ? ORDER BY listing_id LIMIT ?"
        return [row[0] for row in self.db.execute(sql, [upto, limit])]

    def release_listings(self, ids: list[int], upto: int) -> None:
        """These listings are read: their queue rows up to `upto` go (a later change stays)."""
        self.db.conn.executemany(
            "DELETE FROM pending_listings WHERE listing_id = ? AND seq <= ?",
            [(listing_id, upto) for listing_id in ids],
        )

    def claimed_sellers(self, upto: int, limit: int) -> list[int]:
        sql = "SELECT seller_id FROM pending_sellers WHERE seq <= ? ORDER BY seller_id LIMIT ?"
        return [row[0] for row in self.db.execute(sql, [upto, limit])]

    def release_sellers(self, ids: list[int], upto: int) -> None:
        self.db.conn.executemany(
            "DELETE FROM pending_sellers WHERE seller_id = ? AND seq <= ?",
            [(seller_id, upto) for seller_id in ids],
        )

    def queue_everything(self, *, sellers: bool) -> None:
        """Every listing (and with `sellers` every seller) queued as changed, every peer
        group queued: a detection that judges everything again."""
        self.db.execute(
            "INSERT OR REPLACE INTO pending_listings (listing_id) SELECT id FROM listings"
        )
        # a peer row its listing's state does not name (none is written so; a store mended by
        # hand) would count among its group's peers: gone, as everything is judged again
        self.db.execute(
            "DELETE FROM listing_peers WHERE NOT EXISTS (SELECT 1 FROM listing_state s"
            " WHERE s.listing_id = listing_peers.listing_id"
            " AND s.peer_group = listing_peers.peer_group)"
        )
        self.db.execute(
            "INSERT OR IGNORE INTO group_queue (peer_group) SELECT DISTINCT peer_group"
            " FROM listing_peers"
        )
        if sellers:
            self.db.execute(
                "INSERT OR REPLACE INTO pending_sellers (seller_id) SELECT id FROM sellers"
            )
        # ... and the next digest looks at every flagged subject for one without a case, not
        # only at those its queue names: a detection that judges everything (`--full`, an
        # upgrade) also repairs a queue an older grayhound beside this one claimed whole.
        from grayhound.store.digestrows import OPEN_EVERY

        # the listing counts kept for the command's totals are counted anew, in case an older
        # grayhound wrote `listing_sales` without moving them (`Findings.judged_totals`)
        self.db.execute("DELETE FROM detection_marks WHERE name LIKE 'total:%'")

        self.db.execute(
            "INSERT OR IGNORE INTO digest_pending (subject_kind, subject_id) VALUES (?, ?)",
            OPEN_EVERY,
        )

    # -- the detection's own queues -------------------------------------------------------------
    def queue_groups(self, groups) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO group_queue (peer_group) VALUES (?)", [(g,) for g in groups]
        )

    def queued_groups(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT peer_group FROM group_queue ORDER BY 1")]

    def release_group(self, group: str) -> None:
        self.db.execute("DELETE FROM group_queue WHERE peer_group = ?", [group])

    def queue_judgements(self, ids) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO judge_queue (listing_id) VALUES (?)", [(i,) for i in ids]
        )

    def queued_judgements(self, limit: int = -1) -> list[int]:
        """The first `limit` (every one by default) listings queued to be judged, in id order."""
        sql = "SELECT listing_id FROM judge_queue ORDER BY listing_id LIMIT ?"
        return [row[0] for row in self.db.execute(sql, [limit])]

    def release_judgements(self, ids: list[int]) -> None:
        self.db.conn.executemany(
            "DELETE FROM judge_queue WHERE listing_id = ?", [(i,) for i in ids]
        )

    def queue_listings_of(self, seller_id: int) -> int:
        """Every listing of a seller queued to be judged again; how many."""
        return self.db.execute(
            "INSERT OR IGNORE INTO judge_queue (listing_id) SELECT id FROM listings"
            " WHERE seller_id = ?",
            [seller_id],
        ).rowcount

    def queue_verdicts(self, ids) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO verdict_queue (seller_id) VALUES (?)", [(i,) for i in ids]
        )

    def queued_verdicts(self, limit: int) -> list[int]:
        sql = "SELECT seller_id FROM verdict_queue ORDER BY seller_id LIMIT ?"
        return [row[0] for row in self.db.execute(sql, [limit])]

    def release_verdicts(self, ids: list[int]) -> None:
        self.db.conn.executemany(
            "DELETE FROM verdict_queue WHERE seller_id = ?", [(i,) for i in ids]
        )
