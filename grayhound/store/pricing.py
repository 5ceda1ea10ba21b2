"""Price history for competitor pricing: every observation of a listing the detectors matched
to a catalog model, with the seller and the current judgement (model, accessory, condition,
the storage its title names, for the variant's MSRP)."""

from __future__ import annotations

from collections.abc import Iterator

import sqlite_utils

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


class PriceHistory:
    """Mixin of Store: the rows `reports.pricing.build` computes competitor pricing from."""

    db: sqlite_utils.Database

    def price_observations(self) -> Iterator[dict]:
        """One row per observation of each listing with a current model judgement.

        Text that repeats (a seller, a model, a currency; a listing's URL and title in each
        crawl run) is one shared string: 100,000 listings seen twice are 200,000 rows."""
        shared: dict[str, str] = {}
        previous: dict = {}
        for row in self.db.query(PRICE_OBSERVATIONS_SQL):
            for key in SHARED_TEXT:
                value = row[key]
                if isinstance(value, str):
                    row[key] = shared.setdefault(value, value)
            if previous.get("listing_id") == row["listing_id"]:
                for key in LISTING_TEXT:
                    if row[key] == previous[key]:
                        row[key] = previous[key]
            previous = row
            yield row
