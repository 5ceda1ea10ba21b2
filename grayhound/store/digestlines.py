"""The digest's JSON items and CSV rows as text made by SQLite (issue 19, round 5).

A digest in JSON or CSV lists every shown case (730,000 at a million listings). Built as a
Python dict per case and encoded, each took ~90 µs; here one statement over the case book
(the same join as `ITEM_ROW`, in the same order) renders each case's text in pieces, and
Python only fills the slots whose text SQLite cannot write as Python does: floats (Python's
`repr`, not SQLite's), the flags, reasons and changes lists (re-indented, sorted, `;`-joined;
they repeat from case to case and are rendered once per distinct text) and the price
sentence (`format_money`). Strings are written by `json_quote`, which escapes every character
exactly as `json` does with `ensure_ascii=False` (tests/reports/digest/test_lines.py checks
every code point). CSV cells come unquoted, joined by the unit separator: the caller quotes
the few that need it as Python's csv module does, and writes a line whose cells might need
neutralising as a formula from the Python item instead."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, partial

import sqlite_utils

from grayhound.store import digestbook
from grayhound.store.digestcases import ITEM_ROW, begin_read, database_file, read_only_uri

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
# A part of a group: the cases from `lower` (a risk key, included) to `upper` (excluded), None
# an open end; a risk key is a book row's (sev, nscore, rkey, case_id), unique by its case.
Span = tuple[tuple | None, tuple | None]
WHOLE: Span = (None, None)
KEY_COLUMNS = ("sev", "nscore", "rkey", "case_id")
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
    at indentation `pad`: the Python columns, then six pieces of UTF-8 text (bytes); a slot
    between each."""
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
    return _statement(pieces, blob=True)


def csv_row_sql() -> str:
    """The statement rendering the book's cases of one group (`:grp`, `:group_name`) as CSV
    pieces: cells joined by the unit separator, nothing as an empty cell, none quoted (the
    caller quotes the cells of a row that holds a character to quote, `quoted_cells`: testing
    each cell here took a third of the statement's time)."""

    def cell(value: str) -> str:
        return f"ifnull({value}, '')"

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
        f"CAST({cell('r.msrp_currency')} AS TEXT)",  # price ratio (text, as a join's)
        cells(cell("r.model"), cell("r.url"), cell("r.first_seen"), cell("r.last_seen")),
        cells(cell(capture), cell("r.fingerprint")),  # after the reasons and changes
    ]  # fmt: skip
    return _statement(pieces)


def _statement(pieces: list[str], blob: bool = False) -> str:
    """The statement of the Python columns and `pieces`, each piece's text as its UTF-8 bytes
    where `blob` (Python then neither decodes it nor encodes it again: the JSON items)."""
    columns = ",\n".join(f"CAST(({piece}) AS BLOB)" if blob else f"({piece})" for piece in pieces)
    return (
        f"SELECT {PYTHON_COLUMNS},\n{columns}\n"
        f"FROM ({ORDERED_ROW} WHERE dc.grp = :grp{{bounds}}) r ORDER BY {ORDER}"
    )


def _bounded(sql: str, span: Span) -> str:
    """`sql` reading only the cases of `span`: a range of the risk index (row values, which
    SQLite seeks in the index: tests/grayhound/test_query_plans.py)."""
    key = "(" + ", ".join(f"dc.{column}" for column in KEY_COLUMNS) + ")"
    bounds = ""
    for end, (name, operator) in zip(span, (("lo", ">="), ("hi", "<")), strict=True):
        if end is not None:
            marks = ", ".join(f":{name}_{column}" for column in KEY_COLUMNS)
            bounds += f" AND {key} {operator} ({marks})"
    return sql.replace("{bounds}", bounds)


@cache
def _json_sql(pad: str, bounded: tuple[bool, bool]) -> str:
    return _bounded(json_item_sql(pad), _ends(bounded))


@cache
def _csv_sql(bounded: tuple[bool, bool]) -> str:
    return _bounded(csv_row_sql(), _ends(bounded))


def _ends(bounded: tuple[bool, bool]) -> Span:
    return tuple(() if end else None for end in bounded)  # type: ignore[return-value]


def json_item_pieces(
    book, group: int, name: str, pad: str, span: Span = WHOLE
) -> Iterator[list[tuple]]:
    """The cases of `group` (its number; `name`, as the items say it) in `span`, riskiest
    first, as `json_item_sql` pieces, in batches."""
    sql = _json_sql(pad, tuple(end is not None for end in span))
    return _batches(book, sql, group, name, span)


def csv_row_pieces(book, group: int, name: str, span: Span = WHOLE) -> Iterator[list[tuple]]:
    """The cases of `group` (`name`) in `span`, riskiest first, as `csv_row_sql` pieces, in
    batches."""
    sql = _csv_sql(tuple(end is not None for end in span))
    return _batches(book, sql, group, name, span)


def _batches(book, sql: str, group: int, name: str, span: Span) -> Iterator[list[tuple]]:
    book._in_order()  # the (grp, risk) index of a private book, made once
    params = {"grp": group, "group_name": name}
    for end, prefix in zip(span, ("lo", "hi"), strict=True):
        if end is not None:
            params.update(zip((f"{prefix}_{column}" for column in KEY_COLUMNS), end, strict=True))
    cursor = book.execute(sql, params)
    while rows := cursor.fetchmany(BATCH):
        yield rows


def risk_key_at(book, group: int, offset: int) -> tuple | None:
    """The risk key of the case at `offset` (from 0) in `group`'s risk order, read from the
    risk index (no row read): where a part of the digest's cases begins. None past the end."""
    book._in_order()
    sql = (
        f"SELECT {', '.join(KEY_COLUMNS)} FROM cases_now WHERE grp = ?"
        f" ORDER BY {', '.join(KEY_COLUMNS)} LIMIT 1 OFFSET ?"
    )
    row = book.execute(sql, [group, offset]).fetchone()
    return None if row is None else tuple(row)


def part_book(path: str, functions: dict[str, Callable]) -> digestbook.StoredBook:
    """The store's kept book read by a worker process through connections of its own
    (read-only), for the spans it writes; see `Pinned` for why it reads what the parent does."""
    db = sqlite_utils.Database(
        sqlite3.connect(read_only_uri(path), uri=True), execute_plugins=False
    )
    book = digestbook.StoredBook(db, functions)
    db.conn.close()  # the book reads through its own reader; nothing is written
    begin_read(book.conn)
    return book


class Pinned:
    """The kept book's reader (`StoredBook.conn`) holding the newest snapshot of the store,
    and a way to tell later that it still is: then connections opened meanwhile (worker
    processes writing parts of the digest) read the same book, listings and captures.

    Pinning takes the store's write lock, begins the reader's snapshot again (right after
    the book's decision, before anything of it is read) and notes its own connection's
    `data_version`; `hold()` takes the lock again and compares: any commit by another
    connection in between (a detection, a crawl, another digest's fill) changes it, and
    the digest is then written by this process alone, from its snapshot, from there on.
    The lock is never waited for (a writer holding it is about to commit), and it is held
    only until the workers have begun their reads (`release`). A digest to be recorded is
    not pinned: its record commits before it is written."""

    def __init__(self, book: digestbook.StoredBook, functions: dict[str, Callable]):
        self.path = database_file(book.conn)
        self.functions = functions  # what a worker's own book registers, as this one did
        self.sentinel = sqlite3.connect(
            self.path, timeout=0, isolation_level=None, check_same_thread=False
        )
        self.version = None
        with _write_lock(self.sentinel) as locked:
            if locked:
                begin_read(book.conn)
                self.version = self._version()

    def _version(self) -> int:
        return self.sentinel.execute("PRAGMA data_version").fetchone()[0]

    def hold(self) -> bool:
        """Take the write lock if the store is still the pinned snapshot (nothing committed
        since by another connection); whether it was taken. Once not, never again."""
        if self.version is None:
            return False
        try:
            self.sentinel.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # busy: another connection writes
            self.version = None
            return False
        if self._version() != self.version:
            self.release()
            self.version = None
            return False
        return True

    def release(self) -> None:
        """Let writers commit again (nothing if the lock is not held)."""
        if self.sentinel.in_transaction:
            self.sentinel.execute("ROLLBACK")

    def close(self) -> None:
        self.sentinel.close()


@contextmanager
def _write_lock(connection: sqlite3.Connection) -> Iterator[bool]:
    """The store's write lock if no other connection holds it (yields whether it got it)."""
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:  # busy: another connection writes
        yield False
        return
    try:
        yield True
    finally:
        connection.execute("ROLLBACK")
