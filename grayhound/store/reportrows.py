"""Rows the whole-store reports read in one pass, as plain tuples: `grayhound catalog check`
over every stored title, with the reading the last detection kept of it, and `grayhound export
listings` (issue 19)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import lru_cache

import sqlite_utils

# Every titled listing in id order, with the reading `grayhound detect` kept (None before one),
# the key it kept it under, and the text that key is the SHA-256 of when nothing the reading
# depends on changed since (issue 19, round 4): the JSON list `detection.listings._reading_key`
# hashes — title, condition ("unknown" when none), description and summary joined by " · "
# (None when both are empty), brand, category and the fingerprints the detection judged with —
# written by SQLite (json_quote escapes as Python's json does with ensure_ascii=False), so the
# description never becomes a Python string. Only for a listing with a kept reading that is
# not `trusted` (issue 19, round 25: with `:trust`, a listing no change has queued since the
# last detection, which read titles with these fingerprints, needs no key).
TITLE_READINGS_SQL = """
    SELECT l.id, l.title, l.brand, l.category, ls.reading_key, ls.reading,
           :trust AND p.listing_id IS NULL AS trusted,
           CASE WHEN ls.reading IS NOT NULL AND ls.reading != ''
                     AND NOT (:trust AND p.listing_id IS NULL) THEN
             '[' || json_quote(l.title)
             || ', ' || json_quote(COALESCE(NULLIF(l.condition, ''), 'unknown'))
             || ', ' || json_quote(CASE WHEN l.summary != '' THEN
                                     CASE WHEN l.description != ''
                                          THEN l.description || ' · ' || l.summary
                                          ELSE l.summary END
                                   ELSE NULLIF(l.description, '') END)
             || ', ' || json_quote(l.brand) || ', ' || json_quote(l.category)
             || ', ' || json_quote(:judged_with) || ']'
           END AS key_text
    FROM listings l LEFT JOIN listing_state ls ON ls.listing_id = l.id
    LEFT JOIN pending_listings p ON :trust AND p.listing_id = l.id
    WHERE l.id BETWEEN :first AND :last AND l.title IS NOT NULL AND l.title != ''
    ORDER BY l.id
"""
TITLE_READING_COLUMNS = (
    "id", "title", "brand", "category", "reading_key", "reading", "trusted", "key_text",
)  # fmt: skip

# `grayhound export listings`: every listing in its latest state with its current judgement
# (the columns `reports.exports.listing_record` reads). The seller's name and domain are the
# listing's own, else its seller's (as detection and the digest read them). Until issue 19's
# second round the export selected `l.*` before that COALESCE and sqlite-utils 4 renamed the
# repeated column (`seller_domain_2`), so a listing that named no domain exported none.
# `l.id BETWEEN ? AND ?` reads a range of ids by the primary key (the exact path of a batch).
EXPORT_LISTINGS_SQL = """
    SELECT l.id, l.url, l.canonical_url, l.source, l.title, l.price, l.currency, l.condition,
           l.first_seen, l.last_seen, l.seller_id, l.field_sources, l.currency_source,
           f.model, f.msrp, f.flags, f.score AS risk, f.reasons, f.is_accessory,
           f.condition AS judged_condition, f.verdict, f.model_reason,
           COALESCE(l.seller_domain, s.domain, s.claimed_domain) AS seller_domain,
           COALESCE(l.seller_name, s.name) AS seller_name,
           sf.verdict AS seller_verdict, sf.score AS seller_risk, n.network_id
    FROM listings l
    LEFT JOIN sellers s ON s.id = l.seller_id
    LEFT JOIN findings f
      ON f.subject_kind = 'listing' AND f.subject_id = l.id AND f.is_current = 1
    LEFT JOIN findings sf
      ON sf.subject_kind = 'seller' AND sf.subject_id = l.seller_id AND sf.is_current = 1
    LEFT JOIN network_members n ON n.seller_id = l.seller_id AND n.is_current = 1
    WHERE l.id BETWEEN ? AND ?
    ORDER BY l.id
"""

# The same export in one pass where SQLite renders the cells (issue 19, round 3): each seller's
# name, domain, verdict, risk and network are joined once into a small table (2,500 rows at a
# million listings) instead of three index searches per listing, and the contract's values are
# computed as `listing_record` computes them (the judged condition, `is_accessory`, the model's
# reason only when judged, the currency's layer), so Python only joins text.
EXPORT_SELLERS_CTE = """
    WITH export_sellers AS MATERIALIZED (
      SELECT s.id, s.name, COALESCE(s.domain, s.claimed_domain) AS domain,
             sf.verdict, sf.score, n.network_id
      FROM sellers s
      LEFT JOIN findings sf
        ON sf.subject_kind = 'seller' AND sf.subject_id = s.id AND sf.is_current = 1
      LEFT JOIN network_members n ON n.seller_id = s.id AND n.is_current = 1)
"""
EXPORT_FROM = """
    FROM listings l
    LEFT JOIN export_sellers sv ON sv.id = l.seller_id
    LEFT JOIN findings f
      ON f.subject_kind = 'listing' AND f.subject_id = l.id AND f.is_current = 1
    WHERE l.id BETWEEN :first_id AND :last_id
    ORDER BY l.id
"""
_CONDITION = "COALESCE(NULLIF(l.condition, ''), 'unknown')"
EXPORT_VALUES = {
    "id": "l.id",
    "url": "l.url",
    "canonical_url": "l.canonical_url",
    "source": "l.source",
    "title": "l.title",
    "price": "l.price",
    "currency": "l.currency",
    "condition": f"""CASE WHEN f.verdict IS NOT NULL AND {_CONDITION} = 'unknown'
                          AND f.condition IS NOT NULL AND f.condition != ''
                     THEN f.condition ELSE {_CONDITION} END""",
    "is_accessory": "CASE WHEN f.verdict IS NULL THEN NULL WHEN f.is_accessory THEN 1 ELSE 0 END",
    "model": "f.model",
    "msrp": "f.msrp",
    "seller": "COALESCE(l.seller_name, sv.name)",
    "seller_domain": "COALESCE(l.seller_domain, sv.domain)",
    "first_seen": "l.first_seen",
    "last_seen": "l.last_seen",
    "flags": "f.flags",
    "risk": "f.score",
    "reasons": "f.reasons",
    "seller_id": "l.seller_id",
    "seller_verdict": "sv.verdict",
    "seller_risk": "sv.score",
    "network_id": "sv.network_id",
    "model_reason": "CASE WHEN f.verdict IS NOT NULL THEN f.model_reason END",
    # a listing stored before currency_source was kept: the layer its currency came from
    "currency_source": """CASE WHEN l.currency_source IS NOT NULL AND l.currency_source != ''
                               THEN l.currency_source
                               WHEN l.currency IS NULL OR l.currency = ''
                                 OR l.field_sources IS NULL OR l.field_sources IN ('', '{}')
                               THEN NULL
                               ELSE grayhound_currency_layer(l.field_sources) END""",
}
# How a piece of an export line renders its fields: "text" joins them with the unit separator
# (U+001F), nothing as "" (concatenated, not printf: printf's %s stops at a NUL, `||` keeps it,
# so a cell holding one reaches the caller whole and is written cell by cell); "json" writes
# each as `"field": value` (json_quote escapes exactly as Python's json does with
# ensure_ascii=False, and never gives NULL), joined by ", ", concatenated too (printf took
# ~15 % longer a row). A field named alone is selected as its value (the floats, whose text
# Python writes; the flags' and reasons' JSON text).
UNIT_SEPARATOR = "\x1f"
_BOOLEAN = {"is_accessory"}


def _rendered(fields: tuple[str, ...], style: str) -> str:
    if style == "text":
        values = [
            f"CASE ({EXPORT_VALUES[f]}) WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE '' END"
            if f in _BOOLEAN
            else f"ifnull({EXPORT_VALUES[f]}, '')"
            for f in fields
        ]
        return f" || '{UNIT_SEPARATOR}' || ".join(values)
    values = [
        f"CASE ({EXPORT_VALUES[f]}) WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE 'null' END"
        if f in _BOOLEAN
        else f"json_quote({EXPORT_VALUES[f]})"
        for f in fields
    ]
    names = [("" if i == 0 else ", ") + f'"{f}": ' for i, f in enumerate(fields)]
    return " || ".join(f"'{name}' || {value}" for name, value in zip(names, values, strict=True))


def export_pieces_sql(pieces: tuple, style: str) -> str:
    """The one-pass export statement: each piece a field selected as its value, or a tuple of
    fields rendered as one text in `style` ("text" or "json")."""
    columns = [
        _rendered(piece, style) if isinstance(piece, tuple) else EXPORT_VALUES[piece]
        for piece in pieces
    ]
    return EXPORT_SELLERS_CTE + "SELECT " + ",\n       ".join(columns) + EXPORT_FROM


ALL_IDS = (-(1 << 63), (1 << 63) - 1)  # a closed range of ids that holds every one


class ReportRows:
    """Mixin of Store: rows for reports that cover every listing, streamed."""

    db: sqlite_utils.Database

    def title_readings(
        self, judged_with: str, ids: tuple[int, int] = ALL_IDS, *, trust: bool = False
    ) -> Iterator[tuple]:
        """(TITLE_READING_COLUMNS) of every listing with a title (or those with ids in the
        closed range `ids`), oldest first, one row at a time, nothing held. With `trust` (the
        caller knows the last detection read titles with `judged_with`), `trusted` is 1 for a
        listing no change has queued since (its kept reading is for its facts as they are) and
        its key text is not made; every other listing's kept reading comes with the text of
        its reading key for the fingerprints `judged_with`."""
        first, last = ids
        params = {"judged_with": judged_with, "first": first, "last": last, "trust": trust}
        yield from self.db.execute(TITLE_READINGS_SQL, params)

    def export_listing_rows(
        self, first_id: int = -(1 << 63), last_id: int = (1 << 63) - 1
    ) -> Iterator[dict]:
        """Every listing (or those with ids in [first_id, last_id]) in its latest state with
        its current judgement (the export contract), streamed: the columns it writes only (not
        a listing's description), flags and reasons decoded once per distinct text (they repeat
        from listing to listing: the lists are shared, the export copies them)."""
        cursor = self.db.execute(EXPORT_LISTINGS_SQL, [first_id, last_id])
        columns = [column[0] for column in cursor.description]
        for values in cursor:
            row = dict(zip(columns, values, strict=True))
            for key in ("flags", "reasons"):
                if isinstance(row[key], str):
                    row[key] = _json_list(row[key])
            yield row

    def export_listing_pieces(
        self,
        pieces: tuple,
        style: str,
        currency_layer: Callable[[str], str | None],
        ids: tuple[int, int] = ALL_IDS,
    ) -> Iterator[list[tuple]]:
        """Every listing (or those with ids in the closed range `ids`) in id order as `pieces`
        (see `export_pieces_sql`), in batches of `EXPORT_BATCH` rows;
        `currency_layer(field_sources)` names the layer a listing's currency came from when it
        has no `currency_source`."""
        self.db.conn.create_function(
            "grayhound_currency_layer", 1, currency_layer, deterministic=True
        )
        first_id, last_id = ids
        cursor = self.db.conn.execute(
            export_pieces_sql(pieces, style), {"first_id": first_id, "last_id": last_id}
        )
        while batch := cursor.fetchmany(EXPORT_BATCH):
            yield batch


EXPORT_BATCH = 1024


def listing_id_span(db: sqlite_utils.Database) -> tuple[int, int] | None:
    """The smallest and largest listing id (two searches of the primary key), None when the
    store holds no listing."""
    first, last = db.execute(
        "SELECT (SELECT MIN(id) FROM listings), (SELECT MAX(id) FROM listings)"
    ).fetchone()
    return None if first is None else (first, last)


@lru_cache(maxsize=1 << 12)  # bounded: memory stays flat
def _json_list(text: str) -> list:
    return json.loads(text)
