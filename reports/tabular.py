"""Writing rows of hostile text safely: CSV cells that a spreadsheet would run as a formula are
neutralised, list fields are `;`-joined, JSON lines keep types."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import IO

# OWASP's CSV injection triggers, their full-width forms (East Asian spreadsheets read ＝ as =)
# and the whitespace controls some spreadsheets skip before one.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# A spreadsheet that splits on another separator (";" in much of Europe, tab, "|", a line
# break when quotes are ignored) starts a new cell after it: a trigger there is neutralised.
_AFTER_SEPARATOR = re.compile(r"([,;\t|\r\n])(?=[=+\-@＝＋－＠])")


def csv_cell(value) -> str:
    """A CSV-safe rendering of one value: a cell, or a part of it after a separator, that a
    spreadsheet would run as a formula gets a leading apostrophe (negative numbers stay)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    text = str(value)
    if _is_plain_number(text):
        return text
    text = _AFTER_SEPARATOR.sub(_quote_part, text)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _quote_part(match: re.Match) -> str:
    """A trigger after a separator gets an apostrophe ("a;=cmd" → "a;'=cmd"); a part that is a
    plain negative number ("1;-2") stays."""
    rest = match.string[match.end() :]
    number = re.match(r"-[0-9.]+(?=$|[,;\t|\r\n])", rest)
    return match.group(1) if number else match.group(1) + "'"


def _is_plain_number(text: str) -> bool:
    """Numbers ("-12.5") are data, not formulas."""
    return bool(_NUMBER.fullmatch(text))


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def write_csv(rows: Iterable[dict], fields: Sequence[str], stream: IO[str]) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(fields)
    cell = cell_writer()
    count = 0
    for row in rows:
        writer.writerow([cell(row.get(f)) for f in fields])
        count += 1
    return count


def cell_writer() -> Callable[[object], str]:
    """`csv_cell`, quicker for the cells a large export is made of (2.4 million at 100,000
    listings): nothing and whole numbers are written as they are, and text with no formula
    trigger at its start or after a separator is left as it is without the slower checks."""

    def cell(value) -> str:
        kind = type(value)
        if value is None:
            return ""
        if kind is int:
            return str(value)
        if kind is float:
            value, kind = str(value), str  # what csv_cell does first with a number
        if kind is str and not value.startswith(FORMULA_PREFIXES):
            if _AFTER_SEPARATOR.search(value) is None:
                return value
        return csv_cell(value)

    return cell


_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps(..., ensure_ascii=False), made once


def write_jsonl(rows: Iterable[dict], fields: Sequence[str], stream: IO[str]) -> int:
    count = 0
    for row in rows:
        stream.write(_JSON.encode({f: row.get(f) for f in fields}) + "\n")
        count += 1
    return count
