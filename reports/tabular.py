"""Writing rows of hostile text safely: CSV cells that a spreadsheet would run as a formula are
neutralised, list fields are `;`-joined, JSON lines keep types."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import IO

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection triggers


def csv_cell(value) -> str:
    """A CSV-safe rendering of one value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES) and not _is_plain_number(text):
        return "'" + text
    return text


def _is_plain_number(text: str) -> bool:
    """Negative numbers ("-12.5") are data, not formulas."""
    try:
        float(text)
    except ValueError:
        return False
    return text[0] == "-" and "e" not in text.lower()


def write_csv(rows: Iterable[dict], fields: Sequence[str], stream: IO[str]) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(fields)
    count = 0
    for row in rows:
        writer.writerow([csv_cell(row.get(f)) for f in fields])
        count += 1
    return count


def write_jsonl(rows: Iterable[dict], fields: Sequence[str], stream: IO[str]) -> int:
    count = 0
    for row in rows:
        stream.write(json.dumps({f: row.get(f) for f in fields}, ensure_ascii=False) + "\n")
        count += 1
    return count
