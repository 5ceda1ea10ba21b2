"""What `grayhound detect` keeps between runs so that the next one judges only what changed:
per listing, its title's reading, its peer group, price ratio and peer signal (these two apart,
in `listing_peers`, by group), its image as it ties sellers, and what its current finding adds
to its seller's verdict (`listing_sales`); per seller, the fingerprint of its facts, its
identity finding, its network keys and description sample (with the shingles that tie
near-identical texts, and the listing that filled it). Migrations 0010, 0012, 0022 and 0023
(the judge pass's sales, staged with its chunks).

Everything here is derived from the crawl data and the config, and `grayhound detect --full`
rebuilds it all; the reads are by primary key or by index, a group or a seller at a time."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

import sqlite_utils

from grayhound.models import FLAGS
from grayhound.store.changes import create_text_queue

CHUNK = 500  # ids per `IN (…)` read


def create_schema(db: sqlite_utils.Database) -> None:
    """Migration 0010: the per-listing and per-seller state of the last detection."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS listing_state (
            listing_id INTEGER PRIMARY KEY, reading_key TEXT, reading TEXT,
            peer_group TEXT, peer_ratio REAL, peer_signal TEXT,
            image_key TEXT, seller_id INTEGER, gone INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS listing_state_peers
            ON listing_state (peer_group, listing_id, peer_ratio) WHERE peer_group IS NOT NULL;
        CREATE INDEX IF NOT EXISTS listing_state_images
            ON listing_state (image_key, seller_id) WHERE image_key IS NOT NULL;
        CREATE TABLE IF NOT EXISTS seller_state (
            seller_id INTEGER PRIMARY KEY, facts_key TEXT, identity TEXT, entitled INTEGER,
            label TEXT, subject TEXT, source TEXT, sample_key TEXT, shown_key TEXT);
        CREATE TABLE IF NOT EXISTS seller_signals (
            seller_id INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, shown TEXT,
            PRIMARY KEY (seller_id, kind, value)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS seller_signals_values
            ON seller_signals (kind, value, seller_id);
        CREATE TABLE IF NOT EXISTS seller_texts (
            seller_id INTEGER NOT NULL, position INTEGER NOT NULL, text TEXT NOT NULL,
            grams INTEGER NOT NULL, PRIMARY KEY (seller_id, position)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS text_grams (
            gram INTEGER NOT NULL, seller_id INTEGER NOT NULL, position INTEGER NOT NULL,
            PRIMARY KEY (gram, seller_id, position)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS text_grams_sellers ON text_grams (seller_id, position);
        CREATE TABLE IF NOT EXISTS description_ties (
            first INTEGER NOT NULL, second INTEGER NOT NULL, value TEXT, why TEXT,
            PRIMARY KEY (first, second));
        CREATE INDEX IF NOT EXISTS crawl_failures_url ON crawl_failures (url, crawl_run_id);
        DROP TRIGGER IF EXISTS detect_listing_back;
        CREATE TRIGGER detect_listing_back AFTER UPDATE OF last_run_id ON listings
        WHEN EXISTS (SELECT 1 FROM listing_state WHERE listing_id = new.id AND gone = 1)
        BEGIN INSERT OR REPLACE INTO pending_listings (listing_id) VALUES (new.id); END;
        CREATE INDEX IF NOT EXISTS findings_current_model
            ON findings (model, subject_id) WHERE is_current = 1 AND subject_kind = 'listing';
        """
    )


def add_kept_sums(db: sqlite_utils.Database) -> None:
    """Migration 0012_issue19_detect: what each listing adds to its seller's verdict
    (`listing_sales`, filled from the current findings), the peer outliers of a group by a
    partial index, how far into a seller's listings its description sample reads
    (`seller_state.sample_upto`) and the listings whose text or seller moved since
    (`pending_texts`); and one of two identical indexes on the current listing
    findings by model (0010's, made again by 0011 under another name) dropped."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS listing_sales (
            listing_id INTEGER PRIMARY KEY, seller_id INTEGER, brand TEXT, flags INTEGER,
            counterfeit INTEGER, new_goods INTEGER, priced_new INTEGER, new_ratio REAL,
            gray_model TEXT);
        CREATE INDEX IF NOT EXISTS listing_sales_sellers ON listing_sales
            (seller_id, brand, flags, counterfeit, new_goods, priced_new, new_ratio);
        CREATE INDEX IF NOT EXISTS listing_sales_gray ON listing_sales
            (seller_id, listing_id, gray_model) WHERE gray_model IS NOT NULL;
        CREATE INDEX IF NOT EXISTS listing_state_outliers ON listing_state
            (peer_group, listing_id) WHERE peer_signal IS NOT NULL;
        """
    )
    if "sample_upto" not in db["seller_state"].columns_dict:
        db.execute("ALTER TABLE seller_state ADD COLUMN sample_upto INTEGER")
    if db.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'idx_findings_current_listing_model'"
    ).fetchone():
        db.execute("DROP INDEX IF EXISTS findings_current_model")
    if not db.execute("SELECT 1 FROM listing_sales LIMIT 1").fetchone():
        db.execute(_listing_sales_sql(FLAGS, ""))
    create_text_queue(db)


def add_title_words(db: sqlite_utils.Database) -> None:
    """Migration 0013_issue19_detect: what each distinct title says by itself (model, kind of
    goods, attributes, the condition it names), by a key of the title, the listing's brand and
    category and the fingerprints it was read with, so that a title is read once whatever
    number of listings carry it. Filled as titles are read (empty until then)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS title_words (key TEXT PRIMARY KEY, words TEXT NOT NULL)"
        " WITHOUT ROWID"
    )


PEERS_NOTICE_AT = 200_000  # listings kept: from here on, the upgrade says what it does


def keep_peers_apart(db: sqlite_utils.Database) -> None:
    """Migration 0022_issue19_peer_table: each listing's price ratio and peer signal kept in a
    narrow table of their own, `listing_peers`, its rows ordered by peer group and listing.

    A day's moved prices rewrote each listing's whole `listing_state` row (with its title's
    reading: a few rows a page, ~45,000 pages written at random a day at 1M listings) and its
    entry in the peer index; they now rewrite a row of ~40 bytes in the pages of its group.
    The peer pass reads a group's ratios and signals there, in one pass. The values are
    carried over as they are; the two columns and their indexes leave `listing_state`."""
    db.execute(  # not `executescript`, which would commit the step's transaction here
        "CREATE TABLE IF NOT EXISTS listing_peers (peer_group TEXT NOT NULL,"
        " listing_id INTEGER NOT NULL, peer_ratio REAL, peer_signal TEXT,"
        " PRIMARY KEY (peer_group, listing_id)) WITHOUT ROWID"
    )
    if "peer_ratio" not in db["listing_state"].columns_dict:
        return
    kept = db.execute("SELECT MAX(listing_id) FROM listing_state").fetchone()[0] or 0
    if kept >= PEERS_NOTICE_AT:
        from grayhound.store.migrations import say_upgrading

        say_upgrading(f"the peer prices of up to {kept:,} listings moved to a table of their own")
    db.execute(
        "INSERT OR REPLACE INTO listing_peers (peer_group, listing_id, peer_ratio, peer_signal)"
        " SELECT peer_group, listing_id, peer_ratio, peer_signal FROM listing_state"
        " WHERE peer_group IS NOT NULL ORDER BY peer_group, listing_id"
    )
    db.execute("DROP INDEX IF EXISTS listing_state_peers")
    db.execute("DROP INDEX IF EXISTS listing_state_outliers")
    db.execute("ALTER TABLE listing_state DROP COLUMN peer_ratio")
    db.execute("ALTER TABLE listing_state DROP COLUMN peer_signal")


def stage_sales(db: sqlite_utils.Database) -> None:
    """Migration 0023_issue19_staged_sales: the judge pass's sales rows staged with its
    chunks, set in `listing_sales` once at its end (`PENDING_SALES`)."""
    db.execute(PENDING_SALES)


def gram_hash(gram: str) -> int:
    """A shingle as a signed 64-bit integer: the same on every machine and in every process."""
    digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _marks(ids: list[int]) -> str:
    return ", ".join("?" for _ in ids)


# The facts of a listing as detection reads them: the listing's latest state, its seller's
# name and domain where the listing gives none, and whether it is gone (`gone`: "run status"
# of the latest 404 or 410 its page answered after the crawl that last saw it, as
# `Changes.delisted` finds it, read here for a whole chunk instead of one query a listing).
LISTING_FACTS_SQL = """
    SELECT l.id, l.title, l.price, l.currency, l.condition, l.description, l.summary, l.brand,
           l.seller_id, l.source, l.category, l.image, l.last_run_id, l.canonical_url,
           COALESCE(l.seller_domain, s.domain, s.claimed_domain) AS seller_domain,
           COALESCE(l.seller_name, s.name) AS seller_name,
           (SELECT f.crawl_run_id || ' ' || f.status FROM crawl_failures f
            WHERE f.url = l.canonical_url AND f.source = l.source AND f.status IN (404, 410)
              AND f.crawl_run_id > COALESCE(l.last_run_id, 0)
            ORDER BY f.crawl_run_id DESC LIMIT 1) AS gone
    FROM listings l LEFT JOIN sellers s ON s.id = l.seller_id
    WHERE l.id IN ({marks}) ORDER BY l.id
"""
# A listing's kept state, with its peer ratio and signal from its group's row (migration
# 0022 keeps them apart).
LISTING_STATES_SQL = """
    SELECT s.*, p.peer_ratio, p.peer_signal FROM listing_state s
    LEFT JOIN listing_peers p ON p.peer_group = s.peer_group AND p.listing_id = s.listing_id
    WHERE s.listing_id IN ({marks})
"""
# What a listing's current finding adds to its seller's verdict (`detectors.seller_sales`
# counts it so), kept per listing in `listing_sales` when the listing is judged: its seller,
# brand, flags (a bit per `grayhound.models.FLAGS`), whether it is a suspected counterfeit,
# new goods of a catalog brand, priced new goods (with the ratio), a gray import (its model).
# A seller's verdict then sums a few integers per listing through one covering index instead
# of reading each finding's JSON again.
LISTING_SALES_SQL = """
    INSERT OR REPLACE INTO listing_sales (listing_id, seller_id, brand, flags, counterfeit,
                                          new_goods, priced_new, new_ratio, gray_model)
    SELECT listing_id, seller_id, brand, {flag_bits}, counterfeit, new_goods,
           new_goods AND condition = 'new' AND price_ratio IS NOT NULL,
           CASE WHEN new_goods AND condition = 'new' THEN price_ratio END,
           CASE WHEN instr(flags, '"gray_import"') > 0 AND COALESCE(model, '') != ''
                THEN model END
    FROM (SELECT l.id AS listing_id, l.seller_id, f.brand, f.flags, f.condition,
                 f.price_ratio, f.model, instr(f.reasons, 'counterfeit') > 0 AS counterfeit,
                 (COALESCE(f.brand, '') != '' AND NOT COALESCE(f.is_accessory, 0)
                  AND f.condition IN ('new', 'unknown')) AS new_goods
          FROM listings l JOIN findings f
            ON f.subject_kind = 'listing' AND f.subject_id = l.id AND f.is_current = 1
          {where})
"""
# Per seller and brand, its listings' sales summed (`Store.seller_sales_rows` adds the brands
# up); its first two gray imports' models, in listing order.
SELLER_SALES_SQL = """
    SELECT seller_id, brand, COUNT(*) AS listings, SUM(counterfeit) AS counterfeits,
           SUM(priced_new) AS priced_new, MIN(new_ratio) AS lowest_ratio,
           SUM(new_goods) AS new_goods, {flag_sums}
    FROM listing_sales WHERE seller_id IN ({marks})
    GROUP BY seller_id, brand
"""
GRAY_EXAMPLES_SQL = """
    SELECT seller_id, gray_model FROM listing_sales INDEXED BY listing_sales_gray
    WHERE seller_id IN ({marks}) AND gray_model IS NOT NULL
    ORDER BY seller_id, listing_id
"""
# Shingles few sellers share (between 2 and :most of them, and not more than half of them
# once there are 6), and the pairs of texts of different sellers that share them.
TEXT_PAIRS_SQL = """
    WITH specific AS (
        SELECT gram FROM text_grams GROUP BY gram
        HAVING COUNT(DISTINCT seller_id) BETWEEN 2 AND :most
           AND NOT (:total >= 6 AND COUNT(DISTINCT seller_id) > :total / 2.0))
    SELECT a.seller_id, a.position, b.seller_id, b.position, COUNT(*)
    FROM specific s
    JOIN text_grams a ON a.gram = s.gram
    JOIN text_grams b ON b.gram = s.gram AND b.seller_id > a.seller_id
    GROUP BY a.seller_id, a.position, b.seller_id, b.position
"""
# Nearly every image key is one seller's: its keys are first narrowed to those held by more
# than one seller by MIN and MAX (a DISTINCT aggregate fills and clears a temporary B-tree
# per key, ~2 million of them a day at 1M listings), then those few keys' sellers counted.
IMAGE_HOLDERS_SQL = """
    SELECT image_key, group_concat(DISTINCT seller_id) FROM listing_state
    WHERE image_key IN (SELECT image_key FROM listing_state
                        WHERE image_key IS NOT NULL AND seller_id IS NOT NULL
                        GROUP BY image_key HAVING MIN(seller_id) < MAX(seller_id))
      AND seller_id IS NOT NULL
    GROUP BY image_key HAVING COUNT(DISTINCT seller_id) BETWEEN 2 AND ?
"""
SIGNAL_HOLDERS_SQL = """
    SELECT kind, value, seller_id, shown FROM seller_signals
    WHERE (kind, value) IN (SELECT kind, value FROM seller_signals GROUP BY kind, value
                            HAVING COUNT(*) BETWEEN 2 AND ?)
    ORDER BY kind, value, seller_id
"""


class DetectState:
    """Mixin of Store: what detection remembers of each listing and seller."""

    db: sqlite_utils.Database

    # -- listings ---------------------------------------------------------------------------
    def listing_fact_rows(self, ids: list[int]) -> list[dict]:
        """The facts of these listings, in id order."""
        rows: list[dict] = []
        for part in _chunks(ids):
            rows += self.db.query(LISTING_FACTS_SQL.format(marks=_marks(part)), part)
        return rows

    def listing_states(self, ids: list[int]) -> dict[int, dict]:
        """{listing id: its kept state} (`listing_state`'s columns, with its peer ratio and
        signal from `listing_peers`, None outside a peer group)."""
        out = {}
        for part in _chunks(ids):
            sql = LISTING_STATES_SQL.format(marks=_marks(part))
            for row in self.db.query(sql, part):
                out[row["listing_id"]] = row
        return out

    def save_listing_states(self, rows: list[dict]) -> None:
        """These listings' whole states (dicts of `listing_states`' keys): each one's entry
        in its former peer group is taken out, and put in its group now, if it has one."""
        conn = self.db.conn
        conn.executemany(
            "DELETE FROM listing_peers WHERE listing_id = :listing_id AND peer_group ="
            " (SELECT peer_group FROM listing_state WHERE listing_id = :listing_id)",
            rows,
        )
        conn.executemany(
            "INSERT OR REPLACE INTO listing_state (listing_id, reading_key, reading, peer_group,"
            " image_key, seller_id, gone) VALUES (:listing_id, :reading_key, :reading,"
            " :peer_group, :image_key, :seller_id, :gone)",
            rows,
        )
        conn.executemany(
            "INSERT OR REPLACE INTO listing_peers (peer_group, listing_id, peer_ratio,"
            " peer_signal) VALUES (:peer_group, :listing_id, :peer_ratio, :peer_signal)",
            [row for row in rows if row["peer_group"] is not None],
        )

    def update_peer_ratios(self, rows: Iterable[tuple[float | None, str, int]]) -> None:
        """(peer ratio, peer group, listing id): listings whose kept state moved by their
        ratio alone (a price change), rewritten in their group's narrow rows alone."""
        self.db.conn.executemany(
            "INSERT INTO listing_peers (peer_ratio, peer_group, listing_id) VALUES (?, ?, ?)"
            " ON CONFLICT DO UPDATE SET peer_ratio = excluded.peer_ratio",
            rows,
        )

    def kept_title_words(self, keys: list[str]) -> dict[str, str]:
        """{key: the title words kept under it} of these keys (`title_words`)."""
        out = {}
        for part in _chunks(keys):
            sql = f"SELECT key, words FROM title_words WHERE key IN ({_marks(part)})"
            out.update(self.db.execute(sql, part).fetchall())
        return out

    def keep_title_words(self, rows: Iterable[tuple[str, str]]) -> int:
        """Keep these (key, words) of titles read; how many were new or replaced words kept
        before (read again: their model left the catalog). The same words kept twice (a
        title read by both processes of a pass) are kept, and counted, once."""
        return self.db.conn.executemany(
            "INSERT INTO title_words (key, words) VALUES (?, ?) ON CONFLICT (key)"
            " DO UPDATE SET words = excluded.words WHERE words IS NOT excluded.words",
            rows,
        ).rowcount

    def forget_title_words(self) -> None:
        """Every title is read again (the config or the detectors changed, or `--full`)."""
        self.db.execute("DELETE FROM title_words")

    def peer_members(self, group: str) -> Iterator[tuple[int, float | None, str | None]]:
        """(listing id, price ratio, peer signal) of every listing of a peer group, by id:
        the group's own rows of `listing_peers`, side by side."""
        sql = (
            "SELECT listing_id, peer_ratio, peer_signal FROM listing_peers WHERE peer_group = ?"
            " ORDER BY listing_id"
        )
        yield from self.db.execute(sql, [group])

    def set_peer_signals(self, group: str, changes: Iterable[tuple[str | None, int]]) -> None:
        """(peer signal, listing id) of members of this group whose signal changed."""
        self.db.conn.executemany(
            "UPDATE listing_peers SET peer_signal = ? WHERE peer_group = ? AND listing_id = ?",
            [(signal, group, listing_id) for signal, listing_id in changes],
        )

    def image_holders(self, most: int) -> Iterator[tuple[str, list[int]]]:
        """Image keys held by between 2 and `most` sellers, with the sellers' ids."""
        for key, sellers in self.db.execute(IMAGE_HOLDERS_SQL, [most]):
            yield key, sorted(int(s) for s in sellers.split(","))

    # -- sellers ----------------------------------------------------------------------------
    def seller_fact_rows(self, ids: list[int]) -> list[dict]:
        """These sellers' rows (merged ones too: the caller tells them apart), by id."""
        rows: list[dict] = []
        for part in _chunks(ids):
            sql = f"SELECT * FROM sellers WHERE id IN ({_marks(part)}) ORDER BY id"
            rows += self.db.query(sql, part)
        return rows

    def aliases_of(self, ids: list[int]) -> dict[int, list[dict]]:
        """These sellers' aliases, each seller's in the order they were first seen."""
        out: dict[int, list[dict]] = {}
        for part in _chunks(ids):
            sql = f"SELECT * FROM seller_aliases WHERE seller_id IN ({_marks(part)}) ORDER BY id"
            for row in self.db.query(sql, part):
                out.setdefault(row["seller_id"], []).append(row)
        return out

    def seller_states(self, ids: Iterable[int]) -> dict[int, dict]:
        ids = list(ids)
        out = {}
        for part in _chunks(ids):
            sql = f"SELECT * FROM seller_state WHERE seller_id IN ({_marks(part)})"
            for row in self.db.query(sql, part):
                out[row["seller_id"]] = row
        return out

    def save_seller_state(self, row: dict) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO seller_state (seller_id, facts_key, identity, entitled,"
            " label, subject, source, sample_key, shown_key, sample_upto) VALUES (:seller_id,"
            " :facts_key, :identity, :entitled, :label, :subject, :source, :sample_key,"
            " :shown_key, :sample_upto)",
            row,
        )

    def forget_sellers(self, ids: Iterable[int]) -> None:
        """A merged seller judges nothing and ties nobody any more."""
        for seller_id in ids:
            for table in ("seller_state", "seller_signals", "seller_texts", "text_grams"):
                self.db.execute(f"DELETE FROM {table} WHERE seller_id = ?", [seller_id])

    def seller_descriptions(self, seller_id: int) -> Iterator[tuple[int, str | None]]:
        """(listing id, description) of the seller's listings in listing order (read as far
        as asked)."""
        sql = "SELECT id, description FROM listings WHERE seller_id = ? ORDER BY id"
        yield from self.db.execute(sql, [seller_id])

    def samples_moved(self, ids: list[int]) -> tuple[set[int], int]:
        """Of these sellers, those whose description sample may have changed, and the queue
        position read up to: a listing of theirs (now or before) was added, or its
        description or seller changed, among the listings their sample was read from (up to
        the one that filled it, `sample_upto`; every listing when it is not full); or the
        sample was kept before 0012 (`sample_upto` NULL)."""
        upto = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM pending_texts").fetchone()[0]
        moved: set[int] = set()
        for part in _chunks(ids):
            marks = _marks(part)
            sql = f"""
                SELECT seller_id FROM seller_state WHERE seller_id IN ({marks})
                  AND sample_upto IS NULL
                UNION
                SELECT t.seller_id FROM pending_texts t
                JOIN seller_state ss ON ss.seller_id = t.seller_id
                WHERE t.seller_id IN ({marks}) AND t.seq <= ? AND t.listing_id <= ss.sample_upto
            """
            moved |= {row[0] for row in self.db.execute(sql, [*part, *part, upto])}
        return moved, upto

    def release_texts(self, ids: list[int], upto: int) -> None:
        """These sellers' samples are judged: their queued texts up to `upto` go."""
        for part in _chunks(ids):
            self.db.execute(
                f"DELETE FROM pending_texts WHERE seller_id IN ({_marks(part)}) AND seq <= ?",
                [*part, upto],
            )

    def seller_keys_kept(self, seller_id: int) -> list[tuple[str, str, str]]:
        sql = "SELECT kind, value, shown FROM seller_signals WHERE seller_id = ? ORDER BY 1, 2"
        return [tuple(row) for row in self.db.execute(sql, [seller_id])]

    def network_peers(self, seller_id: int) -> list[int]:
        """The other sellers of the seller's current network."""
        sql = """SELECT o.seller_id FROM network_members m
                 JOIN network_members o ON o.network_id = m.network_id AND o.is_current = 1
                 WHERE m.seller_id = ? AND m.is_current = 1 AND o.seller_id != m.seller_id
                 ORDER BY o.seller_id"""
        return [row[0] for row in self.db.execute(sql, [seller_id])]

    def network_peer_identities(self, seller_id: int) -> list[tuple[str, str]]:
        """(label, identity finding JSON) of the other sellers of the seller's network."""
        sql = """SELECT st.label, st.identity FROM network_members m
                 JOIN network_members o ON o.network_id = m.network_id AND o.is_current = 1
                 JOIN seller_state st ON st.seller_id = o.seller_id
                 WHERE m.seller_id = ? AND m.is_current = 1 AND o.seller_id != m.seller_id
                 ORDER BY o.seller_id"""
        return [tuple(row) for row in self.db.execute(sql, [seller_id])]

    def replace_seller_signals(self, seller_id: int, keys: list[tuple[str, str, str]]) -> None:
        self.db.execute("DELETE FROM seller_signals WHERE seller_id = ?", [seller_id])
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO seller_signals (seller_id, kind, value, shown)"
            " VALUES (?, ?, ?, ?)",
            [(seller_id, kind, value, shown) for kind, value, shown in keys],
        )

    def signal_holders(self, most: int) -> Iterator[tuple[str, str, dict[int, str]]]:
        """(kind, value, {seller id: value as shown}) held by between 2 and `most` sellers."""
        current, holders = None, {}
        for kind, value, seller_id, shown in self.db.execute(SIGNAL_HOLDERS_SQL, [most]):
            if (kind, value) != current:
                if current:
                    yield (*current, holders)
                current, holders = (kind, value), {}
            holders[seller_id] = shown
        if current:
            yield (*current, holders)

    def replace_seller_texts(self, seller_id: int, sample: list[tuple[str, frozenset]]) -> None:
        self.db.execute("DELETE FROM seller_texts WHERE seller_id = ?", [seller_id])
        self.db.execute("DELETE FROM text_grams WHERE seller_id = ?", [seller_id])
        self.db.conn.executemany(
            "INSERT INTO seller_texts (seller_id, position, text, grams) VALUES (?, ?, ?, ?)",
            [(seller_id, i, text, len(grams)) for i, (text, grams) in enumerate(sample)],
        )
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO text_grams (gram, seller_id, position) VALUES (?, ?, ?)",
            [(gram_hash(g), seller_id, i) for i, (_, grams) in enumerate(sample) for g in grams],
        )

    def text_pairs(self, most: int, total: int) -> Iterator[tuple[int, str, int, int, int, int]]:
        """Pairs of texts of two sellers that share specific shingles: (first seller, its
        text, its shingle count, second seller, its shingle count, shingles shared)."""
        texts: dict[tuple[int, int], tuple[str, int]] = {}
        for a, a_at, b, b_at, shared in self.db.execute(
            TEXT_PAIRS_SQL, {"most": most, "total": total}
        ):
            for key in ((a, a_at), (b, b_at)):
                if key not in texts:
                    texts[key] = self.db.execute(
                        "SELECT text, grams FROM seller_texts WHERE seller_id = ? AND position = ?",
                        list(key),
                    ).fetchone()
            yield a, texts[a, a_at][0], texts[a, a_at][1], b, texts[b, b_at][1], shared

    def replace_description_ties(self, ties: list[dict]) -> None:
        self.db.execute("DELETE FROM description_ties")
        self.db.conn.executemany(
            "INSERT INTO description_ties (first, second, value, why) VALUES (?, ?, ?, ?)",
            [(*tie["sellers"], tie["value"], tie["why"]) for tie in ties],
        )

    def description_ties(self) -> list[dict]:
        sql = "SELECT first, second, value, why FROM description_ties ORDER BY first, second"
        return [
            {"kind": "description", "value": value, "sellers": [first, second], "why": why}
            for first, second, value, why in self.db.execute(sql)
        ]

    def seller_sources(self, ids: list[int]) -> dict[int, str]:
        out = {}
        for part in _chunks(ids):
            sql = f"SELECT id, source FROM sellers WHERE id IN ({_marks(part)})"
            out.update(self.db.execute(sql, part).fetchall())
        return out

    def seller_count(self) -> int:
        """Sellers that are not merged into another: the `total` network ties count against."""
        return self.db.execute("SELECT COUNT(*) FROM sellers WHERE merged_into IS NULL").fetchone()[
            0
        ]

    def networks_held(self, now: str) -> int:
        """The current networks hold, found again as they were: seen now; how many there are."""
        self.db.execute("UPDATE networks SET last_seen = ? WHERE is_current = 1", [now])
        self.db.execute("UPDATE network_members SET last_seen = ? WHERE is_current = 1", [now])
        return self.current_network_count()

    def current_network_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM networks WHERE is_current = 1").fetchone()[0]

    def seller_sales_rows(self, ids: list[int], flags: tuple[str, ...]) -> dict[int, dict]:
        """Per seller, its listings' current judgements summed: listings, counterfeits,
        priced_new, lowest_ratio, brands (of its new goods), {flag: count}, unauthorized
        ({brand: listings flagged unauthorized_seller}) and gray (its first two gray imports'
        models); from `listing_sales`, a seller's rows read through one covering index."""
        flag_sums = ", ".join(
            f"SUM(flags & {1 << bit} != 0) AS [flag:{flag}]" for bit, flag in enumerate(flags)
        )
        out: dict[int, dict] = {}
        for part in _chunks(ids):
            marks = _marks(part)
            sql = SELLER_SALES_SQL.format(marks=marks, flag_sums=flag_sums)
            for row in self.db.query(sql, part):
                _add_sales(out.setdefault(row["seller_id"], _no_sales(flags)), row, flags)
            for seller_id, model in self.db.execute(GRAY_EXAMPLES_SQL.format(marks=marks), part):
                if len(out[seller_id]["gray"]) < 2:
                    out[seller_id]["gray"].append(model)
        return out

    def stage_listing_sales(self, rows: Iterable[tuple], dropped: list[int]) -> None:
        """What these listings' current findings add to their sellers' verdicts, given as
        `LISTING_SALES_COLUMNS` tuples (`listing_sales_row`), and no sales for the listings
        in `dropped` (gone: no current finding): staged in the caller's transaction (a judge
        pass's chunk, with its findings), set in `listing_sales` by `apply_staged_sales`."""
        staged = [(*row, 0) for row in rows] + [(i, *_NO_SALES_ROW, 1) for i in dropped]
        self.db.conn.executemany(STAGE_SALES_SQL, staged)

    def apply_staged_sales(self) -> None:
        """The staged sales set in `listing_sales` (in the caller's transaction), the rows
        that moved only, and the count of flagged listings kept for `judged_totals` moved
        with them. A judge pass applies its chunks' sales once, at its end, before the
        sellers' verdicts read them. What a detection that stopped left staged (its chunks'
        verdicts queued with them) is applied by the next one's judge pass, whatever that
        judges (a listing staged again replaces its row)."""
        if not self.db.execute("SELECT 1 FROM pending_sales LIMIT 1").fetchone():
            return
        kept = self.db.execute(  # none while a detection judges everything: counted at its end
            "SELECT 1 FROM detection_marks WHERE name = 'total:flagged_listings'"
        ).fetchone()
        before = self.db.execute(FLAGGED_STAGED_SQL).fetchone()[0] if kept else 0
        for sql in APPLY_STAGED_SQL:
            self.db.execute(sql)
        if kept and (delta := self.db.execute(FLAGGED_STAGED_SQL).fetchone()[0] - before):
            self.db.execute(
                "UPDATE detection_marks SET value = CAST(value AS INTEGER) + ?"
                " WHERE name = 'total:flagged_listings'",
                [delta],
            )
        self.db.execute("DELETE FROM pending_sales")


LISTING_SALES_COLUMNS = (
    "listing_id", "seller_id", "brand", "flags", "counterfeit", "new_goods", "priced_new",
    "new_ratio", "gray_model",
)  # fmt: skip
_FLAG_BITS = {flag: 1 << bit for bit, flag in enumerate(FLAGS)}
# A judge pass's sales rows, staged in `pending_sales` with each chunk's findings
# (`stage_listing_sales`) and set in `listing_sales` once, at the pass's end
# (`apply_staged_sales`; issue 19, round 47). Set chunk by chunk, every chunk of 2,000
# listings touched most sellers' part of the seller index, and each chunk's commit wrote those
# pages to the WAL again: a daily detection at 1M wrote 675-688 MB of WAL, 414 MB with the
# sales staged. Staged rows are appended in listing order (the queue's), a few pages a chunk.
# `dropped`: the listing has no current finding (gone), so no sales row.
PENDING_SALES = (
    "CREATE TABLE IF NOT EXISTS pending_sales (listing_id INTEGER PRIMARY KEY,"
    " seller_id INTEGER, brand TEXT, flags INTEGER, counterfeit INTEGER, new_goods INTEGER,"
    " priced_new INTEGER, new_ratio REAL, gray_model TEXT, dropped INTEGER NOT NULL)"
)
STAGE_SALES_SQL = (
    f"INSERT OR REPLACE INTO pending_sales ({', '.join(LISTING_SALES_COLUMNS)}, dropped)"
    f" VALUES ({', '.join('?' for _ in LISTING_SALES_COLUMNS)}, ?)"
)
_NO_SALES_ROW = (None,) * (len(LISTING_SALES_COLUMNS) - 1)  # a dropped listing's staged row
# A listing's sales row written only where it moved: ~40 % of a day's judged listings add the
# same to their seller as before (a used or unpriced listing's price moved), and a row
# replaced with itself still moves its entries in both indexes. (An upsert after a SELECT
# needs the SELECT's WHERE, else SQLite reads its `ON` as a join's.)
APPLY_STAGED_SQL = (
    "DELETE FROM listing_sales WHERE listing_id IN"
    " (SELECT listing_id FROM pending_sales WHERE dropped = 1)",
    f"INSERT INTO listing_sales ({', '.join(LISTING_SALES_COLUMNS)})"
    f" SELECT {', '.join(LISTING_SALES_COLUMNS)} FROM pending_sales WHERE dropped = 0"
    " ORDER BY listing_id"
    " ON CONFLICT (listing_id) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in LISTING_SALES_COLUMNS[1:])
    + " WHERE "
    + " OR ".join(f"{column} IS NOT excluded.{column}" for column in LISTING_SALES_COLUMNS[1:]),
)
# the flagged listings among those staged, by `listing_sales`' primary key
FLAGGED_STAGED_SQL = (
    "SELECT COUNT(*) FROM pending_sales t CROSS JOIN listing_sales s"
    " ON s.listing_id = t.listing_id WHERE s.flags != 0"
)


def listing_sales_row(listing_id: int, seller_id: int | None, finding: dict) -> tuple:
    """What a listing's current finding (a finding row as detection records it: flags and
    reasons as lists) adds to its seller's verdict: `LISTING_SALES_SQL`'s values, computed
    from the finding in hand instead of read back from the store."""
    brand, condition, flags = finding["brand"], finding["condition"], finding["flags"]
    new_goods = int(bool(brand) and not finding["is_accessory"] and condition in ("new", "unknown"))
    new_priced = bool(new_goods) and condition == "new"
    ratio = finding["price_ratio"]
    model = finding["model"]
    return (
        listing_id,
        seller_id,
        brand,
        sum(_FLAG_BITS[flag] for flag in set(flags) if flag in _FLAG_BITS),
        int(any("counterfeit" in reason for reason in finding["reasons"])),
        new_goods,
        int(new_priced and ratio is not None),
        ratio if new_priced else None,
        model if "gray_import" in flags and model else None,
    )


def _listing_sales_sql(flags: tuple[str, ...], where: str) -> str:
    bits = " | ".join(
        f"((instr(flags, '\"{flag}\"') > 0) << {bit})" for bit, flag in enumerate(flags)
    )
    return LISTING_SALES_SQL.format(flag_bits=bits or "0", where=where)


def _no_sales(flags: tuple[str, ...]) -> dict:
    return {
        "listings": 0, "counterfeits": 0, "priced_new": 0, "lowest_ratio": None,
        "brands": set(), **{f"flag:{flag}": 0 for flag in flags}, "unauthorized": {},
        "gray": [],
    }  # fmt: skip


def _add_sales(total: dict, row: dict, flags: tuple[str, ...]) -> None:
    """Add one (seller, brand) group of `SELLER_SALES_SQL` to the seller's sums."""
    for key in ("listings", "counterfeits", "priced_new", *(f"flag:{flag}" for flag in flags)):
        total[key] += row[key] or 0
    if row["lowest_ratio"] is not None and (
        total["lowest_ratio"] is None or row["lowest_ratio"] < total["lowest_ratio"]
    ):
        total["lowest_ratio"] = row["lowest_ratio"]
    if row["new_goods"] and row["brand"]:
        total["brands"].add(row["brand"])
    if row["flag:unauthorized_seller"] and row["brand"]:
        total["unauthorized"][row["brand"]] = row["flag:unauthorized_seller"]


def dumps(value) -> str:
    """JSON as detection keeps it: compact, keys sorted."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
