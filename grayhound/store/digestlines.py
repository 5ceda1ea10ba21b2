"""The digest's JSON items and CSV rows as text made by SQLite (issue 19, round 5).

A digest in JSON or CSV lists every shown case (730,000 at a million listings). Built as a
Python dict per case and encoded, each took ~90 µs; here one statement over the case book
(the same join as `ITEM_ROW`, in the same order) renders each case's text in pieces, and
Python only fills the slots whose text SQLite cannot write as Python does: floats (Python's
`repr`, not SQLite's), the flags, reasons and changes lists (re-indented, sorted, `;`-joined;
they repeat from case to case and are rendered once per distinct text) and the price
sentence (`format_money`). Strings are written by `json_quote`, which escapes every character
exactly as `json` does with `ensure_ascii=False` (tests/reports/digest/test_lines.py checks
every code point); CSV cells are quoted as Python's csv module quotes them, and the caller
writes a line whose cells might need neutralising as a formula from the Python item instead."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, partial

from grayhound.store import digestbook
from grayhound.store.digestcases import ITEM_ROW

# `ITEM_ROW` with the case's risk order, read by the outer statement's ORDER BY (the book's
# (grp, sev, nscore, rkey, case_id) index: no sort)
ORDERED_ROW = ITEM_ROW.replace(
    "SELECT dc.case_id,",
    "SELECT dc.sev AS risk_sev, dc.nscore AS risk_nscore, dc.rkey AS risk_rkey, dc.case_id,",
    1,
)
assert ORDERED_ROW != ITEM_ROW, "ITEM_ROW no longer starts as digestlines expects"
ORDER = "r.grp, r.risk_sev, r.risk_nscore, r.risk_rkey, r.case_id"
# what Python renders, first in every row: the slots' inputs
PYTHON_COLUMNS = (
    "r.case_id, r.subject_kind, r.flags, r.reasons, r.changes, r.score, r.msrp, r.price_ratio,"
    " r.price, r.currency, r.msrp_currency"
)
LISTING = "r.subject_kind = 'listing'"
SEVERITY = """CASE WHEN r.verdict = 'impersonation' THEN '{0}critical{0}'
    WHEN r.verdict = 'suspicious' OR COALESCE(r.score, 0) >= 0.5 THEN '{0}high{0}'
    ELSE '{0}watch{0}' END"""
BATCH = 250  # rows rendered and written at a time (~0.8 MB of JSON): all a pass holds
UNIT_SEPARATOR = "\x1f"  # between the cells of a CSV piece (see reports.tabular.formula_risk)


def cover_lines(db) -> None:
    """Migration 0016_lines_risk_index: the kept book's risk index made again as
    `digestbook.RISK_INDEX` (same name, same order), holding what the lines read of a row."""
    db.execute("DROP INDEX IF EXISTS digest_book_risk")
    db.execute(f"CREATE INDEX digest_book_risk ON digest_book ({digestbook.RISK_INDEX})")


def literal(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _joined(*parts: str) -> str:
    return "\n || ".join(parts)


def _json_field(pad: str, key: str, value: str, first: bool = False) -> str:
    """`,\\n<pad>"key": ` and the SQL of the value's JSON text."""
    return literal(("" if first else ",\n") + pad + f'"{key}": ') + " || " + value


def _quoted(column: str) -> str:
    return f"json_quote({column})"


def json_item_sql(pad: str) -> str:
    """The statement rendering the book's cases of one group (`:grp`, its number; `:group_name`) as JSON items
    at indentation `pad`: the Python columns, then six text pieces; a slot between each."""
    inner, deeper = pad + "  ", pad + "    "
    field = partial(_json_field, inner)
    capture_keys = (
        ("fetched_at", "capture_fetched_at"), ("length", "capture_length"),
        ("offset", "capture_offset"), ("sha256", "capture_sha256"), ("url", "capture_url"),
        ("warc_file", "capture_warc_file"),
    )  # fmt: skip
    capture = _joined(
        literal("{\n"),
        *(
            _json_field(deeper, key, _quoted(f"r.{column}"), first=number == 0)
            for number, (key, column) in enumerate(capture_keys)
        ),
        literal("\n" + inner + "}"),
    )
    pieces = [
        _joined(
            literal("{\n"),
            _json_field(inner, "brand", _quoted("r.brand"), first=True),
            field(
                "capture",
                f"CASE WHEN {LISTING} AND r.capture_id IS NOT NULL THEN {capture} ELSE 'null' END",
            ),
            field("case_id", _quoted("r.case_id")),
            literal(",\n" + inner + '"changes": '),
        ),  # changes
        _joined(
            field("currency", _quoted("r.currency")),
            literal(",\n" + inner + '"evidence": {\n' + deeper),
            f"CASE WHEN {LISTING} THEN"
            f" '\"currency\": ' || {_quoted('r.currency')} || {literal(',' + chr(10) + deeper)}"
            " ELSE '' END",
            literal('"flags": '),
        ),  # the evidence's flags, sorted
        _joined(
            f"CASE WHEN {LISTING} THEN "
            + _joined(
                _json_field(deeper, "price", _quoted("r.price")),
                _json_field(deeper, "seller_domain", _quoted("r.seller_domain")),
                _json_field(deeper, "seller_name", _quoted("r.seller_name")),
                _json_field(deeper, "title", _quoted("r.title")),
            )
            + " ELSE "
            + _joined(
                _json_field(deeper, "seller_domain", _quoted("r.seller_domain")),
                _json_field(deeper, "seller_name", _quoted("r.seller_name")),
            )
            + " END",
            _json_field(deeper, "verdict", _quoted("r.verdict")),
            literal("\n" + inner + "}"),
            field("finding_id", _quoted("r.id")),
            field("fingerprint", _quoted("r.fingerprint")),
            field("first_seen", _quoted("r.first_seen")),
            literal(",\n" + inner + '"flags": '),
        ),  # flags
        _joined(
            field("group", "json_quote(:group_name)"),
            field("kind", _quoted("r.subject_kind")),
            field("last_seen", _quoted("r.last_seen")),
            field("listing_count", _quoted("r.listing_count")),
            field("model", _quoted("r.model")),
            literal(",\n" + inner + '"msrp": '),
        ),  # msrp
        _joined(
            field("msrp_currency", _quoted("r.msrp_currency")),
            field("price", _quoted("r.price")),
            literal(",\n" + inner + '"price_ratio": '),
        ),  # price ratio, price text, reasons, score: Python's, keys and all
        _joined(
            field("seller", _quoted("COALESCE(NULLIF(r.seller_name, ''), r.subject)")),
            field("seller_domain", _quoted("r.seller_domain")),
            field("seller_id", _quoted("r.seller_id")),
            field("severity", SEVERITY.format('"')),
            field("source", _quoted("r.source")),
            field("state", _quoted("r.case_state")),
            field("subject_id", _quoted("r.subject_id")),
            field("title", _quoted(f"CASE WHEN {LISTING} THEN r.title END")),
            field("url", _quoted("r.url")),
            field("verdict", _quoted("r.verdict")),
            literal("\n" + pad + "}"),
        ),
    ]
    return _statement(pieces)


def csv_row_sql(quoted_by_csv: str) -> str:
    """The statement rendering the book's cases of one group (`:grp`, `:group_name`) as CSV pieces: cells joined
    by the unit separator, each quoted as the csv module quotes a cell holding one of
    `quoted_by_csv`; nothing is an empty cell."""

    def cell(value: str) -> str:
        text = f"ifnull({value}, '')"
        test = " OR ".join(f"instr({text}, char({ord(char)}))" for char in quoted_by_csv)
        return f"""CASE WHEN {test} THEN '"' || replace({text}, '"', '""') || '"' ELSE {text} END"""

    def cells(*values: str) -> str:
        return f" || '{UNIT_SEPARATOR}' || ".join(values)

    capture = f"""CASE WHEN {LISTING} AND r.capture_id IS NOT NULL THEN
        ifnull(r.capture_warc_file, 'None') || '#' || ifnull(r.capture_offset, 'None')
        || ' sha256:' || ifnull(r.capture_sha256, 'None') END"""
    pieces = [
        cells("r.case_id", ":group_name", cell("r.case_state"), SEVERITY.format(""),
              cell("r.verdict")),  # score
        cells(cell("r.subject_kind"), cell("r.brand")),  # flags
        cells(
            cell(f"CASE WHEN {LISTING} THEN r.title END"),
            cell("COALESCE(NULLIF(r.seller_name, ''), r.subject)"),
            cell("r.seller_domain"), cell("r.source"), cell("r.price"), cell("r.currency"),
        ),  # msrp
        cell("r.msrp_currency"),  # price ratio
        cells(cell("r.model"), cell("r.url"), cell("r.first_seen"), cell("r.last_seen")),
        cells(cell(capture), cell("r.fingerprint")),  # after the reasons and changes
    ]  # fmt: skip
    return _statement(pieces)


def _statement(pieces: list[str]) -> str:
    columns = ",\n".join(f"({piece})" for piece in pieces)
    return (
        f"SELECT {PYTHON_COLUMNS},\n{columns}\n"
        f"FROM ({ORDERED_ROW} WHERE dc.grp = :grp) r ORDER BY {ORDER}"
    )


@cache
def _json_sql(pad: str) -> str:
    return json_item_sql(pad)


@cache
def _csv_sql(quoted_by_csv: str) -> str:
    return csv_row_sql(quoted_by_csv)


def json_item_pieces(book, group: int, name: str, pad: str) -> Iterator[list[tuple]]:
    """The cases of `group` (its number; `name`, as the items say it), riskiest first, as
    `json_item_sql` pieces, in batches."""
    return _batches(book, _json_sql(pad), group, name)


def csv_row_pieces(book, group: int, name: str, quoted_by_csv: str) -> Iterator[list[tuple]]:
    """The cases of `group` (`name`), riskiest first, as `csv_row_sql` pieces, in batches."""
    return _batches(book, _csv_sql(quoted_by_csv), group, name)


def _batches(book, sql: str, group: int, name: str) -> Iterator[list[tuple]]:
    book._in_order()  # the (grp, risk) index of a private book, made once
    cursor = book.execute(sql, {"grp": group, "group_name": name})
    while rows := cursor.fetchmany(BATCH):
        yield rows
