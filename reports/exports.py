"""`grayhound export listings` and `grayhound export sellers`: every listing (every seller) in
its latest state, in the contract's fields."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO

from reports.tabular import write_csv, write_jsonl

LISTING_FIELDS = (
    "id",
    "url",
    "canonical_url",
    "source",
    "title",
    "price",
    "currency",
    "condition",
    "is_accessory",
    "model",
    "msrp",
    "seller",
    "seller_domain",
    "first_seen",
    "last_seen",
    "flags",
    "risk",
    "reasons",
    "seller_id",
    "seller_verdict",
    "seller_risk",
    "network_id",
    "model_reason",
    "currency_source",
)
SELLER_FIELDS = (
    "id",
    "source",
    "name",
    "aliases",
    "profile_urls",
    "claimed_domains",
    "verdict",
    "risk",
    "reasons",
    "listings",
    "flag_counts",
    "network_id",
    "first_seen",
    "last_seen",
    "domain",
    "identifiers",
)


def listing_record(row: dict) -> dict:
    """One export record from a store row (listing + seller + current finding)."""
    judged = row.get("verdict") is not None
    condition = row.get("condition") or "unknown"
    if judged and condition == "unknown" and row.get("judged_condition"):
        condition = row["judged_condition"]
    return {
        "id": row["id"],
        "url": row["url"],
        "canonical_url": row["canonical_url"],
        "source": row["source"],
        "title": row.get("title"),
        "price": row.get("price"),
        "currency": row.get("currency"),
        "condition": condition,
        "is_accessory": bool(row["is_accessory"]) if judged else None,
        "model": row.get("model"),
        "msrp": row.get("msrp"),
        "seller": row.get("seller_name"),
        "seller_domain": row.get("seller_domain"),
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "flags": list(row.get("flags") or []),
        "risk": row.get("risk"),
        "reasons": list(row.get("reasons") or []),
        "model_reason": row.get("model_reason") if judged else None,
        "currency_source": row.get("currency_source") or _currency_layer(row),
        "seller_id": row.get("seller_id"),
        "seller_verdict": row.get("seller_verdict"),
        "seller_risk": row.get("seller_risk"),
        "network_id": row.get("network_id"),
    }


def _currency_layer(row: dict) -> str | None:
    """For listings stored before currency_source was kept: the extraction layer it came from."""
    if not row.get("currency"):
        return None
    try:
        layer = json.loads(row.get("field_sources") or "{}").get("currency")
    except (TypeError, ValueError):
        return None
    return f"{layer} layer" if layer else None


def seller_record(row: dict, fmt: str = "jsonl") -> dict:
    """One `export sellers` record from `Store.seller_rows()`. In CSV, `flag_counts` reads
    `price_low=2;unauthorized_seller=3` and each identifier `kind=value (via)`."""
    record = {
        "id": row["id"],
        "source": row["source"],
        "name": row["name"],
        "aliases": [n for n in row["names"] if _folded(n) != _folded(row["name"])],
        "profile_urls": row["profile_urls"],
        "claimed_domains": row["claimed_domains"],
        "verdict": row.get("verdict"),
        "risk": row.get("risk"),
        "reasons": row.get("reasons") or [],
        "listings": row["listings"],
        "flag_counts": row["flag_counts"],
        "network_id": row.get("network_id"),
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "domain": row.get("domain"),
        "identifiers": row["identifiers"],
    }
    if fmt == "csv":
        record["flag_counts"] = [f"{k}={v}" for k, v in record["flag_counts"].items()]
        record["identifiers"] = [
            f"{i['kind']}={i['raw']} ({i['via']})" for i in record["identifiers"]
        ]
    return record


def _folded(name: str | None) -> str:
    return " ".join((name or "").casefold().split())


def write_sellers(rows: Iterable[dict], fmt: str, stream: IO[str]) -> int:
    records = (seller_record(r, fmt) for r in rows)
    if fmt == "csv":
        return write_csv(records, SELLER_FIELDS, stream)
    return write_jsonl(records, SELLER_FIELDS, stream)


def write_listings(rows: Iterable[dict], fmt: str, stream: IO[str]) -> int:
    records = (listing_record(r) for r in rows)
    if fmt == "csv":
        return write_csv(records, LISTING_FIELDS, stream)
    return write_jsonl(records, LISTING_FIELDS, stream)
