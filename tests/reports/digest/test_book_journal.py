"""A daily digest adds its new cases to the kept book without a statement journal (issue 19,
round 41).

The refresh's insert of new book rows fires the tallies' triggers (it writes more than one row)
and, as a plain `INSERT`, could abort on its key: SQLite copied every page it wrote so that the
statement alone could be undone, spilled to a temporary file (`etilqs_*`) past 64 KiB. At a
million listings that was 41,000 writes in a daily digest. `INSERT OR FAIL` keeps none, and
the tallies it moves are the same."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from grayhound.store import open_store
from grayhound.store.digestbook import BOOK, FRESH, REFRESH
from tests.grayhound.test_journal_free import _temporary_files

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads the open files from /proc/self/fd"
)
KEPT = 2000  # book rows already there: the new ones' index entries land all over their pages
ADDED = range(KEPT + 1, KEPT + 1001)
# the book's columns: case_id, kind, subject_id, finding_id, seller_id, state, verdict, score,
# nscore, sev, rkey, flags, grp, shown, dirty, changes, evidence, todo
ROW = ("listing", "open", "suspicious", 0.5, -0.5)


def _row(case_id: int, subject_id: int, *, grp: int, sev: int, flags: str) -> tuple:
    kind, state, verdict, score, nscore = ROW
    rkey = 0.5 + (subject_id * 7919 % 1000) / 1e4  # spread over the risk index
    seller = subject_id % 40
    return (case_id, kind, subject_id, subject_id, seller, state, verdict, score, nscore, sev,
            rkey, flags, grp, None, 1, None, None, None)  # fmt: skip


def _added_to_the_book(path: Path, insert: str) -> tuple[set[str], int, list[tuple]]:
    """A book of KEPT rows, then the rows of ADDED made again aside and added by `insert`
    in one transaction, as a fill adds new cases: (the temporary files it opened, the rows
    added, the tallies after)."""
    marks = ", ".join("?" * 18)
    with open_store(path) as store:
        db = store.db
        db.execute(BOOK)
        rows = [_row(n, n, grp=2, sev=1, flags='["price_low"]') for n in range(1, KEPT + 1)]
        db.conn.executemany(f"INSERT INTO digest_book VALUES ({marks})", rows)
        db.execute(FRESH)
        fresh = [_row(n, n, grp=n % 2, sev=2, flags='["price_high"]') for n in ADDED]
        db.conn.executemany(f"INSERT INTO temp.digest_fresh VALUES ({marks})", fresh)
        db.conn.commit()
        before = set(_temporary_files())  # the temporary table's own, and any other
        with db.atomic():
            added = db.execute(insert).rowcount
            opened = set(_temporary_files()) - before
        tallies = db.execute(
            "SELECT grp, sev, state, flags, n FROM digest_tally WHERE n != 0 ORDER BY 1, 2"
        ).fetchall()
        # each seller's tally as a count of the book's rows gives it
        kept = db.execute(
            "SELECT seller_id, flags, grp, sev, clean, n FROM digest_seller_tally WHERE n != 0"
            " ORDER BY 1, 2, 3, 4, 5"
        ).fetchall()
        counted = db.execute(
            "SELECT seller_id, flags, IFNULL(grp, -1), sev, verdict = 'clean', COUNT(*)"
            " FROM digest_book WHERE kind = 'listing' AND seller_id IS NOT NULL"
            " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
        ).fetchall()
        assert kept == counted and len(kept) > 40
    return opened, added, tallies


def test_the_refresh_adds_new_book_rows_without_a_statement_journal(tmp_path):
    insert = REFRESH[-1]
    assert insert.startswith("INSERT OR FAIL INTO digest_book")
    opened, added, tallies = _added_to_the_book(tmp_path / "grayhound.db", insert)
    assert opened == set()
    assert added == len(ADDED)
    # every added row counted once: the tallies' upserts still add up under OR FAIL (and the
    # sellers' tallies match a count of the book, above)
    assert tallies == [
        (0, 2, "open", '["price_high"]', 500),
        (1, 2, "open", '["price_high"]', 500),
        (2, 1, "open", '["price_low"]', KEPT),
    ]


def test_the_same_insert_without_or_fail_spills_one_the_measure_sees_it(tmp_path):
    """What the test above would see with a plain `INSERT` (so that it can fail)."""
    plain = REFRESH[-1].replace("INSERT OR FAIL INTO", "INSERT INTO", 1)
    opened, added, _ = _added_to_the_book(tmp_path / "grayhound.db", plain)
    assert added == len(ADDED)
    assert opened, "a plain insert kept no statement journal in this book"
