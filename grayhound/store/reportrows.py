"""Rows the whole-store reports read in one pass, as plain tuples: `grayhound catalog check`
over every stored title, with the reading the last detection kept of it (issue 19)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache

import sqlite_utils

# Every titled listing in id order, with what its title's reading depends on (the inputs of
# the detection's reading key) and the reading `grayhound detect` kept (None before one).
TITLE_READINGS_SQL = """
    SELECT l.id, l.title, l.condition, l.description, l.summary, l.brand, l.category,
           ls.reading_key, ls.reading
    FROM listings l LEFT JOIN listing_state ls ON ls.listing_id = l.id
    WHERE l.title IS NOT NULL AND l.title != ''
    ORDER BY l.id
"""
TITLE_READING_COLUMNS = (
    "id", "title", "condition", "description", "summary", "brand", "category",
    "reading_key", "reading",
)  # fmt: skip

# `grayhound export listings`: every listing in its latest state with its current judgement
# (the columns `reports.exports.listing_record` reads). The seller's name and domain are the
# listing's own, else its seller's (as detection and the digest read them). Until issue 19's
# second round the export selected `l.*` before that COALESCE and sqlite-utils 4 renamed the
# repeated column (`seller_domain_2`), so a listing that named no domain exported none.
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
    ORDER BY l.id
"""


class ReportRows:
    """Mixin of Store: rows for reports that cover every listing, streamed."""

    db: sqlite_utils.Database

    def title_readings(self) -> Iterator[tuple]:
        """(TITLE_READING_COLUMNS) of every listing with a title, oldest first: one row at a
        time, nothing held."""
        yield from self.db.execute(TITLE_READINGS_SQL)

    def export_listing_rows(self) -> Iterator[dict]:
        """Every listing in its latest state with its current judgement (the export contract), streamed: the columns it
        writes only (not a listing's description), flags and reasons decoded once per
        distinct text (they repeat from listing to listing: the lists are shared, the
        export copies them)."""
        cursor = self.db.execute(EXPORT_LISTINGS_SQL)
        columns = [column[0] for column in cursor.description]
        for values in cursor:
            row = dict(zip(columns, values, strict=True))
            for key in ("flags", "reasons"):
                if isinstance(row[key], str):
                    row[key] = _json_list(row[key])
            yield row


@lru_cache(maxsize=1 << 12)  # bounded: memory stays flat
def _json_list(text: str) -> list:
    return json.loads(text)
