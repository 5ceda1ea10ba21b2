"""The case book kept in the store (issue 19, round 3): a daily digest makes again only the
book rows of the subjects that changed, and after any mix of changes it gives, byte for byte,
the digest a book made from scratch gives (and leaves the same record and aggregates)."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from grayhound.pipeline import make_daily_book, produce_digest
from grayhound.store import open_store
from grayhound.store.core import STAMP_SUFFIX, _file_stamp
from grayhound.store.digestbook import EVERYTHING, FLAG_COUNTS, book_waits_whole
from reports.digest.render import render
from reports.digest.spool import UNATTRIBUTED
from tests.reports.digest.test_daily_work import move_one
from tests.reports.digest.test_streamed import SELLERS, many

FORMATS = ("json", "csv", "html", "md")
KEPT_TABLES = {  # what a digest leaves in the store, compared in full
    "digest_shown": "case_id",
    "digest_items": "digest_id, case_id",
    "digest_book": "case_id",
    "digest_tally": "grp, sev, state, flags",
    "digest_seller_tally": "seller_id, flags, grp, sev, clean",
    "cases": "id",
}


def from_scratch(store, path):
    """A copy of the store whose book is to be made again whole by its next digest."""
    target = sqlite3.connect(path)
    store.db.conn.backup(target)
    target.execute(
        "INSERT OR REPLACE INTO digest_pending (subject_kind, subject_id) VALUES (?, ?)", EVERYTHING
    )
    target.commit()
    target.close()
    return open_store(path)


def kept(store) -> dict:
    return {
        table: store.db.execute(
            f"SELECT * FROM {table} WHERE {_live(table)} ORDER BY {order}"
        ).fetchall()
        for table, order in KEPT_TABLES.items()
    }


def _live(table: str) -> str:
    return "n != 0" if table.endswith("tally") else "1"


def a_day(world, rng: random.Random, hours: float) -> None:
    """Random changes of every kind a book row is made of."""
    store = world.store
    for _ in range(rng.randint(0, 3)):  # prices move, judged again
        move_one(world, hours, f"{rng.randint(300, 500)}.00", rng.randint(1, 30))
    run = world.run(hours, {"bazaar": world.figures(1)})
    for _ in range(rng.randint(0, 2)):  # a new flagged listing
        number = rng.randint(100, 400)
        listing = world.listing(run, hours, number, title=f"Redmi {number}", price="99.00",
                                seller=rng.choice(SELLERS))  # fmt: skip
        world.judge(run, hours, world.finding(listing, "suspicious", 0.61, ["price_low"]))
    if rng.random() < 0.5:  # a title edited, not judged again
        store.db.execute(
            "UPDATE listings SET title = title || ' v2' WHERE id = ?", [rng.randint(1, 30)]
        )
    if rng.random() < 0.5:  # a listing moves to another seller
        other = store.db.execute("SELECT id FROM sellers ORDER BY random() LIMIT 1").fetchone()[0]
        store.db.execute("UPDATE listings SET seller_id = ?, seller_name = NULL WHERE id = ?",
                         [other, rng.randint(1, 30)])  # fmt: skip
    if rng.random() < 0.5:  # a seller renamed or given a domain (its listings show it)
        seller = store.db.execute("SELECT id FROM sellers ORDER BY random() LIMIT 1").fetchone()[0]
        store.db.execute("UPDATE sellers SET name = name || 'X', domain = ? WHERE id = ?",
                         [f"shop{rng.randint(1, 9)}.example", seller])  # fmt: skip
    if rng.random() < 0.4:  # a seller judged: a case of its own
        seller = store.db.execute("SELECT id FROM sellers ORDER BY random() LIMIT 1").fetchone()[0]
        finding = world.finding(
            seller, rng.choice(["suspicious", "impersonation"]), 0.8, ["suspicious_name"]
        )
        world.judge(run, hours, {**finding, "subject_kind": "seller"})
    if rng.random() < 0.4:  # a listing judged clean: it leaves the digest
        world.judge(run, hours, world.finding(rng.randint(1, 30), "clean", 0.1, []))
    cases = store.db.execute("SELECT id FROM cases ORDER BY random() LIMIT 2").fetchall()
    for (case_id,), state in zip(
        cases, rng.sample(["dismissed", "confirmed", "open"], 2), strict=False
    ):
        store.set_case_state(
            case_id, state, by="test", note="a decision", evidence={}, at=world.stamp(hours)
        )
    store.db.conn.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_kept_book_gives_the_digest_a_book_made_from_scratch_gives(
    world, example_config, tmp_path, seed
):
    rng = random.Random(seed)
    many(world, 30)
    for day in range(1, 8):
        hours = day * 24.0
        a_day(world, rng, hours)
        record = rng.random() < 0.7
        with from_scratch(world.store, tmp_path / f"scratch-{day}.db") as scratch:
            fresh = produce_digest(scratch, example_config, world.at(hours + 1), record=record)
            outputs = {fmt: render(fresh, fmt) for fmt in FORMATS}
            fresh_tables = kept(scratch)
        digest = produce_digest(world.store, example_config, world.at(hours + 1), record=record)
        for fmt in FORMATS:
            assert render(digest, fmt) == outputs[fmt], (day, fmt)
        assert kept(world.store) == fresh_tables, day


def test_a_day_with_one_change_makes_one_row_of_the_book_again(world, example_config):
    many(world, 45)
    produce_digest(world.store, example_config, world.at(1))  # the first: against 24 h
    second = produce_digest(world.store, example_config, world.at(2))
    assert second.book.refreshed == 45  # a new store's book: made whole, once
    move_one(world, 24, "399.00")
    digest = produce_digest(world.store, example_config, world.at(25), record=False)
    # before: every open case was copied into a fresh book by each digest (45 rows)
    assert digest.book.refreshed == 1
    assert digest.counts["groups"] == {"new": 0, "changed": 1, "still_open": 44}
    again = produce_digest(world.store, example_config, world.at(26), record=False)
    assert again.book.refreshed == 0
    assert render(again, "json").replace(again.created_at, "") == render(digest, "json").replace(
        digest.created_at, ""
    )


def test_the_first_digest_written_makes_the_book_the_daily_digests_fill(
    config_world, example_config, tmp_path
):
    """A store's first digest (compared with 24 hours ago, on a private book) is followed,
    once it is written, by the kept book made whole against its record: the next daily
    digest makes only what changed, not the whole book (at 1M the first daily digest took
    2.4 times the others'), and shows and keeps what it would have shown and kept."""
    world, store = config_world, config_world.store
    many(world, 45)
    first = produce_digest(store, example_config, world.at(1))
    first.close()
    # a detection committing before the book is made: a price moved, a new flagged listing
    move_one(world, 12, "399.00")
    run = world.run(12, {"bazaar": world.figures(1)})
    listing = world.listing(run, 12, 46, title="Redmi 46", price="99.00", seller=SELLERS[0])
    world.judge(run, 12, world.finding(listing, "suspicious", 0.61, ["price_low"]))
    store.db.conn.commit()
    # what the next digest would find had the book not been made now: it waits, whole
    with from_scratch(store, tmp_path / "waits.db") as waits:
        said = []
        make_daily_book(example_config, first, said.append)
        assert said == ["digest: making the case book later digests keep up to date (once)…"]
        assert store.db.execute("SELECT COUNT(*) FROM digest_book").fetchone() == (46,)
        assert store.db.execute("SELECT * FROM digest_pending").fetchall() == []
        made_then = produce_digest(waits, example_config, world.at(24), record=False)
        assert made_then.book.refreshed == 46
        outputs = {fmt: render(made_then, fmt) for fmt in FORMATS}
        tables = kept(waits)
    second = produce_digest(store, example_config, world.at(24), record=False)
    assert second.book.refreshed == 0
    assert second.counts["groups"] == {"new": 1, "changed": 1, "still_open": 44}
    assert {fmt: render(second, fmt) for fmt in FORMATS} == outputs
    # the same, but for when the new listing's case was opened: as the book was made (the
    # clock's time), not by the next digest
    assert _untimed(kept(store)) == _untimed(tables)
    make_daily_book(example_config, second, said.append)  # made already: nothing, said nothing
    assert len(said) == 1
    move_one(world, 30, "350.00")
    daily = produce_digest(store, example_config, world.at(31), record=False)
    assert daily.book.refreshed == 1


def test_a_flagged_subject_without_a_case_gets_one_before_the_book_is_made(
    config_world, example_config
):
    """The queue's mark for a new store asks to look at every flagged subject for one without
    a case (a store repaired by `detect --full`, a subject whose queue row was lost): making
    the book after the first digest opens its case first, as the next digest would have."""
    world, store = config_world, config_world.store
    many(world, 12)
    first = produce_digest(store, example_config, world.at(1))
    first.close()
    run = world.run(2, {"bazaar": world.figures(1)})
    listing = world.listing(run, 2, 13, title="Redmi 13", price="99.00", seller=SELLERS[0])
    world.judge(run, 2, world.finding(listing, "suspicious", 0.61, ["price_low"]))
    store.db.execute(  # its queue row lost: only the mark finds it
        "DELETE FROM digest_pending WHERE subject_kind = 'listing' AND subject_id = ?", [listing]
    )
    store.db.conn.commit()
    make_daily_book(example_config, first, lambda _: None)
    digest = produce_digest(store, example_config, world.at(3), record=False)
    assert digest.counts["groups"] == {"new": 1, "changed": 0, "still_open": 12}


def test_the_first_cli_digest_makes_the_book_and_a_preview_does_not(
    config_world, example_config_path, tmp_path, capsys
):
    from grayhound.cli import main

    many(config_world, 12)
    config = ["--config", str(example_config_path)]
    db = config_world.store.db
    assert main([*config, "digest", "--no-record", "--out", str(tmp_path / "p.json")]) == 0
    assert "case book" not in capsys.readouterr().err
    assert book_waits_whole(db)  # a preview records nothing: nothing to make the book against
    assert main([*config, "digest", "--out", str(tmp_path / "first.json")]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"wrote {tmp_path / 'first.json'}: 12 new, 0 changed, 0 still open",
        "digest: making the case book later digests keep up to date (once)…",
    ]
    assert not book_waits_whole(db)
    assert db.execute("SELECT COUNT(*) FROM digest_book").fetchone() == (12,)
    assert main([*config, "digest", "--out", str(tmp_path / "second.json")]) == 0
    assert "case book" not in capsys.readouterr().err


def _untimed(tables: dict) -> dict:
    return {**tables, "cases": [row[:4] for row in tables["cases"]]}


def test_a_book_not_made_after_the_first_digest_is_made_by_the_next(
    config_world, example_config, monkeypatch
):
    """Making the book after the first digest is written may fail (a full disk): the digest
    is written, the failure said, and the next digest makes the whole book itself."""
    from grayhound.store import digestbook

    world, store = config_world, config_world.store
    many(world, 12)
    first = produce_digest(store, example_config, world.at(1))
    first.close()

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(digestbook.StoredBook, "_insert", full)
    said = []
    make_daily_book(example_config, first, said.append)
    assert said[-1] == (
        "digest: the case book later digests keep was not made (database or disk is full);"
        " the next digest makes it"
    )
    assert store.db.execute("SELECT COUNT(*) FROM digest_book").fetchone() == (0,)
    monkeypatch.undo()
    second = produce_digest(store, example_config, world.at(2), record=False)
    assert second.book.refreshed == 12
    assert second.counts["groups"] == {"new": 0, "changed": 0, "still_open": 12}


def test_the_record_sets_a_recorded_case_still_open_and_queues_nothing(world, example_config):
    """A digest decided on the kept book sets the book rows of the cases it records as the
    next fill would make them (still open, nothing to record) and queues none of them: the
    next digest makes no row again (before: the record's `digest_shown` rows queued their
    subjects, and the next fill made each again only to find it still open)."""
    many(world, 45)
    produce_digest(world.store, example_config, world.at(1))
    produce_digest(world.store, example_config, world.at(2))
    move_one(world, 24, "399.00")
    conn = world.store.db.conn
    conn.execute("CREATE TEMP TABLE book_writes (what TEXT)")
    for what in ("INSERT", "UPDATE", "DELETE"):
        conn.execute(
            f"CREATE TEMP TRIGGER book_{what} AFTER {what} ON digest_book"
            f" BEGIN INSERT INTO book_writes VALUES ('{what}'); END"
        )
    recorded = produce_digest(world.store, example_config, world.at(25))  # records the move
    assert recorded.counts["groups"] == {"new": 0, "changed": 1, "still_open": 44}
    writes = conn.execute("SELECT what, COUNT(*) FROM book_writes GROUP BY what").fetchall()
    # the fill with its decision (decided aside, written once), the record's still open
    # (before: three, the fill's row decided by a second update of the book)
    assert writes == [("UPDATE", 2)]
    assert conn.execute("SELECT * FROM digest_pending").fetchall() == []
    conn.execute("DELETE FROM book_writes")
    digest = produce_digest(world.store, example_config, world.at(26), record=False)
    assert digest.book.refreshed == 0
    assert digest.counts["groups"] == {"new": 0, "changed": 0, "still_open": 45}
    assert conn.execute("SELECT COUNT(*) FROM book_writes").fetchone() == (0,)


def test_a_recorded_case_moved_meanwhile_is_made_again_by_the_next_fill(world, example_config):
    """A case whose subject moved between the digest's fill and its record keeps its subject
    queued: the next fill makes its row again from the store, as a book made from scratch
    would have it."""
    from reports.digest import spool

    many(world, 45)
    produce_digest(world.store, example_config, world.at(1))
    produce_digest(world.store, example_config, world.at(2))
    move_one(world, 24, "399.00")
    stream = spool.stream_digest

    def moved_after_the_decision(store, inputs, **options):
        digest = stream(store, inputs, **options)
        store.db.execute("UPDATE listings SET title = title || ' v2' WHERE id = 7")
        return digest

    spool.stream_digest = moved_after_the_decision
    try:
        produce_digest(world.store, example_config, world.at(25))
    finally:
        spool.stream_digest = stream
    conn = world.store.db.conn
    assert conn.execute("SELECT subject_kind, subject_id FROM digest_pending").fetchall() == [
        ("listing", 7)
    ]
    digest = produce_digest(world.store, example_config, world.at(26), record=False)
    assert digest.book.refreshed == 1
    assert digest.counts["groups"] == {"new": 0, "changed": 1, "still_open": 44}


def test_the_cli_writes_a_digest_read_from_the_kept_book(
    config_world, example_config_path, tmp_path
):
    """The command writes the digest after closing the store: the kept book is read through
    a connection of its own."""
    from grayhound.cli import main

    many(config_world, 12)
    config = ["--config", str(example_config_path)]
    assert main([*config, "digest", "--out", str(tmp_path / "first.json")]) == 0
    for fmt in FORMATS:
        out = tmp_path / f"digest.{fmt}"
        assert main([*config, "digest", "--no-record", "--out", str(out)]) == 0
        assert "Xiaomi 14 Pro 12" in out.read_text(encoding="utf-8")


def test_the_cli_digest_leaves_no_write_ahead_log_for_the_next_command(
    config_world, example_config_path, tmp_path
):
    """What the digest recorded is copied into the store before the command ends: its
    read-only connection, the last to close, could not do it, and the next command would
    (at 1M, ~300 MB: most of a `detect` with nothing changed)."""
    from grayhound.cli import main
    from grayhound.config import load_config

    many(config_world, 12)
    config_world.store.close()  # the command alone has the store open, as on a user's machine
    database = load_config(example_config_path).storage.database
    assert (
        main(["--config", str(example_config_path), "digest", "--out", str(tmp_path / "d.json")])
        == 0
    )
    log = database.with_name(database.name + "-wal")
    assert not log.exists() or log.stat().st_size == 0
    # the files as the last close left them are the ones its stamp vouches for: the next
    # command trusts them and checks nothing
    stamp = json.loads(Path(f"{database}{STAMP_SUFFIX}").read_text())
    assert {key: stamp[key] for key in ("db", "-wal")} == _file_stamp(database)
    with open_store(database) as store:
        assert store.db.execute("SELECT COUNT(*) FROM digests").fetchone()[0] == 1


def test_seller_flag_counts_kept_by_triggers_equal_counting_every_listing(world, example_config):
    """`flag_counts` (the digest's and `export sellers`' per-seller flag counts) reads an
    aggregate the triggers keep: equal to counting every listing's current finding."""
    rng = random.Random(7)
    many(world, 30)
    for day in range(1, 6):
        a_day(world, rng, day * 24.0)
        counted: dict = {}
        for seller_id, flag, number in world.store.db.execute(FLAG_COUNTS):
            counted.setdefault(seller_id, {})[flag] = number
        assert world.store.flag_counts() == counted


def test_the_cases_naming_no_seller_are_read_by_the_seller_index(world):
    """The pages' listing cases without a seller are a few: read through the seller index,
    not through a whole group (before: 700,000 index rows of the still-open group at 1M)."""
    sql = f"SELECT dc.case_id FROM digest_book dc WHERE {UNATTRIBUTED} ORDER BY dc.sev, dc.nscore"
    plan = " ".join(row[-1] for row in world.store.db.execute(f"EXPLAIN QUERY PLAN {sql}", [2]))
    assert "digest_book_seller (seller_id=? AND kind=?)" in plan, plan


def a_listing_flagged_after_two_digests(world, config) -> int:
    """Twelve cases, two digests (the kept book made whole), then a new listing flagged a
    day later and not yet in a digest: its id."""
    many(world, 12)
    produce_digest(world.store, config, world.at(1))
    produce_digest(world.store, config, world.at(2))
    run = world.run(24, {"bazaar": world.figures(1)})
    listing = world.listing(run, 24, 99, title="Redmi 99", price="99.00", seller=SELLERS[0])
    world.judge(run, 24, world.finding(listing, "suspicious", 0.61, ["price_low"]))
    return listing


def test_a_subject_flagged_while_the_book_is_filled_gets_its_case_from_the_queue(
    world, example_config
):
    """The digest opens cases only for the subjects queued for its book: a listing flagged by
    a detection that wrote between a digest's opening of cases and its fill (which claims the
    queue) stays queued, and the next digest opens its case and shows it as new."""
    from grayhound.triage import SHOWN_STATES
    from reports.digest.spool import FUNCTIONS, _decisions

    listing = a_listing_flagged_after_two_digests(world, example_config)
    world.store.db.conn.commit()
    world.store.stored_case_book(FUNCTIONS).fill(SHOWN_STATES, None, _decisions)  # no case opened
    digest = produce_digest(world.store, example_config, world.at(25), record=False)
    assert [item["subject_id"] for item in digest.items["new"]] == [listing]
    assert world.store.db.execute(
        "SELECT COUNT(*) FROM cases WHERE subject_kind = 'listing' AND subject_id = ?", [listing]
    ).fetchone() == (1,)


def test_a_detection_of_everything_opens_a_case_its_queue_lost(world, example_config):
    """A flagged subject whose queue entry is gone without a case opened (an older grayhound,
    still running beside an upgraded store, claims the queue whole) is not seen by the digest,
    which opens cases only for queued subjects; a detection that judges everything again
    (`detect --full`, the first after an upgrade) has the next digest look at every flagged
    subject, and the case is opened and shown as new."""
    listing = a_listing_flagged_after_two_digests(world, example_config)
    world.store.db.execute("DELETE FROM digest_pending")  # the older fill's plain claim
    world.store.db.conn.commit()
    lost = produce_digest(world.store, example_config, world.at(25), record=False)
    assert listing not in [item["subject_id"] for item in lost.items["new"]]
    with world.store.db.atomic():
        world.store.queue_everything(sellers=False)
    digest = produce_digest(world.store, example_config, world.at(26), record=False)
    assert [item["subject_id"] for item in digest.items["new"]] == [listing]


def test_the_pages_read_the_worst_listings_of_the_sellers_they_show_as_cards(
    world, example_config, monkeypatch
):
    """A seller card shows its worst listings; HTML and Markdown show the first cards only
    (25 of 2,500 sellers at 1M listings), so only theirs are read: before, every seller's
    were (12,500 item rows, each with its capture). JSON still lists every seller's."""
    from grayhound.store.digestcases import CaseBook

    many(world, 30)
    produce_digest(world.store, example_config, world.at(1))
    read: list[int] = []
    real = CaseBook.items

    def items(book, where="1", params=(), **options):
        if where.startswith("dc.seller_id = ?"):
            read.append(params[0])
        return real(book, where, params, **options)

    monkeypatch.setattr(CaseBook, "items", items)
    monkeypatch.setattr("reports.digest.render.SELLER_CARDS", 1)
    digest = produce_digest(world.store, example_config, world.at(2), record=False)
    for fmt in ("html", "md"):
        render(digest, fmt)
    assert set(read) == {digest.views["sellers"][0]["seller_id"]}
    assert render(digest, "json").count('"flagged_listings"') == len(SELLERS)
    assert set(read) == {view["seller_id"] for view in digest.views["sellers"]}


def test_a_digest_written_while_another_fills_the_book_shows_its_own_book(world, example_config):
    """A digest reads its groups and its seller cards' worst listings while it is written,
    after it recorded; another digest (the scheduler's, a second `grayhound digest`) filling
    the kept book meanwhile makes the first one's new listings still open there. What the
    first writes is its own book, as it was when it decided: the same bytes as when nothing
    else ran."""
    a_listing_flagged_after_two_digests(world, example_config)
    world.store.db.conn.commit()
    alone = produce_digest(world.store, example_config, world.at(25), record=False)
    expected = render(alone, "json").replace(alone.created_at, "")
    first = produce_digest(world.store, example_config, world.at(25))
    later = produce_digest(world.store, example_config, world.at(26))
    assert later.counts["groups"]["new"] == 0  # the other digest saw the listing as still open
    assert render(first, "json").replace(first.created_at, "") == expected


@pytest.mark.parametrize("step", ["fill", "decide"])
def test_a_detection_committing_while_the_digest_works_aside_does_not_fail_it(
    world, example_config, monkeypatch, tmp_path, step
):
    """The fill makes its rows and the decision its cases in temporary tables before writing
    the book: a detection that commits meanwhile (another process) must wait for the digest,
    not leave it reading a stale snapshot whose first write to the book fails with "database
    is locked" (before: the digest failed)."""
    from grayhound.store import digestbook

    many(world, 45)
    produce_digest(world.store, example_config, world.at(1))
    produce_digest(world.store, example_config, world.at(2))
    move_one(world, 24, "399.00")
    world.store.db.conn.commit()
    path = world.store.db.execute("PRAGMA database_list").fetchone()[2]
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    other.execute("CREATE TABLE IF NOT EXISTS detection_meanwhile (x)")
    waited = []

    def commit_meanwhile():
        try:
            other.execute("INSERT INTO detection_meanwhile VALUES (1)")
        except sqlite3.OperationalError as error:  # the digest holds the write lock
            waited.append(str(error))

    if step == "fill":
        make = digestbook.StoredBook._insert

        def insert(self, *args, **kwargs):
            if kwargs.get("into") == "temp.digest_fresh":
                commit_meanwhile()
            return make(self, *args, **kwargs)

        monkeypatch.setattr(digestbook.StoredBook, "_insert", insert)
    else:
        batches = digestbook._batches

        def batched(rows, size):
            for batch in batches(rows, size):
                commit_meanwhile()
                yield batch

        monkeypatch.setattr(digestbook, "_batches", batched)
    digest = produce_digest(world.store, example_config, world.at(25), record=False)
    other.close()
    assert digest.counts["groups"] == {"new": 0, "changed": 1, "still_open": 44}
    assert waited and "locked" in waited[0]
