"""The digest's JSON items and CSV rows from the text SQLite renders (`store.digestlines`):
Python fills the slots SQLite cannot write as Python does, each rendered once per distinct
value, and writes again from the Python item a CSV line in which a cell might need
neutralising as a formula. The bytes are those of `jsontext.encoded(item)` and `write_csv`
(tests/reports/digest/test_lines.py compares them case by case on hostile text)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring
from typing import IO

from grayhound.store import digestlines
from grayhound.store.digestlines import WHOLE, Span
from reports.currency import format_money
from reports.digest.build import GROUPS, price_sentence, ratio_of
from reports.digest.jsontext import encoded
from reports.tabular import (
    cell_writer,
    csv_quoted,
    formula_risk,
    needs_quotes,
    quoted_cells,
    write_csv,
)

INDENT = "  "
REMEMBERED = 1 << 12  # distinct values remembered per slot (memory stays flat)
# the reasons' slot: at 1M, 153,351 distinct reasons lists over 774,188 cases in risk order;
# remembering 4,096 of them missed 482,934 times, 16,384 miss 176,747 (~10 MiB of text)
REASONS_REMEMBERED = 1 << 14
_US = digestlines.UNIT_SEPARATOR


class _Memo(dict):
    """`render(key)` per distinct key, remembered (at most `kept`): a hit is one dict lookup
    in C."""

    def __init__(self, render: Callable, kept: int = REMEMBERED):
        super().__init__()
        self.render, self.kept = render, kept

    def __missing__(self, key):
        if len(self) >= self.kept:
            self.clear()
        text = self[key] = self.render(key)
        return text


def _number(memo: _Memo, value) -> str:
    """A float's (or None's) text through `memo`, but a zero's made each time: 0.0 and -0.0
    are one key of a dict, and Python writes them apart."""
    return memo[value] if value or value is None else memo.render(value)


def _decoded(text: str | None) -> list:
    """A flags or reasons column as the book's rows read it (`CaseBook.rows`)."""
    return list(json.loads(text or "[]"))


_MONEY = _Memo(lambda key: format_money(float(key[0]), key[1]))  # (amount, currency)


def _money(amount, currency) -> str:
    return _MONEY[amount, currency]


def json_items(
    book, group: int, pad: str, span: Span = WHOLE, *, first: bool = True
) -> Iterator[str]:
    """The JSON text of every case of `group` (its number) in `span` at indentation `pad`,
    riskiest first, in pieces: the items joined by `,\\n` and `pad`, as `jsontext.chunks`
    joins them (a part after the `first` starts with that separator too)."""
    for piece in json_item_bytes(book, group, pad, span, first=first):
        yield piece.decode()


def json_item_bytes(
    book, group: int, pad: str, span: Span = WHOLE, *, first: bool = True
) -> Iterator[bytes]:
    """`json_items` as UTF-8 bytes, for a file that takes them as they are (`parts`): the
    pieces SQLite renders are read as bytes and the slots Python fills encoded once per
    distinct value, so the text of the items is never decoded and encoded again (issue 19,
    round 34: a tenth of the JSON digest's CPU at 1,000,000 listings)."""
    inner, deeper = pad + INDENT, pad + INDENT + INDENT
    flags = _Memo(lambda text: encoded(_decoded(text), inner).encode())
    evidence_flags = _Memo(lambda text: encoded(sorted(_decoded(text)), deeper).encode())
    reasons = _Memo(lambda text: encoded(_decoded(text), inner).encode(), REASONS_REMEMBERED)
    score = _Memo(lambda value: encoded(round(value or 0.0, 4)).encode())
    number = _Memo(lambda value: encoded(value).encode())  # floats (msrp, ratio) and None
    price_key = f',\n{inner}"price_text": '.encode()
    reasons_key, score_key = f',\n{inner}"reasons": '.encode(), f',\n{inner}"score": '.encode()
    separator = (",\n" + pad).encode()
    for batch in digestlines.json_item_pieces(book, group, GROUPS[group], pad, span):
        items = []
        for row in batch:
            (_, kind, flag_text, reason_text, changes, risk, msrp, price_ratio, price, currency,
             msrp_currency, p0, p1, p2, p3, p4, p5) = row  # fmt: skip
            ratio = ratio_of(price_ratio, msrp, price, currency, msrp_currency)
            sentence = b"null"
            if kind == "listing":
                sentence = encode_basestring(
                    price_sentence(price, currency, msrp, msrp_currency, ratio, _money)
                ).encode()
            change_list = b"[]" if not changes else encoded(json.loads(changes), inner).encode()
            item = (
                p0, change_list, p1, evidence_flags[flag_text], p2, flags[flag_text], p3,
                _number(number, msrp), p4, _number(number, ratio), price_key, sentence,
                reasons_key, reasons[reason_text], score_key, score[risk], p5,
            )  # fmt: skip
            items.append(b"".join(item))
        if not first:
            yield separator
        yield separator.join(items)
        first = False


def write_csv_rows(
    book, group: int, stream: IO[str], python_row: Callable[[int], dict], span: Span = WHOLE
) -> int:
    """Write every case of `group` in `span` as `write_csv` writes its item (no header); a line in which
    a cell might need neutralising, or holding a unit separator, is written from
    `python_row(case_id)` (the item with its capture reference), as before."""
    cell = cell_writer()
    listed = _Memo(lambda text: csv_quoted(cell(_decoded(text))), REASONS_REMEMBERED)
    value = _Memo(lambda value: csv_quoted(cell(value)))  # floats (msrp, ratio) and None
    score = _Memo(lambda value: csv_quoted(cell(round(value or 0.0, 4))))
    cells = len(CSV_FIELD_ORDER) - 1  # unit separators in a line
    written = 0
    for batch in digestlines.csv_row_pieces(book, group, GROUPS[group], span):
        lines = []
        for row in batch:
            (_, _, flag_text, reason_text, changes, risk, msrp, price_ratio, price, currency,
             msrp_currency, c0, c1, c2, c3, c4, c5) = row  # fmt: skip
            if needs_quotes(c0 + c1 + c2 + c3 + c4 + c5):  # SQLite's cells come unquoted
                c0, c1, c2, c3, c4, c5 = (quoted_cells(c, _US) for c in (c0, c1, c2, c3, c4, c5))
            ratio = ratio_of(price_ratio, msrp, price, currency, msrp_currency)
            changed = csv_quoted(cell(json.loads(changes))) if changes else ""
            lines.append(
                f"{c0}{_US}{score[risk]}{_US}{c1}{_US}{listed[flag_text]}{_US}{c2}{_US}"
                f"{_number(value, msrp)}{_US}{c3}{_US}{_number(value, ratio)}{_US}{c4}{_US}"
                f"{listed[reason_text]}{_US}{changed}{_US}{c5}\n"
            )
        text = "".join(lines)
        if text.count(_US) == cells * len(lines) and not formula_risk(text):
            stream.write(text.replace(_US, ","))
        else:
            stream.write(_checked(batch, lines, cells, python_row))
        written += len(lines)
    return written


def _checked(batch: list[tuple], lines: list[str], cells: int, python_row) -> str:
    """A batch line by line: a line that might need neutralising from the Python item."""
    out = []
    for row, line in zip(batch, lines, strict=True):
        if line.count(_US) == cells and not formula_risk(line):
            out.append(line.replace(_US, ","))
        else:
            buffer = io.StringIO()
            write_csv([python_row(row[0])], CSV_FIELD_ORDER, buffer, header=False)
            out.append(buffer.getvalue())
    return "".join(out)


def capture_ref(item) -> str | None:
    """A CSV item's capture cell: its WARC file, offset and payload digest."""
    capture = item.get("capture")
    if not capture:
        return None
    return f"{capture['warc_file']}#{capture['offset']} sha256:{capture['sha256']}"


# reports.digest.render.CSV_FIELDS, the order of the pieces and slots above
CSV_FIELD_ORDER = (
    "case_id", "group", "state", "severity", "verdict", "score", "kind", "brand", "flags",
    "title", "seller", "seller_domain", "source", "price", "currency", "msrp", "msrp_currency",
    "price_ratio", "model", "url", "first_seen", "last_seen", "reasons", "changes", "capture",
    "fingerprint",
)  # fmt: skip
