"""`grayhound export listings` and `grayhound export sellers`: every listing (every seller) in
its latest state, in the contract's fields."""

from __future__ import annotations

import functools
import io
import json
import os
from collections.abc import Iterable
from typing import IO

from reports.parallel import listing_ranges, part_store, worker_count, write_parts
from reports.tabular import (
    csv_quoted,
    formula_risk,
    needs_quotes,
    quoted_cells,
    write_csv,
    write_jsonl,
)

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


# `export listings` in one pass (issue 19, round 3): SQLite renders the text of each line in
# these pieces (`Store.export_listing_pieces`); Python adds the floats (their text is Python's,
# not SQLite's), the flags and reasons (decoded once per distinct JSON text) and, in CSV, quotes
# the few cells that need it. A batch of CSV lines in which a cell might need neutralising
# (`formula_risk`) is written again from `listing_record` cell by cell, as before: the output
# is the same bytes as `write_listings` in every case.
LISTING_PIECES = (
    ("id", "url", "canonical_url", "source", "title", "price", "currency", "condition",
     "is_accessory", "model"),
    "msrp",
    ("seller", "seller_domain", "first_seen", "last_seen"),
    "flags",
    "risk",
    "reasons",
    ("seller_id", "seller_verdict"),
    "seller_risk",
    ("network_id", "model_reason", "currency_source"),
)  # fmt: skip
_US = "\x1f"  # the unit separator SQLite puts between the cells of a text piece
_CSV_SEPARATORS = len(LISTING_FIELDS) - 1
_CACHED = 1 << 16  # distinct flags, reasons and floats remembered (memory stays flat)


def export_listings(store, fmt: str, stream: IO[str]) -> int:
    """Write every listing of `store` as `write_listings` writes `store.export_listing_rows()`,
    in CSV or JSON lines; returns the number of listings. A large store is written in ranges
    of listing ids on every CPU (`reports.parallel`), the same bytes."""
    workers = worker_count()  # a bad GRAYHOUND_WORKERS is named before a line is written
    if fmt == "csv":
        stream.write(",".join(LISTING_FIELDS) + "\n")
    with store.shared_snapshot() as snapshot:  # every part reads the store as it is now
        parts = listing_ranges(store, snapshot.shared, workers)
        if not parts:
            return 0
        write = functools.partial(_write_id_range, fmt, store, os.getpid())
        return sum(write_parts(stream, parts, write, started=snapshot.release))


def _write_id_range(fmt: str, store, parent: int, ids: tuple[int, int], stream: IO[str]) -> int:
    """One range of listing ids, written as the whole export writes it. In a forked worker
    (not the `parent` process) the parent's connection is left alone: the range is read
    through a connection of its own."""
    with part_store(store, parent) as reader:
        return _write_pieces(fmt, reader, ids, stream)


def _write_pieces(fmt: str, store, ids: tuple[int, int], stream: IO[str]) -> int:
    layer = _cached(lambda sources: _currency_layer({"currency": True, "field_sources": sources}))
    style = "text" if fmt == "csv" else "json"
    batches = store.export_listing_pieces(LISTING_PIECES, style, layer, ids)
    if fmt == "csv":
        return sum(_write_csv_batch(store, batch, stream) for batch in batches)
    return sum(_write_jsonl_batch(batch, stream) for batch in batches)


def _write_csv_batch(store, batch: list[tuple], stream: IO[str]) -> int:
    lines = []
    for first, msrp, seller, flags, risk, reasons, seller_ids, seller_risk, last in batch:
        # the cells SQLite joined are quoted here when one needs it; the flags and reasons
        # come quoted from their cache, and the floats never need it
        if needs_quotes(first + seller + seller_ids + last):
            first, seller, seller_ids, last = (
                quoted_cells(piece, _US) for piece in (first, seller, seller_ids, last)
            )
        lines.append(
            f"{first}{_US}{_CSV_FLOATS(msrp)}{_US}{seller}{_US}{_CSV_LISTS(flags)}{_US}"
            f"{_CSV_FLOATS(risk)}{_US}{_CSV_LISTS(reasons)}{_US}{seller_ids}{_US}"
            f"{_CSV_FLOATS(seller_risk)}{_US}{last}"
        )
    lines.append("")
    text = "\n".join(lines)
    if text.count(_US) == _CSV_SEPARATORS * len(batch) and not formula_risk(text):
        stream.write(text.replace(_US, ","))
    else:  # a cell to neutralise, or a unit separator in the data: cell by cell, as before
        first_id, last_id = (int(row[0].split(_US, 1)[0]) for row in (batch[0], batch[-1]))
        records = (listing_record(r) for r in store.export_listing_rows(first_id, last_id))
        buffer = io.StringIO()
        write_csv(records, LISTING_FIELDS, buffer, header=False)
        stream.write(buffer.getvalue())
    return len(batch)


def _write_jsonl_batch(batch: list[tuple], stream: IO[str]) -> int:
    stream.write(
        "".join(
            [
                f'{{{first}, "msrp": {_JSON_VALUES(msrp)}, {seller}, '
                f'"flags": {_JSON_LISTS(flags)}, "risk": {_JSON_VALUES(risk)}, '
                f'"reasons": {_JSON_LISTS(reasons)}, {seller_ids}, '
                f'"seller_risk": {_JSON_VALUES(seller_risk)}, {last}}}\n'
                for first, msrp, seller, flags, risk, reasons, seller_ids, seller_risk, last in batch
            ]
        )
    )
    return len(batch)


def _cached(render):
    """`render`, remembered per distinct value (a bounded dict: the few flags and floats and
    the reasons that repeat cost one lookup)."""
    memory: dict = {}

    def cached(value):
        try:
            return memory[value]
        except KeyError:
            if len(memory) >= _CACHED:
                memory.clear()
            text = memory[value] = render(value)
            return text

    return cached


def _joined(text: str | None) -> list:
    """A flags or reasons column as `listing_record` reads it: its JSON list, or []."""
    return list((json.loads(text) if isinstance(text, str) else text) or [])


_JSON = json.JSONEncoder(ensure_ascii=False)  # as `write_jsonl` writes a value
_CSV_FLOATS = _cached(lambda value: "" if value is None else str(value))
_CSV_LISTS = _cached(lambda text: csv_quoted(";".join(str(v) for v in _joined(text))))
_JSON_VALUES = _cached(_JSON.encode)
_JSON_LISTS = _cached(lambda text: _JSON.encode(_joined(text)))
