"""Writing rows of hostile text safely: CSV cells that a spreadsheet would run as a formula are
neutralised, list fields are `;`-joined, JSON lines keep types."""

from __future__ import annotations

import csv
import io
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


def write_csv(
    rows: Iterable[dict], fields: Sequence[str], stream: IO[str], header: bool = True
) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    if header:
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


def _quoted_by_csv() -> str:
    """The characters that make Python's csv writer (as `write_csv` sets it up) quote a cell,
    asked of the csv module itself: "\r" joined them in later Pythons."""
    candidates = ',"\n\r\t;|'
    quoting = ""
    for char in candidates:
        stream = io.StringIO()
        csv.writer(stream, lineterminator="\n").writerow([f"a{char}b", ""])
        if stream.getvalue().startswith('"'):
            quoting += char
    return quoting


CSV_QUOTED = _quoted_by_csv()


def csv_quoted(cell: str) -> str:
    """One cell as `write_csv` writes it: in quotes, its quotes doubled, if it holds a
    delimiter, a quote or a line break; as it is otherwise."""
    for char in CSV_QUOTED:
        if char in cell:
            return '"' + cell.replace('"', '""') + '"'
    return cell


def needs_quotes(text: str) -> bool:
    """Whether any cell in `text` (one or more, joined) needs `csv_quoted`'s quotes."""
    for char in CSV_QUOTED:
        if char in text:
            return True
    return False


def quoted_cells(piece: str, separator: str) -> str:
    """The cells of `piece` (joined by `separator`) each quoted as `write_csv` quotes it
    (formulas are not neutralised here)."""
    if not needs_quotes(piece):
        return piece
    return separator.join([csv_quoted(cell) for cell in piece.split(separator)])


# What `formula_risk` looks for, byte by byte in UTF-8: 1 a cell or part boundary (separators,
# the CSV delimiter and quote, U+001F, a line break), 2 a formula trigger (its first byte: 0xEF
# leads the full-width ＝＋－＠), 3 a whitespace control or NUL anywhere.
_FORMULA_CLASSES = bytearray(256)
for _byte in b',;|"\n\x1f':
    _FORMULA_CLASSES[_byte] = 1
for _byte in b"=+-@\xef":
    _FORMULA_CLASSES[_byte] = 2
for _byte in b"\t\r\x00":
    _FORMULA_CLASSES[_byte] = 3
_FORMULA_CLASSES = bytes(_FORMULA_CLASSES)


def formula_risk(lines: str) -> bool:
    """Whether `csv_cell` might change a cell of these CSV lines (written unchanged): a formula
    trigger at the start of a cell or after a separator, a tab, CR or NUL anywhere, or a quoted
    cell that starts with a line break. False means no cell needs it; True is cautious (a plain
    negative number, a full-width letter after a comma), and the caller writes those lines
    cell by cell."""
    text = ("\n" + lines).encode("utf-8", "surrogatepass")
    classes = text.translate(_FORMULA_CLASSES)
    return (
        b"\x01\x02" in classes
        or b"\x03" in classes
        # a quote before a line break is rare: the three searches only when there is one
        or (b'"\n' in text and (b'\x1f"\n' in text or b',"\n' in text or b'\n"\n' in text))
    )
