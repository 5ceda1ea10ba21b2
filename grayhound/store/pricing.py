"""Price history for competitor pricing: every observation of a listing the detectors matched
to a catalog model, with the seller and the current judgement (model, accessory, condition,
the storage its title names, for the variant's MSRP)."""

from __future__ import annotations

import itertools
import json
import operator
import sqlite3
from collections.abc import Collection, Iterator

import sqlite_utils

from grayhound.store.digestcases import database_file
from grayhound.store.readahead import read_in_batches

PRICE_OBSERVATIONS_SQL = """
    SELECT o.listing_id, o.crawl_run_id, o.observed_at, o.price, o.currency,
           o.condition AS observed_condition,
           l.canonical_url AS url, l.source, l.title, l.first_seen, l.last_run_id,
           l.seller_id, s.profile_url AS seller_url,
           COALESCE(o.seller_name, l.seller_name, s.name) AS seller_name,
           COALESCE(o.seller_domain, l.seller_domain, s.domain) AS seller_domain,
           f.model, f.is_accessory, f.condition AS judged_condition,
           CASE WHEN json_valid(f.attributes) THEN json_extract(f.attributes, '$.storage')
           END AS storage
    FROM observations o
    JOIN listings l ON l.id = o.listing_id
    JOIN findings f
      ON f.subject_kind = 'listing' AND f.subject_id = l.id AND f.is_current = 1
    LEFT JOIN sellers s ON s.id = l.seller_id
    WHERE f.model IS NOT NULL
    ORDER BY o.listing_id, o.crawl_run_id
"""

SHARED_TEXT = (
    "source", "seller_url", "seller_name", "seller_domain", "model", "currency",
    "observed_condition", "judged_condition", "storage",
)  # fmt: skip
LISTING_TEXT = ("url", "title", "first_seen")  # the same in a listing's rows, which are adjacent

# One catalog model's share of PRICE_OBSERVATIONS_SQL, found through MODEL_INDEX_SQL: the
# current listing judgements of these model names, then each listing's observations in order.
_CURRENT_LISTING = "f.subject_kind = 'listing' AND f.is_current = 1"
MODEL_OBSERVATIONS_SQL = (
    PRICE_OBSERVATIONS_SQL.split("FROM observations o")[0]
    + f"""FROM findings f INDEXED BY idx_findings_current_listing_price
    JOIN listings l ON l.id = f.subject_id
    JOIN observations o ON o.listing_id = l.id
    LEFT JOIN sellers s ON s.id = l.seller_id
    WHERE {_CURRENT_LISTING} AND f.model IN ({{names}})
    ORDER BY o.listing_id, o.crawl_run_id
"""
)
MODEL_INDEX_SQL = f"""
    CREATE INDEX IF NOT EXISTS idx_findings_current_listing_model
    ON findings (model, subject_id) WHERE {_CURRENT_LISTING.replace("f.", "")}
"""


# The listings `reports.pricing.build` counts for one catalog model (names bound first), as
# `_listings` there keeps them: a current listing judgement of one of the names, not an
# accessory (any falsy value counts as not), of the wanted condition (the judgement's, else the
# latest observation's, else new; `{condition}` is 1 for every condition); each with its latest
# observation `lo` and whether a later finished crawl of its source still saw it (`{current}`:
# a CASE over the sources, filled in by `_current_case`). The latest observation is found by its
# id from the newest end of the (listing, run) index, which holds the id: one index search a
# listing, where its run's MAX and then the (listing, run) pair took two (the pair is unique).
KEPT_LISTINGS_SQL = f"""
    SELECT l.id, l.source, l.seller_id, l.seller_name AS listing_seller_name,
           l.seller_domain AS listing_seller_domain,
           lo.crawl_run_id >= {{current}} AS is_current, lo.price, lo.currency,
           lo.seller_name AS latest_seller_name, lo.seller_domain AS latest_seller_domain,
           f.attributes
    FROM findings f INDEXED BY idx_findings_current_listing_price
    JOIN listings l ON l.id = f.subject_id
    JOIN observations lo ON lo.id = (SELECT m.id FROM observations m
        WHERE m.listing_id = l.id ORDER BY m.crawl_run_id DESC LIMIT 1)
    WHERE {_CURRENT_LISTING} AND f.model IN ({{names}})
      AND (f.is_accessory IS NULL OR f.is_accessory = 0 OR f.is_accessory = '')
      AND {{condition}}
"""
_KNOWN = "IS NOT NULL AND {0} NOT IN ('', 'unknown')"
# The wanted condition (bound twice): first what the judgement alone decides, from the index,
# so a listing judged of another condition costs no listing row and no observation (used and
# refurbished listings are two in five of a generated store); then the rule itself.
_CONDITION_JUDGED = "(f.condition IS NULL OR f.condition IN ('', 'unknown') OR f.condition = ?)"
_CONDITION_RULE = (
    f"CASE WHEN f.condition {_KNOWN.format('f.condition')} THEN f.condition"
    f" WHEN lo.condition {_KNOWN.format('lo.condition')} THEN lo.condition ELSE 'new' END = ?"
)
CONDITION_SQL = f"{_CONDITION_JUDGED} AND {_CONDITION_RULE}"
# Each kept listing that is still current, with its latest price and seller: one row a listing.
# Its storage (parsed from the judgement's attributes: a sixth of this pass) only where
# `{rated}` is false: the caller's currencies it converts, whose prices need no storage.
# The seller's row is read only when neither the observation nor the listing names the seller
# (COALESCE stops at its first value; the id is the key, so the LEFT JOIN it was read the same).
MODEL_LISTINGS_SQL = """
    WITH kept AS ({kept})
    SELECT k.id, k.price, k.currency, k.seller_id,
           COALESCE(k.latest_seller_name, k.listing_seller_name,
                    (SELECT s.name FROM sellers s WHERE s.id = k.seller_id)) AS seller_name,
           k.source,
           CASE WHEN {rated} THEN NULL
                WHEN json_valid(k.attributes) THEN json_extract(k.attributes, '$.storage')
           END AS storage
    FROM kept k
    WHERE k.is_current
    ORDER BY k.id
"""
# `MODEL_LISTINGS_SQL` of several catalog models in one pass (`Store.price_listings_of_models`):
# the current listings' latest observations are first copied from the newest crawl runs into a
# temporary table (LATEST_TAIL_SQL, `{latest}` its name: the observations table read in its own
# order through the crawl run index; a listing's latest run replaces its earlier ones), then the
# models' judgements are taken from the price index (each stored name's position bound as a
# JSON object: a search of the index a name), in listing order, each joined with its listing
# row (the listings table read once, in its own order) and its latest observation from the copy,
# and sorted by model and listing. Per model, the same rows as MODEL_LISTINGS_SQL: a current
# listing's latest run reaches its source's current run, so it is in the copy and it is the
# latest; a listing missing from the copy, or copied from an earlier run, is not current.
LATEST_TAIL_TABLE_SQL = """
    CREATE TEMP TABLE {latest} (
        listing_id INTEGER PRIMARY KEY, crawl_run_id, price, currency, condition, seller_name)
"""
LATEST_TAIL_SQL = """
    INSERT OR REPLACE INTO temp.{latest}
    SELECT o.listing_id, o.crawl_run_id, o.price, o.currency, o.condition, o.seller_name
    FROM observations o INDEXED BY idx_observations_crawl_run_id
    WHERE o.crawl_run_id >= ?
    ORDER BY o.crawl_run_id, o.id
"""
MODELS_LISTINGS_SQL = f"""
    WITH kept AS MATERIALIZED (
        SELECT n.value AS position, f.subject_id AS id, f.attributes, f.condition
        FROM json_each(?) n
        JOIN findings f INDEXED BY idx_findings_current_listing_price ON f.model = n.key
        WHERE {_CURRENT_LISTING}
          AND (f.is_accessory IS NULL OR f.is_accessory = 0 OR f.is_accessory = '')
          AND {{condition}}
        ORDER BY f.subject_id LIMIT -1)
    SELECT k.position, l.id, lo.price, lo.currency, l.seller_id,
           COALESCE(lo.seller_name, l.seller_name,
                    (SELECT s.name FROM sellers s WHERE s.id = l.seller_id)) AS seller_name,
           l.source,
           CASE WHEN {{rated}} THEN NULL
                WHEN json_valid(k.attributes) THEN json_extract(k.attributes, '$.storage')
           END AS storage
    FROM kept k
    JOIN listings l ON l.id = k.id
    JOIN temp.{{latest}} lo ON lo.listing_id = l.id
    WHERE lo.crawl_run_id >= {{current}} AND {{rule}}
    ORDER BY k.position, l.id
"""
# The copy is made only when the newest runs are a small part of the history: at most this many
# observations a listing of the store (the current crawl run is about one a listing).
TAIL_LIMIT = 2
_COPIES = itertools.count(1)

# Every observation of every kept listing (gone ones too) in the report's history order: crawl
# run, seller as the report names it (`competitors.seller_name`), listing. The seller's row is
# read only when neither the observation nor the listing names (or gives a domain for) the
# seller, as in MODEL_LISTINGS_SQL: a LEFT JOIN read it for every observation (~5 % of this
# statement at 100,000 listings); the id is the key, so the value is the same.
MODEL_HISTORY_SQL = """
    WITH kept AS ({kept})
    SELECT o.crawl_run_id, o.observed_at,
           COALESCE(NULLIF(COALESCE(o.seller_name, k.listing_seller_name,
                                    (SELECT s.name FROM sellers s WHERE s.id = k.seller_id)), ''),
                    NULLIF(COALESCE(o.seller_domain, k.listing_seller_domain,
                                    (SELECT s.domain FROM sellers s WHERE s.id = k.seller_id)),
                           ''),
                    '(unnamed, ' || k.source || ')') AS seller,
           k.source, o.listing_id, o.price, o.currency, k.is_current
    FROM kept k
    JOIN observations o ON o.listing_id = k.id
    ORDER BY o.crawl_run_id, seller, o.listing_id
"""
# MODEL_HISTORY_SQL of the observations of some crawl runs only: those after the first run
# bound and up to the second (a part of a model's history, `reports.pricing.parts`). Each kept
# listing's observations are a range of the (listing, run) index; the order is the same, a run
# first, so the parts of a history are its rows one after the other.
MODEL_HISTORY_RUNS_SQL = MODEL_HISTORY_SQL.replace(
    "JOIN observations o ON o.listing_id = k.id",
    "JOIN observations o ON o.listing_id = k.id AND o.crawl_run_id > ? AND o.crawl_run_id <= ?",
)
# A model's kept listings copied once into a temporary table (`Store.price_kept_table`), every
# column of KEPT_LISTINGS_SQL: the model's figures read its current listings from it
# (MODEL_LISTINGS_SQL with `{kept}` the table), the history's statements its listings
# (MODEL_HISTORY_SQL, MODEL_HISTORY_GROUPS_SQL), and the price history cache
# (`reports.pricing.historycache`) what a listing's history rows are made from besides its
# observations: its source, its seller id, its own and its seller row's name and domain (the
# seller's fallbacks), and its first crawl run (one search of the (listing, run) index: its
# rows are in no earlier run's history).
KEPT_TABLE_SQL = """
    CREATE TEMP TABLE {table} AS
    WITH kept AS ({kept})
    SELECT k.*,
           (SELECT MIN(m.crawl_run_id) FROM observations m WHERE m.listing_id = k.id) AS first_run,
           s.name AS seller_row_name, s.domain AS seller_row_domain
    FROM kept k
    LEFT JOIN sellers s ON s.id = k.seller_id
"""
# The same copy for a report that keeps no history between reports (the HTML page): the kept
# listings' rows alone, without what only the history cache's snapshot reads (a listing's first
# run, a search of the (listing, run) index each, and its seller's row).
KEPT_ROWS_TABLE_SQL = "CREATE TEMP TABLE {table} AS {kept}"
KEPT_TABLE_ROWS_SQL = """
    SELECT first_run, id, source, seller_id, listing_seller_name, listing_seller_domain,
           seller_row_name, seller_row_domain, is_current
    FROM temp.{table}
    ORDER BY first_run, id
"""
_KEPT_TABLES = itertools.count(1)
# The first and the last observation of a crawl run (two searches of the run index, which holds
# the id: one statement with both aggregates would read the run's whole range).
RUN_SPAN_SQL = (
    "SELECT (SELECT MIN(id) FROM observations INDEXED BY idx_observations_crawl_run_id"
    " WHERE crawl_run_id = ?1),"
    " (SELECT MAX(id) FROM observations INDEXED BY idx_observations_crawl_run_id"
    " WHERE crawl_run_id = ?1)"
)

# What the HTML page reads of MODEL_HISTORY_SQL (`reports.pricing.history.summarize_groups`),
# folded by SQLite: its priced rows grouped by crawl run, seller, source, currency and time form,
# each group with its first time, its cheapest price in cents, its point count and whether a
# listing in it is current. Python's work is then per group, not per observation.
# A price is read here only in its plain form: digits with at most one point and two decimals,
# 15 characters at most, so its cents are its exact value and two such prices are ordered (and
# equal) as Python reads them (`float(Decimal(text))`: correctly rounded, one double for each
# value of 15 digits). Any other price makes its group's cents -1: the caller folds the model's
# rows in Python instead. The decimals are counted from the point (the length less its place);
# a price without one (place 0) is whole, whatever its length: tested first, or "99", two
# characters, read as two decimals, was 99 cents (issue 19, round 44). SQLite's `length` and
# `GLOB` stop at a NUL character, `instr` does not: a text with one is not plain (Python reads
# no amount in "99\0x"). A time in the form the store writes (`timestamps.utc_now`,
# `YYYY-MM-DDTHH:MM:SS.mmmZ`, its `?`s digits wherever Python reads it) is grouped by its day
# (its text to the `T`: no other time Python reads is that text), the first text of a day
# being its first time; any other time is a group of its own.
_STORE_TIME = "????-??-??T??:??:??.???Z"
_TIME_FORM = (
    f"CASE WHEN o.observed_at GLOB '{_STORE_TIME}' THEN substr(o.observed_at, 1, 11)"
    " ELSE o.observed_at END"
)
_CENTS = """CASE WHEN typeof(o.price) != 'text' OR o.price GLOB '*[^0-9.]*'
                OR o.price GLOB '*.*.*' OR length(o.price) > 15 OR o.price IN ('', '.')
                OR instr(o.price, char(0)) THEN -1
            ELSE CASE length(o.price) - instr(o.price, '.')
                WHEN length(o.price) THEN CAST(o.price AS INTEGER) * 100
                WHEN 2 THEN CAST(replace(o.price, '.', '') AS INTEGER)
                WHEN 1 THEN CAST(replace(o.price, '.', '') AS INTEGER) * 10
                WHEN 0 THEN CAST(replace(o.price, '.', '') AS INTEGER) * 100
                ELSE -1
            END END"""
MODEL_HISTORY_GROUPS_SQL = (
    MODEL_HISTORY_SQL.split("SELECT o.crawl_run_id")[0]
    + "SELECT o.crawl_run_id AS run,"
    + MODEL_HISTORY_SQL.split("o.observed_at,", 1)[1].split("k.source, o.listing_id")[0]
    + f"""k.source, o.currency, {_TIME_FORM} AS time_form, MIN(o.observed_at) AS first_at,
           MIN({_CENTS}) AS cents, COUNT(*) AS points, MAX(k.is_current) AS is_current
    FROM kept k
    JOIN observations o ON o.listing_id = k.id
    WHERE o.price IS NOT NULL
    GROUP BY run, seller, k.source, o.currency, time_form
"""
)

# What the report reads of a few listings (each seller's cheapest, `listings_price_trails`; a
# JSON array of ids bound): the row of PRICE_OBSERVATIONS_SQL of each one's latest observation
# (its run the newest of the listing's in the (listing, run) index; its listing, judgement and
# seller joined to it alone), and the run, time, price and currency of every observation. Both
# read the observations from the price history index, where a listing's entries lie side by
# side. (`+`: the latest's run is not searched for, or SQLite would find the row through the
# unique (listing, run) index, which holds none of its columns: a table row each.) Issue 19,
# round 26: each observation read whole, with its listing, judgement and seller joined to each,
# took 240 µs a listing at 1,000,000 listings.
LISTINGS_LATEST_SQL = PRICE_OBSERVATIONS_SQL.replace(
    "WHERE f.model IS NOT NULL",
    """WHERE f.model IS NOT NULL AND l.id IN (SELECT value FROM json_each(?))
      AND +o.crawl_run_id = (SELECT MAX(m.crawl_run_id) FROM observations m
                             WHERE m.listing_id = l.id)""",
)
LISTINGS_TRAILS_SQL = """
    SELECT o.listing_id, o.crawl_run_id, o.observed_at, o.price, o.currency
    FROM observations o
    WHERE o.listing_id IN (SELECT value FROM json_each(?))
    ORDER BY o.listing_id, o.crawl_run_id
"""
# Both, as the connections that read their pages ahead run them (`readahead.ReadAhead`).
LISTINGS_TRAILS_STATEMENTS = (LISTINGS_LATEST_SQL, LISTINGS_TRAILS_SQL)


def add_model_index(db: sqlite_utils.Database) -> None:
    """Migration: the current listing judgements per model, so `grayhound prices` reads one
    catalog model's observations at a time."""
    db.execute(MODEL_INDEX_SQL)


OBSERVED_INDEX_SQL = """
    CREATE INDEX IF NOT EXISTS idx_observations_observed_at ON observations (observed_at)
"""


# What the report reads of a model's current listing judgements, in the index itself: the
# judgements' rows are wide (reasons, flags), a page read each (5 µs a listing at 1,000,000).
PRICE_INDEX_SQL = f"""
    CREATE INDEX IF NOT EXISTS idx_findings_current_listing_price
    ON findings (model, subject_id, is_accessory, condition, attributes, subject_kind, is_current)
    WHERE {_CURRENT_LISTING.replace("f.", "")}
"""


def add_price_indexes(db: sqlite_utils.Database) -> None:
    """Migration: observations by time, so the report's "data as of" is the newest judged
    observation found from the newest end (it was a pass over every observation); and the
    current listing judgements per model with what the report reads of them."""
    db.execute(OBSERVED_INDEX_SQL)
    db.execute(PRICE_INDEX_SQL)


# Each listing's observations in order with what the price report reads of them (the history
# in JSON and CSV, the HTML page's groups, the observations of each seller's cheapest listing):
# read from the index alone, a listing's observations side by side. Through the (listing, run)
# index each one was a row read from the table, where a listing's observations lie a crawl run
# apart (a page each: fifteen a listing after fifteen crawl runs). The narrow unique index stays:
# it keeps one observation a listing and crawl run (the crawl's `INSERT OR IGNORE`).
HISTORY_INDEX_SQL = """
    CREATE INDEX IF NOT EXISTS idx_observations_history ON observations
    (listing_id, crawl_run_id, price, currency, observed_at, seller_name, seller_domain, condition)
"""


HISTORY_NOTICE_AT = 1_000_000  # observations: from here on, the upgrade says what it does


def add_history_index(db: sqlite_utils.Database) -> None:
    """Migration 0021_issue19_price_history_index: `HISTORY_INDEX_SQL` (issue 19, round 23).
    On a large store it takes a while (17.6 s for 3,015,025 observations on a 2-core machine),
    holding the store's write lock as every step does: the command says so on stderr first."""
    observations = db.execute("SELECT MAX(id) FROM observations").fetchone()[0] or 0
    if observations >= HISTORY_NOTICE_AT:
        from grayhound.store.migrations import say_upgrading

        say_upgrading(f"indexing the price history of {observations:,} observations")
    db.execute(HISTORY_INDEX_SQL)


def drop_model_index(db: sqlite_utils.Database) -> None:
    """Migration 0018_issue19_one_model_index: the model index of migration 0011 is a prefix of
    the price index (the same rows); the queries that named it read the price index, and each
    changed finding moves one index entry fewer (issue 19, round 7)."""
    db.execute("DROP INDEX IF EXISTS idx_findings_current_listing_model")


def distinct_by_search(column: str, rows: str) -> str:
    """The distinct values of `column` among `rows` ("FROM … WHERE …") through an index that
    begins with it: the least, then each next one found by a search (SQLite reads a DISTINCT
    through the whole index)."""
    return f"""
    WITH RECURSIVE found(value) AS (
        SELECT MIN({column}) {rows} AND {column} IS NOT NULL
        UNION ALL
        SELECT (SELECT MIN({column}) {rows} AND {column} > found.value)
        FROM found WHERE found.value IS NOT NULL)
    SELECT value FROM found WHERE value IS NOT NULL
"""


_CURRENT_PRICE = (
    f"FROM findings f INDEXED BY idx_findings_current_listing_price WHERE {_CURRENT_LISTING}"
)
# The model names of the current listing judgements, from the price index.
MODEL_NAMES_SQL = distinct_by_search("f.model", _CURRENT_PRICE)
# The sources of the stored listings, from the source index.
LISTING_SOURCES_SQL = distinct_by_search("l.source", "FROM listings l WHERE 1")
# How many current listing judgements carry one of the model names (a JSON array bound).
MODEL_COUNT_SQL = (
    f"SELECT COUNT(*) {_CURRENT_PRICE} AND f.model IN (SELECT value FROM json_each(?))"
)

# The first observation of a crawl run: one search of the run index, which holds the id.
RUN_FIRST_OBSERVATION_SQL = (
    "SELECT MIN(id) FROM observations INDEXED BY idx_observations_crawl_run_id"
    " WHERE crawl_run_id = ?"
)


class PriceHistory:
    """Mixin of Store: the rows `reports.pricing.build` computes competitor pricing from."""

    db: sqlite_utils.Database

    def price_observations(self) -> Iterator[dict]:
        """One row per observation of each listing with a current model judgement.

        Text that repeats (a seller, a model, a currency; a listing's URL and title in each
        crawl run) is one shared string: 100,000 listings seen twice are 200,000 rows."""
        return self._shared_rows(PRICE_OBSERVATIONS_SQL)

    def price_model_names(self) -> list[str]:
        """The model names current listing judgements carry (a catalog's worth, not a row each),
        in the price index's order: one search of the index a name (a DISTINCT read it all)."""
        return [name for (name,) in self.db.execute(MODEL_NAMES_SQL)]

    def price_listing_count(self, names: list[str]) -> int:
        """How many listings carry a current judgement of one of these model names (what a
        model's share of the report grows with), counted in the judgements' price index, whose
        columns begin with the model."""
        if not names:
            return 0
        return self.db.execute(MODEL_COUNT_SQL, _json(names)).fetchone()[0]

    def price_listing_counts(self, groups: list[list[str]]) -> list[int]:
        """`price_listing_count` of each list of names, read ahead on several connections
        (a name each) once one count has waited for the disk (`read_in_batches`)."""

        def count(names: list[str]) -> list[int]:
            return [self.price_listing_count(names)]

        path = database_file(self.db)
        return list(read_in_batches(count, groups, path, MODEL_COUNT_SQL, _json, ahead_size=1))

    def price_history_shape(self) -> tuple[int, int, list[tuple[int, int]]]:
        """What a report's history is about to weigh, read at once: the number of listings and
        of observations (the newest ids: the store deletes neither) and each crawl run's id and
        about how many observations it holds (from the lowest observation id of each run in
        the run index, a search each: exact for runs one after the other, as a crawl writes
        them), in run order."""
        listings = self.db.execute("SELECT MAX(id) FROM listings").fetchone()[0] or 0
        observations = self.db.execute("SELECT MAX(id) FROM observations").fetchone()[0] or 0
        firsts = []
        for (run,) in self.db.execute("SELECT id FROM crawl_runs ORDER BY id").fetchall():
            first = self.db.execute(RUN_FIRST_OBSERVATION_SQL, [run]).fetchone()[0]
            firsts.append((run, first))
        starts = sorted(first for _, first in firsts if first is not None) + [observations + 1]
        following = dict(itertools.pairwise(starts))
        return (
            listings,
            observations,
            [(run, 0 if first is None else following[first] - first) for run, first in firsts],
        )

    def price_data_as_of(self) -> str | None:
        """The latest observation `price_observations` would yield."""
        # the newest observations first, until one of a judged listing: at once, normally
        sql = f"""SELECT o.observed_at FROM observations o
            INDEXED BY idx_observations_observed_at
            JOIN listings l ON l.id = o.listing_id
            WHERE EXISTS (SELECT 1 FROM findings f WHERE f.subject_id = l.id
                          AND {_CURRENT_LISTING} AND f.model IS NOT NULL)
            ORDER BY o.observed_at DESC LIMIT 1"""
        found = self.db.execute(sql).fetchone()
        return found[0] if found else None

    def model_price_observations(self, names: list[str]) -> Iterator[dict]:
        """The rows of `price_observations` whose judged model is one of `names`, in the same
        order: one catalog model's observations, read through an index."""
        if not names:
            return iter(())
        sql = MODEL_OBSERVATIONS_SQL.format(names=", ".join("?" * len(names)))
        return self._shared_rows(sql, names)

    def price_observations_in_order(self, names: list[str]) -> Iterator[dict]:
        """The rows of `price_observations` whose judged model is one of `names`, model by
        model in the order of `names`, then as `price_observations` orders them. One pass over
        the tables in storage order, sorted by SQLite (on disk when large): reading each model
        through its index instead touches every page once per model."""
        if not names:
            return iter(())
        marks = ", ".join("?" * len(names))
        position = "CASE f.model " + " ".join(f"WHEN ? THEN {n}" for n in range(len(names)))
        sql = PRICE_OBSERVATIONS_SQL.replace(
            "ORDER BY o.listing_id",
            f"AND +f.model IN ({marks}) ORDER BY {position} END, o.listing_id",
        )
        return self._shared_rows(sql, [*names, *names])

    def _shared_rows(self, sql: str, params: list | None = None) -> Iterator[dict]:
        cursor = self.db.execute(sql, params or [])
        keys = [column[0] for column in cursor.description]
        shared_at = [keys.index(key) for key in SHARED_TEXT]
        listing_at = [keys.index(key) for key in LISTING_TEXT]
        id_at = keys.index("listing_id")
        shared = {}.setdefault
        previous: list = []
        for row in cursor:
            values = list(row)
            for at in shared_at:
                value = values[at]
                if type(value) is str:
                    values[at] = shared(value, value)
            if previous and previous[id_at] == values[id_at]:
                for at in listing_at:
                    if values[at] == previous[at]:
                        values[at] = previous[at]
            previous = values
            yield dict(zip(keys, values, strict=True))

    def model_price_listings(
        self,
        names: list[str],
        condition: str,
        newest: dict[str | None, int],
        rated: Collection[str] = (),
    ) -> Iterator[tuple]:
        """The current listings the price report counts for a catalog model (its stored
        `names`), in id order: (id, price, currency, seller_id, seller_name, source, storage)
        of each one's latest observation. `newest`: the latest finished crawl run per source
        (None: of every source), as `reports.pricing.build` reads the crawl runs. `rated`:
        currencies whose listings need no storage (None given for them)."""
        return self._kept_rows(_listings_statement(rated), names, condition, newest, list(rated))

    def price_listings_of_models(
        self,
        groups: list[list[str]],
        condition: str,
        newest: dict[str | None, int],
        rated: Collection[str] = (),
    ) -> Iterator[tuple] | None:
        """`model_price_listings` of several catalog models (each one's stored names a list of
        `groups`) in one pass over the store (MODELS_LISTINGS_SQL): (position in `groups`, *the
        row) by position, then id. None when that pass cannot be made or would not be the
        cheaper one: a source of the listings has no finished run (its listings are all
        current, whatever run saw them last), a stored name is in two groups, or the newest
        runs hold more than TAIL_LIMIT observations a listing (a source whose current run is
        an old one)."""
        names = [name for group in groups for name in group]
        if not names or len(set(names)) < len(names):
            return None
        everywhere = newest.get(None, 0)
        sources = self.listing_sources()
        oldest = min((max(newest.get(s, 0), everywhere) for s in sources), default=0)
        if oldest <= 0:  # a source without a finished run: its listings are all current
            return None
        current, current_params = _current_case(newest)
        listings = self.db.execute("SELECT MAX(id) FROM listings").fetchone()[0] or 0
        tail = self.db.execute(
            "SELECT COUNT(*) FROM observations INDEXED BY idx_observations_crawl_run_id"
            " WHERE crawl_run_id >= ?",
            [oldest],
        ).fetchone()[0]
        if tail > TAIL_LIMIT * listings:
            return None
        marks = ", ".join("?" * len(rated))
        latest = f"price_latest_{next(_COPIES)}"  # its own: an earlier one may not be dropped
        sql = MODELS_LISTINGS_SQL.format(
            condition="1" if condition == "any" else _CONDITION_JUDGED,
            rated=f"lo.currency IN ({marks})" if rated else "0",
            latest=latest,
            current=current,
            rule="1" if condition == "any" else _CONDITION_RULE.replace("f.", "k."),
        )
        positions = {name: at for at, group in enumerate(groups) for name in group}
        params = [json.dumps(positions), *([] if condition == "any" else [condition])]
        params += [*rated, *current_params, *([] if condition == "any" else [condition])]
        return self._tail_rows(latest, sql, params, oldest)

    def listing_sources(self) -> list[str]:
        """The sources of the stored listings: a search of the source index each."""
        return [source for (source,) in self.db.execute(LISTING_SOURCES_SQL)]

    def _tail_rows(self, latest: str, sql: str, params: list, oldest: int) -> Iterator[tuple]:
        """The rows of `sql` once `latest` holds the newest runs' observations; the table is
        dropped at the end. A connection outside a transaction is left outside one (its copy
        and its reading are one transaction, committed at the end)."""
        conn = self.db.conn
        outside = not conn.in_transaction
        conn.execute(LATEST_TAIL_TABLE_SQL.format(latest=latest))
        try:
            conn.execute(LATEST_TAIL_SQL.format(latest=latest), [oldest])
            yield from conn.execute(sql, params)
        finally:
            try:
                conn.execute(f"DROP TABLE IF EXISTS temp.{latest}")
                if outside and conn.in_transaction:
                    conn.commit()
            except sqlite3.OperationalError:  # a statement of the caller's still reading: the
                pass  # table goes with the connection; the next call makes its own

    def model_price_history(
        self,
        names: list[str],
        condition: str,
        newest: dict[str | None, int],
        runs: tuple[int | None, int | None] = (None, None),
    ) -> Iterator[tuple]:
        """Every observation of the listings the report keeps for a model (gone ones too), in
        history order: (crawl_run_id, observed_at, seller, source, listing_id, price,
        currency, is_current). `runs` (after, up to): only the observations of the crawl
        runs after the first and up to the second (None: no bound)."""
        sql, bounds = _history_statement(runs)
        return self._kept_rows(sql, names, condition, newest, bounds)

    def price_kept_table(
        self,
        names: list[str],
        condition: str,
        newest: dict[str | None, int],
        snapshot: bool = True,
    ) -> str:
        """A new temporary table of the listings `model_price_history` keeps for a model (see
        KEPT_TABLE_SQL); its name. `model_price_history_of` reads the history from it;
        `drop_price_kept_table` drops it. `snapshot=False`: without the columns only
        `price_kept_rows` reads (KEPT_ROWS_TABLE_SQL)."""
        table = f"price_kept_{next(_KEPT_TABLES)}"
        kept, params = _kept_statement(names, condition, newest)
        statement = KEPT_TABLE_SQL if snapshot else KEPT_ROWS_TABLE_SQL
        self.db.conn.execute(statement.format(table=table, kept=kept), params)
        return table

    def model_price_listings_of(self, table: str, rated: Collection[str] = ()) -> Iterator[tuple]:
        """`model_price_listings` of the listings of a kept table (`price_kept_table`)."""
        sql = _listings_statement(rated).format(kept=f"SELECT * FROM temp.{table}")
        return self.db.conn.execute(sql, list(rated))

    def price_kept_rows(self, table: str) -> Iterator[tuple]:
        """The rows of a kept table (KEPT_TABLE_ROWS_SQL): (first run, id, source, seller id,
        the listing's seller name and domain, the seller row's name and domain, whether its
        history's rows say current), by first run and id."""
        return self.db.conn.execute(KEPT_TABLE_ROWS_SQL.format(table=table))

    def model_price_history_of(
        self, table: str, runs: tuple[int | None, int | None] = (None, None)
    ) -> Iterator[tuple]:
        """`model_price_history` of the listings of a kept table (`price_kept_table`)."""
        sql, bounds = _history_statement(runs)
        return self.db.conn.execute(_of_kept_table(sql, table), bounds)

    def model_price_history_groups_of(self, table: str) -> Iterator[tuple]:
        """`model_price_history_groups` of the listings of a kept table (`price_kept_table`)."""
        return self.db.conn.execute(_of_kept_table(MODEL_HISTORY_GROUPS_SQL, table))

    def drop_price_kept_table(self, table: str) -> None:
        try:
            self.db.conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
        except sqlite3.OperationalError:  # a statement still reading it: it goes with the
            pass  # connection

    def price_run_span(self, run_id: int) -> tuple[int | None, int | None]:
        """The ids of the first and the last observation of a crawl run (None: none)."""
        return tuple(self.db.conn.execute(RUN_SPAN_SQL, [run_id]).fetchone())

    def model_price_history_groups(
        self, names: list[str], condition: str, newest: dict[str | None, int]
    ) -> Iterator[tuple]:
        """`model_price_history`'s priced rows grouped by SQLite: (run, seller, source,
        currency, time form, first time, cheapest cents (-1: a row read in Python only),
        points, whether one is current) per group (see MODEL_HISTORY_GROUPS_SQL)."""
        return self._kept_rows(MODEL_HISTORY_GROUPS_SQL, names, condition, newest)

    def listings_price_trails(self, listing_ids: list[int]) -> Iterator[tuple[int, list[dict]]]:
        """(listing id, its price trail) of each of these listings with a judged model (each
        once, in id order): the trail is the run, time, price and currency (`crawl_run_id`,
        `observed_at`, `price`, `currency`) of each of its observations in run order, the last
        one its latest observation's whole row of `price_observations`. Read 500 listings at a
        time, in id order, and read ahead on several connections once a batch has waited for
        the disk (`readahead.read_in_batches`)."""
        ordered = sorted(set(listing_ids))  # each listing once
        # a first batch of 50: enough to tell whether they are read from the disk
        batches = [ordered[:50]] + [ordered[at : at + 500] for at in range(50, len(ordered), 500)]

        def read(batch: list[int]) -> Iterator[tuple[int, list[dict]]]:
            ids = _json(batch)
            latest = {row["listing_id"]: row for row in self._shared_rows(LISTINGS_LATEST_SQL, ids)}
            trails = self.db.execute(LISTINGS_TRAILS_SQL, ids)
            for listing_id, rows in itertools.groupby(trails, key=operator.itemgetter(0)):
                last = latest.get(listing_id)
                if last is None:  # no judged model: not the report's
                    continue
                newest = last["crawl_run_id"]
                trail = [
                    {"crawl_run_id": run, "observed_at": at, "price": price, "currency": code}
                    for _, run, at, price, code in rows
                    if run < newest  # one seen since the latest was read is not in its trail
                ]
                trail.append(last)
                yield listing_id, trail

        path = database_file(self.db)
        return read_in_batches(read, batches, path, LISTINGS_TRAILS_STATEMENTS, _json)

    def _kept_rows(
        self,
        sql: str,
        names: list[str],
        condition: str,
        newest: dict[str | None, int],
        after: list | None = None,  # the parameters of the statement after the kept CTE
    ) -> Iterator[tuple]:
        if not names:
            return iter(())
        kept, params = _kept_statement(names, condition, newest)
        return self.db.execute(sql.format(kept=kept), [*params, *(after or [])])


def _of_kept_table(sql: str, table: str) -> str:
    """A history statement (MODEL_HISTORY_SQL's form) over the listings of a kept table. CROSS:
    the kept listings first, each one's observations searched (from a table, SQLite would read
    every observation in run order and search the table for each)."""
    sql = sql.replace("JOIN observations o", "CROSS JOIN observations o")
    return sql.format(kept=f"SELECT * FROM temp.{table}")


def _listings_statement(rated: Collection[str]) -> str:
    """MODEL_LISTINGS_SQL with its `{rated}` currencies bound as parameters (`{kept}` left)."""
    marks = ", ".join("?" * len(rated))
    return MODEL_LISTINGS_SQL.replace("{rated}", f"k.currency IN ({marks})" if rated else "0")


def _kept_statement(names: list[str], condition: str, newest: dict[str | None, int]):
    """KEPT_LISTINGS_SQL for a model's stored `names` (none: no listing), and its parameters."""
    current, current_params = _current_case(newest)
    kept = KEPT_LISTINGS_SQL.format(
        current=current,
        names=", ".join("?" * len(names)) or "NULL",
        condition="1" if condition == "any" else CONDITION_SQL,
    )
    params = [*current_params, *names, *([] if condition == "any" else [condition] * 2)]
    return kept, params


def _history_statement(runs: tuple[int | None, int | None]) -> tuple[str, list]:
    """MODEL_HISTORY_SQL, or MODEL_HISTORY_RUNS_SQL with the bounds of `runs` (after, up to;
    None: no bound), and its parameters after the kept listings'."""
    if runs == (None, None):
        return MODEL_HISTORY_SQL, []
    after, upto = runs
    bounds = [-(2**63) if after is None else after, 2**63 - 1 if upto is None else upto]
    return MODEL_HISTORY_RUNS_SQL, bounds


def _json(items: list) -> list:
    """The parameters of a statement that binds `items` as one JSON array."""
    return [json.dumps(items)]


def _current_case(newest: dict[str | None, int]) -> tuple[str, list]:
    """The run a listing's latest observation must reach to be current: the latest finished
    run of its source or of every source, whichever is later (0: none)."""
    everywhere = newest.get(None, 0)
    sources = [(s, max(run, everywhere)) for s, run in newest.items() if isinstance(s, str)]
    if not sources:
        return "?", [everywhere]
    whens = " ".join("WHEN ? THEN ?" for _ in sources)
    return f"CASE l.source {whens} ELSE ? END", [v for pair in sources for v in pair] + [everywhere]
