"""`export listings` in one pass (SQLite renders the lines) writes the same bytes as the record
by record writer it replaced (`write_listings` over `Store.export_listing_rows()`), in CSV and
JSON lines, on hostile text: formulas at the start of a cell and after a separator, quotes,
line breaks, tabs, NUL, the unit separator, full-width triggers, non-ASCII, negative and odd
numbers, judged and unjudged listings, flags and reasons with escapes (issue 19)."""

from __future__ import annotations

import io
import json
import random

import pytest

from reports.exports import LISTING_FIELDS, LISTING_PIECES, export_listings, write_listings
from tests.reports.conftest import crawl_commits_first, parts_counted

HOSTILE = [
    "plain title", "=HYPERLINK(\"http://x\")", "+1", "-2", "-12.5", "@SUM(A1)", "\tx", "\rx",
    "\nx", "a;=b", "a,+b", "a|-b", "a\t@b", "a\n=b", '6.1" screen, "new"', "1;-2", "x\x1fy",
    "nul\x00here", "＝1+1", "a,＋b", "Müller — ünïcode ✓", "\u2028line", "", "comma, only",
    "quote\"only", "2026-12-03T11:20:09Z", "a,-", "trailing,", "\\back\\slash",
]  # fmt: skip


def _fill(store, seed: int, count: int) -> None:
    rng = random.Random(seed)
    db = store.db
    pick = rng.choice
    db.execute("INSERT INTO crawl_runs (id, started_at, status) VALUES (1, 't', 'finished')")
    for seller_id in (1, 2, 3):
        db.execute(
            "INSERT INTO sellers (id, source, key, name, domain, claimed_domain, first_seen,"
            " last_seen) VALUES (?, 's', ?, ?, ?, ?, 't', 't')",
            [seller_id, f"k{seller_id}", pick(HOSTILE), pick([None, *HOSTILE]), pick(HOSTILE)],
        )
        db.execute(
            "INSERT INTO findings (detected_at, subject_kind, subject_id, score, verdict,"
            " fingerprint, is_current, flags, reasons) VALUES ('t', 'seller', ?, ?, ?, 'f', 1,"
            " '[]', '[]')",
            [seller_id, pick([0.5, -0.25, 1 / 3, None]), pick(HOSTILE)],
        )
    for listing_id in range(1, count + 1):
        db.execute(
            "INSERT INTO listings (id, source, canonical_url, url, title, price, currency,"
            " condition, seller_id, seller_name, seller_domain, field_sources, currency_source,"
            " first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 't0', ?)",
            [
                listing_id, pick(["shop", "=src"]), f"{pick(HOSTILE)}/{listing_id}", pick(HOSTILE),
                pick([None, *HOSTILE]), pick(["199.00", "-1", None, "=1"]),
                pick(["USD", None, ""]), pick([None, "", "unknown", "new", "-used"]),
                pick([1, 2, 3, None]), pick([None, *HOSTILE]), pick([None, *HOSTILE]),
                pick([None, "{}", '{"currency": "json-ld"}', '{"currency": "=x"}']),
                pick([None, "", "json-ld layer", "@layer"]), pick(HOSTILE),
            ],
        )  # fmt: skip
        if rng.random() < 0.8:
            words = [pick(HOSTILE) for _ in range(rng.randrange(3))]
            db.execute(
                "INSERT INTO findings (detected_at, subject_kind, subject_id, score, verdict,"
                " fingerprint, is_current, flags, reasons, model, msrp, is_accessory, condition,"
                " model_reason) VALUES ('t', 'listing', ?, ?, 'suspicious', 'f', 1, ?, ?, ?, ?,"
                " ?, ?, ?)",
                [
                    listing_id, pick([0.55, 0.1 + 0.2, -0.5, 1e-05, 1e16, None]),
                    json.dumps(pick([[], ["price_low"], ["a", "=b"]])), json.dumps(words),
                    pick([None, *HOSTILE]), pick([449.0, None, -3.5]), pick([0, 1, None]),
                    pick([None, "", "used", "=refurb"]), pick([None, *HOSTILE]),
                ],
            )  # fmt: skip


def _old(store, fmt: str) -> str:
    stream = io.StringIO()
    write_listings(store.export_listing_rows(), fmt, stream)
    return stream.getvalue()


def _new(store, fmt: str) -> str:
    stream = io.StringIO()
    export_listings(store, fmt, stream)
    return stream.getvalue()


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_one_pass_export_writes_the_same_bytes(store, seed, fmt):
    _fill(store, seed, 3000)
    assert _new(store, fmt) == _old(store, fmt)


def test_the_pieces_are_the_contract_fields_in_order():
    flat = [f for piece in LISTING_PIECES for f in (piece if isinstance(piece, tuple) else [piece])]
    assert tuple(flat) == LISTING_FIELDS


def _plain_batch(store) -> None:
    """50 listings in one batch, with nothing to quote or neutralise."""
    _fill(store, 4, 50)
    store.db.execute("UPDATE listings SET title = 'plain', url = 'u', canonical_url = 'u' || id,"
                     " seller_name = 'n', seller_domain = 'd', source = 's', price = '1',"
                     " last_seen = 't', condition = 'new', currency_source = 'c'")  # fmt: skip
    store.db.execute("UPDATE findings SET reasons = '[\"r\"]', flags = '[]', model = 'm',"
                     " model_reason = 'why', score = 0.5, msrp = 1.0, condition = 'new'")  # fmt: skip
    store.db.execute("UPDATE sellers SET name = 'n'")
    store.db.execute("UPDATE findings SET verdict = 'ok' WHERE subject_kind = 'seller'")


def _cell_by_cell_calls(store, monkeypatch) -> list:
    """The calls of the record by record path, as they are made."""
    calls = []
    real = type(store).export_listing_rows
    monkeypatch.setattr(
        type(store), "export_listing_rows", lambda self, *a: calls.append(a) or real(self, *a)
    )
    return calls


def test_plain_batches_are_not_written_cell_by_cell(store, monkeypatch):
    """Only a batch with a cell to neutralise goes back to the record by record path."""
    _plain_batch(store)
    calls = _cell_by_cell_calls(store, monkeypatch)
    assert _new(store, "csv").count("\n") == 51
    assert calls == []
    store.db.execute("UPDATE listings SET title = '=cmd()' WHERE id = 7")
    text = _new(store, "csv")
    assert calls and "'=cmd()" in text


@pytest.mark.parametrize("field", ["title", "seller_name", "url", "condition"])
def test_a_nul_in_one_cell_of_a_plain_batch_is_written_whole(store, field):
    """SQLite's printf stops a text at a NUL: a crawled cell holding one, in a batch with
    nothing else to neutralise or quote, is written whole, as the cell-by-cell writer does."""
    _plain_batch(store)
    store.db.execute(f"UPDATE listings SET {field} = ? WHERE id = 7", ["abc\x00=cmd()"])
    assert _new(store, "csv") == _old(store, "csv")
    assert _new(store, "jsonl") == _old(store, "jsonl")


@pytest.mark.parametrize(
    ("table", "field", "where"),
    [
        ("listings", "title", "id = 7"),  # each piece SQLite joins: the first
        ("listings", "url", "id = 7"),
        ("listings", "seller_name", "id = 7"),  # the seller's
        ("listings", "seller_domain", "id = 7"),
        ("findings", "verdict", "subject_kind = 'seller'"),  # the seller's id and verdict
        ("findings", "model_reason", "subject_kind = 'listing' AND subject_id = 7"),  # the last
        ("listings", "currency_source", "id = 7"),
    ],
)
@pytest.mark.parametrize("text", ["comma, inside", 'a "quote"', "line\nbreak", 'a,"\n"b'])
def test_a_cell_to_quote_in_a_plain_batch_is_quoted_there(
    store, monkeypatch, table, field, where, text
):
    """A delimiter, quote or line break in one cell of a batch with nothing to neutralise: the
    pieces SQLite joined are quoted in the batch itself, as the csv module quotes the cell."""
    _plain_batch(store)
    store.db.execute(f"UPDATE {table} SET {field} = ? WHERE {where}", [text])
    calls = _cell_by_cell_calls(store, monkeypatch)
    new = _new(store, "csv")
    assert calls == []
    assert new == _old(store, "csv")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.usefixtures("own_threads_only")
def test_an_export_written_in_parts_on_several_cpus_is_the_same_bytes(store, monkeypatch, fmt):
    """A large store is written in ranges of ids by forked workers (issue 19, round 7): the
    same bytes as one process, hostile cells (written cell by cell) on both sides of every
    boundary included."""
    from reports import exports, parallel

    _fill(store, 5, 3000)
    store.db.conn.commit()  # the workers read through connections of their own
    monkeypatch.setattr(parallel, "PARALLEL_MIN_IDS", 10)
    parts_written = parts_counted(monkeypatch, exports)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    whole = _new(store, fmt)
    assert whole == _old(store, fmt)
    for workers in ("2", "3"):
        monkeypatch.setenv("GRAYHOUND_WORKERS", workers)
        assert _new(store, fmt) == whole
    assert parts_written == [1, 2, 3]


@pytest.mark.parametrize(
    ("first", "last", "count"), [(1, 10, 3), (5, 5, 2), (1, 100_000, 4), (7, 8, 4)]
)
def test_id_ranges_cover_every_id_once_in_order(first, last, count):
    from reports.parallel import id_ranges

    ranges = id_ranges(first, last, count)
    ids = [i for low, high in ranges for i in range(low, high + 1)]
    assert ids == list(range(first, last + 1))
    assert len(ranges) == min(count, last - first + 1)


@pytest.mark.usefixtures("own_threads_only")
def test_a_crawl_committing_during_an_export_in_parts_is_not_in_it(store, monkeypatch, tmp_path):
    """Every part of an export read by forked workers is the store as it was when the
    export began (as one SQLite statement read it before), and a crawl that commits while
    the export is written is not kept waiting for it."""
    from reports import exports, parallel

    _fill(store, 4, 3000)
    store.db.conn.commit()
    monkeypatch.setattr(parallel, "PARALLEL_MIN_IDS", 10)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    before = _new(store, "csv")
    path = store.db.execute("PRAGMA database_list").fetchone()[2]
    real = exports._write_pieces
    moved = ["UPDATE listings SET title = 'moved'"]
    crawl = crawl_commits_first(real, path, moved, tmp_path / "committed")
    monkeypatch.setattr(exports, "_write_pieces", crawl)
    assert _new(store, "csv") == before
    monkeypatch.setattr(exports, "_write_pieces", real)
    assert "moved" in _new(store, "csv")
