"""`grayhound export listings`: every listing in its latest state, in the contract's fields."""

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
    "model_reason",
    "currency_source",
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


def write_listings(rows: Iterable[dict], fmt: str, stream: IO[str]) -> int:
    records = (listing_record(r) for r in rows)
    if fmt == "csv":
        return write_csv(records, LISTING_FIELDS, stream)
    return write_jsonl(records, LISTING_FIELDS, stream)
