"""The cases queue at scale (issue 19): derived in SQL, it says what the digest's items say of
every flagged subject (group and changes against the latest digest included), and a decision
rewrites its own case's row, not the queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.serve.conftest import OFFERS, build_store, offer_page, write_config

# what the digest's item of a subject gives a queue column (the rest are the item's own)
FROM_ITEM = {"risk": "score", "reasons": "reasons", "flags": "flags"}


def expected_queue(config, now: str) -> dict[int, dict]:
    """The queue as the digest's own functions make it, row by row in Python (what serve
    built before issue 19): the oracle."""
    from grayhound.store import open_store
    from grayhound.triage import SHOWN_STATES, flagged_rows
    from reports.digest.build import DigestInputs, digest_item

    with open_store(config.storage.database) as store:
        rows = flagged_rows(store)
        cases = store.ensure_cases([(r["subject_kind"], r["subject_id"]) for r in rows], now)
        inputs = DigestInputs(now=now, reference=now, rows=rows, cases=cases)
        # what the digests last showed of each case, as the next digest compares against it
        recorded = store.db.execute("SELECT case_id, evidence FROM digest_shown")
        inputs.shown = {case_id: json.loads(evidence) for case_id, evidence in recorded}
        seller_of, verdicts = store.listing_sellers(), store.seller_verdicts()
        networks = store.network_ids()
        out = {}
        for row in rows:
            case = cases[row["subject_kind"], row["subject_id"]]
            item = digest_item(row.as_dict(), case, inputs)
            is_seller = item["kind"] == "seller"
            seller = item["subject_id"] if is_seller else seller_of.get(item["subject_id"])
            flagged = sum(
                1
                for r in rows
                if r["subject_kind"] == "listing" and seller_of.get(r["subject_id"]) == seller
            )
            out[item["case_id"]] = {
                "group": item["group"] if case["state"] in SHOWN_STATES else "closed",
                "state": item["state"],
                "kind": item["kind"],
                "subject": (item["seller"] if item["kind"] == "seller" else item["title"])
                or "(no title)",
                "risk": item["score"],
                "severity": item["severity"],
                "verdict": item["verdict"],
                "brand": item["brand"],
                "flags": item["flags"],
                "reasons": item["reasons"],
                "source": item["source"],
                "seller": item["seller"],
                "seller_id": seller,
                "seller_verdict": verdicts.get(seller),
                "network_id": networks.get(seller),
                "flagged_listings": flagged if item["kind"] == "seller" else None,
                "price_text": item["price_text"],
                "model": item["model"],
                "changes": "; ".join(item["changes"]) or None,
                "url": item["url"],
                "first_seen": item["first_seen"],
                "last_seen": item["last_seen"],
            }
        return out


def served_queue(client) -> dict[int, dict]:
    rows = client.get("/triage/queue.json", params={"_shape": "array", "_size": "max"}).json()
    out = {}
    for row in rows:
        row = {**row, "flags": json.loads(row["flags"]), "reasons": json.loads(row["reasons"])}
        out[row.pop("case_id")] = row
    return out


def served_as_expected(config, client_for) -> dict[int, dict]:
    """The queue a signed-in reviewer is served, checked row by row and column by column
    against `expected_queue` (`assert_as_derived`)."""
    client = client_for(config)
    client.sign_in()
    served = served_queue(client)
    assert_as_derived(served, config)
    return served


def test_the_queue_says_what_the_digest_items_say(tmp_path, client_for):
    """After a digest, a price cut, a new listing and a dismissal: every row, every column."""
    from grayhound.config import load_config
    from grayhound.detection import detect_findings
    from grayhound.pipeline import produce_digest
    from grayhound.store import open_store, utc_now
    from grayhound.triage import set_state
    from tests.evidence.conftest import simulate_run

    config = load_config(write_config(tmp_path))
    build_store(config)
    with open_store(config.storage.database) as store:
        produce_digest(store, config, datetime.now(UTC) - timedelta(seconds=1))
    cut = ("/item/1.html", "Xiaomi 14 Pro 512GB Titanium", "299.00", "Xiaomi Official Store")
    fresh = ("/item/9.html", "Xiaomi 14 Pro 256GB new", "199.00", "Gadget Hut")
    simulate_run(config, [offer_page(*cut), offer_page(*fresh), offer_page(*OFFERS[2])])
    detect_findings(config)
    with open_store(config.storage.database) as store:
        case = store.cases()[0]
        set_state(store, str(case["id"]), "dismissed", "checked", "analyst", utc_now())
    served = served_as_expected(config, client_for)
    groups = {row["group"] for row in served.values()}
    assert {"changed", "new", "closed"} <= groups, groups
    assert any(row["changes"] and "price" in row["changes"] for row in served.values())


def test_a_shown_field_that_moved_alone_makes_the_row_changed(tmp_path, client_for):
    """A listing whose finding stayed as the digest showed it, but whose title, price,
    seller or domain moved (compared with what the digest showed, `digest_shown`): its row is
    changed and says what moved; the others stay still open, as the digest says."""
    from grayhound.config import load_config
    from grayhound.pipeline import produce_digest
    from grayhound.store import open_store

    config = load_config(write_config(tmp_path))
    build_store(config)
    with open_store(config.storage.database) as store:
        produce_digest(store, config, datetime.now(UTC) - timedelta(seconds=1))
        listings = [
            row[0]
            for row in store.db.execute(
                "SELECT subject_id FROM findings WHERE subject_kind = 'listing'"
                " AND is_current = 1 AND verdict NOT IN ('clean', 'authorized') ORDER BY id"
            ).fetchall()
        ]
        moves = {
            "title": "'a new title'",
            "price": "'1.00'",
            "currency": "'SEK'",
            "seller_name": "'Another Name'",
            "seller_domain": "'another.example'",
        }
        assert len(listings) >= len(moves)
        with store.db.conn:
            for (column, value), listing in zip(moves.items(), listings, strict=False):
                store.db.execute(f"UPDATE listings SET {column} = {value} WHERE id = ?", [listing])
    served = served_as_expected(config, client_for)
    moved = {r["subject_id"]: r for r in served.values() if r["kind"] == "listing"}
    for column, listing in zip(moves, listings, strict=False):
        if column != "currency":  # alone, not a change the digest names (as the oracle says)
            assert moved[listing]["group"] == "changed", column
            assert moved[listing]["changes"], column
    still = [r for r in moved.values() if r["subject_id"] not in listings[: len(moves)]]
    assert all(r["group"] == "still_open" for r in still if r["state"] == "open")


def test_after_a_late_digest_the_queue_says_what_the_next_digest_says(tmp_path, client_for):
    """A digest dated before one already recorded (a run's digest is dated when its crawl
    began, a manual one made during the crawl later) adds to the history but leaves the newer
    digest's record of each case. The queue's groups are what the next digest says of each
    case (against that record), not what the late digest showed."""
    from grayhound.config import load_config
    from grayhound.detection import detect_findings
    from grayhound.pipeline import produce_digest
    from grayhound.store import open_store
    from tests.evidence.conftest import simulate_run

    config = load_config(write_config(tmp_path))
    build_store(config)
    began = datetime.now(UTC) - timedelta(hours=3)
    with open_store(config.storage.database) as store:
        produce_digest(store, config, began)
        produce_digest(store, config, began + timedelta(hours=2))  # the newest record
    path, title, _, seller = OFFERS[0]
    simulate_run(config, [offer_page(path, title, "199.00", seller), *map(_page, OFFERS[1:])])
    detect_findings(config)
    with open_store(config.storage.database) as store:
        produce_digest(store, config, began + timedelta(hours=1))  # late: it shows the cut
    client = client_for(config)
    client.sign_in()
    served = served_queue(client)
    with open_store(config.storage.database) as store:
        following = produce_digest(store, config, datetime.now(UTC), record=False).to_dict()
    groups = {
        item["case_id"]: name for name, items in following["groups"].items() for item in items
    }
    assert {k: r["group"] for k, r in served.items() if r["group"] != "closed"} == groups
    assert "changed" in groups.values()


def test_a_decision_rewrites_its_own_row_not_the_queue(tmp_path, client_for):
    from grayhound.config import load_config
    from reports.serve.context import context_of

    config = load_config(write_config(tmp_path))
    build_store(config)
    client = client_for(config)
    client.sign_in()
    rows = served_queue(client)
    context = context_of(client.datasette)
    assert context.queue_written == len(rows) > 3  # the first look derives every row
    case_id, row = next((k, r) for k, r in rows.items() if r["kind"] == "listing")
    page = f"/-/grayhound/listing/{row['subject_id']}"
    form = {"kind": "listing", "subject_id": str(row["subject_id"]), "note": "takedown filed"}
    token = client.csrftoken(page)
    client.post("/-/grayhound/review", {**form, "state": "takedown-requested", "csrftoken": token})
    after = served_queue(client)
    assert context.queue_written == 1  # the decided case's row, nothing else
    assert after[case_id]["state"] == "takedown-requested"
    assert {k: r for k, r in after.items() if k != case_id} == {
        k: r for k, r in rows.items() if k != case_id
    }


def test_refilling_some_cases_reads_them_by_id(tmp_path):
    """The plan of a refill after a decision starts from the case ids: no store table read
    from end to end, no walk through every current finding."""
    from grayhound.config import load_config
    from grayhound.store.queue import CHANGES, PRICE_TEXT, fill_statement, open_queue

    config = load_config(write_config(tmp_path))
    build_store(config)
    conn = open_queue(str(tmp_path / "queue.db"), str(config.storage.database))
    conn.create_function(PRICE_TEXT, 5, lambda *values: None)
    conn.create_function(CHANGES, 2, lambda *values: None)
    some = [
        row[3]
        for row in conn.execute(f"EXPLAIN QUERY PLAN {fill_statement(False)}", {"cases": "[1]"})
    ]
    every = [
        row[3]
        for row in conn.execute(f"EXPLAIN QUERY PLAN {fill_statement(True)}", {"cases": "[1]"})
    ]
    assert any("idx_findings_is_current_verdict" in step for step in every)
    assert not any("idx_findings_is_current_verdict" in step for step in some), some
    tables = {"findings", "cases", "listings", "sellers", "digest_shown"}
    scans = [step for step in some if step.startswith("SCAN") and step.split()[1] in tables]
    assert not scans, scans


def test_every_flagged_subject_gets_its_case_in_sql_as_one_by_one(tmp_path):
    """`open_cases` of the flagged subjects opens them in SQL: the same cases, the same ids."""
    import shutil

    from grayhound.config import load_config
    from grayhound.store import open_store

    config = load_config(write_config(tmp_path))
    build_store(config)
    copy = tmp_path / "copy.db"
    shutil.copy(config.storage.database, copy)
    with open_store(config.storage.database) as store:
        store.open_cases(store.flagged_subjects(), "2026-01-01T00:00:00.000Z")
        in_sql = store.cases()
    with open_store(copy) as store:
        store.open_cases(list(store.flagged_subjects()), "2026-01-01T00:00:00.000Z")
        one_by_one = store.cases()
    assert in_sql == one_by_one and len(in_sql) > 3


def test_a_listing_gone_leaves_the_running_servers_queue(tmp_path, client_for):
    """A detection whose only news is a finding that ended (its listing gone) writes no new
    finding; the queue of a server already running still drops the listing."""
    from grayhound.config import load_config
    from grayhound.store import open_store, utc_now

    config = load_config(write_config(tmp_path))
    build_store(config)
    client = client_for(config)
    client.sign_in()
    rows = served_queue(client)
    case_id, row = next((k, r) for k, r in rows.items() if r["kind"] == "listing")
    with open_store(config.storage.database) as store:
        why = {row["subject_id"]: "gone: its page answered 404 in crawl run 2"}
        assert store.end_findings("listing", why, utc_now()) == {row["subject_id"]}
    assert case_id not in served_queue(client)


def test_a_second_start_derives_only_what_changed(tmp_path, client_for):
    """The queue is kept beside the store: a server started again after one listing's price
    moved (and a crawl saw every listing again) derives that listing's row, not the queue,
    and serves what a queue derived from scratch says, row for row."""
    from grayhound.config import load_config
    from grayhound.detection import detect_findings
    from reports.serve.context import context_of
    from tests.evidence.conftest import simulate_run

    config = load_config(write_config(tmp_path))
    build_store(config)
    first = client_for(config)
    first.sign_in()
    before = served_queue(first)
    assert context_of(first.datasette).queue_written == len(before) > 3
    again = client_for(config)  # nothing moved: nothing derived
    again.sign_in()
    assert served_queue(again) == before
    assert context_of(again.datasette).queue_written == 0

    path, title, _, seller = OFFERS[0]
    simulate_run(config, [offer_page(path, title, "199.00", seller), *map(_page, OFFERS[1:])])
    detect_findings(config)
    client = client_for(config)
    client.sign_in()
    served = served_queue(client)
    moved = [k for k, row in served.items() if row != before.get(k)]
    written = context_of(client.datasette).queue_written
    # the price-moved listing's row (with its seller's, whose listing moved): a crawl moving
    # every listing's last_seen is taken over without deriving their rows again
    assert 1 <= written <= 3 < len(moved), (written, moved)
    assert_as_derived(served, config)


def _page(offer):
    return offer_page(*offer)


def utc_now_text() -> str:
    from grayhound.store import utc_now

    return utc_now()


def test_a_queue_of_another_version_or_store_is_derived_again(tmp_path, client_for):
    """The mark beside the queue says what it was derived from: a queue whose statements
    changed, or one ahead of its store (a store restored from an older copy), is derived
    whole again."""
    from grayhound.config import load_config
    from grayhound.store.queue import open_queue, queue_path
    from reports.serve.context import context_of

    config = load_config(write_config(tmp_path))
    build_store(config)
    client = client_for(config)
    client.sign_in()
    rows = served_queue(client)
    store_path = str(config.storage.database)
    for name, value in (("version", "another"), ("findings", 10**9)):
        conn = open_queue(queue_path(store_path), store_path)
        conn.execute("UPDATE derived_from SET value = ? WHERE name = ?", [value, name])
        conn.close()
        client = client_for(config)
        client.sign_in()
        assert served_queue(client) == rows
        assert context_of(client.datasette).queue_written == len(rows), name


def _copy_database(source, target) -> None:
    """What restoring a backup does: the whole database replaced, page by page."""
    import sqlite3

    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def test_a_store_restored_from_a_backup_gets_its_queue_derived_again(tmp_path, client_for):
    """The queue file beside the store was taken in after the backup; once the restored store
    has been written to, its change log passes the queue's mark again: the queue must not
    keep the rolled-back decision (a reviewer would see a case dismissed that is open)."""
    from pathlib import Path

    from grayhound.config import load_config
    from grayhound.store import open_store, utc_now
    from grayhound.triage import set_state

    config = load_config(write_config(tmp_path))
    build_store(config)
    database, backup = Path(config.storage.database), tmp_path / "backup.db"
    client = client_for(config)
    client.sign_in()
    served_queue(client)
    _copy_database(database, backup)  # the nightly backup
    with open_store(database) as store:
        case = store.cases()[0]["id"]
        set_state(store, str(case), "dismissed", "checked", "analyst", utc_now())
    after = served_queue(client)
    assert after[case]["state"] == "dismissed"
    _copy_database(backup, database)  # restored; then a day's decisions on another case
    with open_store(database) as store:
        other = next(k for k in after if k != case)
        for state in ("dismissed", "open"):
            set_state(store, str(other), state, "note", "analyst", utc_now())
    client = client_for(config)
    client.sign_in()
    served = served_queue(client)
    assert served[case]["state"] == expected_queue(config, utc_now())[case]["state"] == "open"


def test_a_grayhound_that_words_the_python_columns_otherwise_derives_the_queue_again(
    tmp_path, client_for, monkeypatch
):
    """Two columns are worded by Python (the price text, what changed): after an upgrade that
    words them otherwise, a kept queue would show the old wording on every row nothing
    touched; its mark names the functions' code, so it is derived whole."""
    from grayhound.config import load_config
    from reports.serve import derived
    from reports.serve.context import context_of

    config = load_config(write_config(tmp_path))
    build_store(config)
    client = client_for(config)
    client.sign_in()
    rows = served_queue(client)
    again = client_for(config)
    again.sign_in()
    served_queue(again)
    assert context_of(again.datasette).queue_written == 0
    monkeypatch.setattr(derived, "functions_version", lambda: "reworded")
    upgraded = client_for(config)
    upgraded.sign_in()
    assert served_queue(upgraded) == rows
    assert context_of(upgraded.datasette).queue_written == len(rows)


def _served_after_a_crawl(tmp_path, client_for):
    """A served queue, then a crawl that moves one price and every listing's last_seen, and
    its detection: the config and the queue before the crawl."""
    from grayhound.config import load_config
    from grayhound.detection import detect_findings
    from tests.evidence.conftest import simulate_run

    config = load_config(write_config(tmp_path))
    build_store(config)
    first = client_for(config)
    first.sign_in()
    before = served_queue(first)
    path, title, _, seller = OFFERS[0]
    simulate_run(config, [offer_page(path, title, "199.00", seller), *map(_page, OFFERS[1:])])
    detect_findings(config)
    return config, before


def _assert_served_as_derived(client, config) -> None:
    assert_as_derived(served_queue(client), config)


def assert_as_derived(served: dict, config) -> None:
    """These served rows are the queue derived from scratch now (`expected_queue`), row by row."""
    expected = expected_queue(config, utc_now_text())
    assert served.keys() == expected.keys()
    for case_id, row in expected.items():
        assert {column: served[case_id][column] for column in row} == row, case_id


def test_last_seen_is_taken_over_on_a_connection_of_its_own_and_a_failure_there_syncs_again(
    tmp_path, client_for, monkeypatch
):
    """After a crawl every row's last_seen moves: it is taken over by another thread on its
    own connection while the day's rows are derived. When that fails, the refresh fails (the
    page says so and shows the queue as it was), records nothing as taken in, and the next
    refresh takes last_seen over."""
    import sqlite3
    import threading

    from grayhound.store import queue
    from reports.serve.context import context_of

    config, before = _served_after_a_crawl(tmp_path, client_for)
    calls = []

    def failing(conn):
        calls.append((threading.current_thread().name, conn))
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(queue, "sync_last_seen", failing)
    marks = _derived_from(config)
    failed = client_for(config)
    failed.sign_in()
    assert served_queue(failed) == before  # the queue as it was
    assert _derived_from(config) == marks  # nothing recorded as taken in
    derived_conn = context_of(failed.datasette).derived_conn
    assert [name for name, _ in calls] == ["grayhound-last-seen"]
    assert calls[0][1] is not derived_conn
    monkeypatch.undo()
    client = client_for(config)
    client.sign_in()
    assert {row["last_seen"] for row in served_queue(client).values()} != {
        row["last_seen"] for row in before.values()
    }
    assert context_of(client.datasette).queue_written >= 1  # taken in, not derived whole
    assert context_of(client.datasette).queue_written < len(before)
    _assert_served_as_derived(client, config)


def test_a_crawl_that_ends_while_the_queue_refreshes_is_taken_over_by_the_next_refresh(
    tmp_path, client_for, monkeypatch
):
    """last_seen is taken over as cases are (re)opened, before the queue's marks are read: a
    crawl that observes anything after it read the store has last_seen read again under the
    queue's write lock. The same server asked again, and a new one, serve the queue derived
    from scratch."""
    from grayhound.store import queue
    from reports.serve import derived
    from tests.evidence.conftest import simulate_run

    config, _ = _served_after_a_crawl(tmp_path, client_for)
    begun, reopen = [], derived._reopen

    class Remembered(queue.LastSeen):
        def __init__(self, conn):
            super().__init__(conn)
            begun.append(self)

    def reopen_during_a_crawl(context, after):
        begun[0].join()  # last_seen taken over; then another crawl ends
        simulate_run(config, [*map(_page, OFFERS)])
        reopen(context, after)

    monkeypatch.setattr(queue, "LastSeen", Remembered)
    monkeypatch.setattr(derived, "_reopen", reopen_during_a_crawl)
    during = client_for(config)
    during.sign_in()
    served_queue(during)
    assert begun and begun[0] is not None
    monkeypatch.undo()
    _assert_served_as_derived(during, config)  # the same server, asked again
    client = client_for(config)
    client.sign_in()
    _assert_served_as_derived(client, config)


def _derived_from(config) -> dict:
    import sqlite3

    from grayhound.store.queue import queue_path

    conn = sqlite3.connect(queue_path(str(config.storage.database)))
    try:
        return dict(conn.execute("SELECT name, value FROM derived_from").fetchall())
    finally:
        conn.close()


def test_a_second_server_that_filled_the_queue_meanwhile_is_not_overwritten(
    tmp_path, client_for, monkeypatch
):
    """Rows are derived before the queue's write lock is taken: when another server of the
    same store fills the queue meanwhile, this one writes nothing older over it, says so, and
    clears the crawl mark (its last_seen may be older); the next refresh serves the queue
    derived from scratch."""
    import pytest

    from grayhound.errors import GrayhoundError
    from grayhound.store import queue
    from reports.serve import derived
    from reports.serve.context import context_of

    config, _ = _served_after_a_crawl(tmp_path, client_for)
    other = context_of(client_for(config).datasette)
    derive, others = queue._derive, [other]

    def derive_then_the_other_refreshes(conn, params):
        written = derive(conn, params)
        if others:  # the other server, on its own connection (its own derive as it is)
            derived._refresh_queue(others.pop())
        return written

    monkeypatch.setattr(queue, "_derive", derive_then_the_other_refreshes)
    this = context_of(client_for(config).datasette)
    with pytest.raises(GrayhoundError, match="another server"):
        derived._refresh_queue(this)
    assert _derived_from(config)["crawl"] is None
    monkeypatch.undo()
    client = client_for(config)
    client.sign_in()
    _assert_served_as_derived(client, config)


def test_the_queues_mark_follows_the_wording_functions_not_the_rest_of_the_module(
    tmp_path, monkeypatch
):
    """The kept queue is derived whole when the code that words its Python columns changes,
    and only then: the rest of `reports.serve.derived` (how it refreshes) is not in its mark."""
    import importlib.util
    import sys
    from pathlib import Path

    from reports.serve import derived

    kept = derived.functions_version()
    edited = tmp_path / "derived_edited.py"
    edited.write_text(
        "# how the queue refreshes was edited\n\n" + Path(derived.__file__).read_text()
    )
    spec = importlib.util.spec_from_file_location("derived_edited", edited)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "derived_edited", module)
    spec.loader.exec_module(module)
    assert module.functions_version() == kept
    monkeypatch.setattr(module, "_price_text", lambda *args: "reworded")
    module.functions_version.cache_clear()
    assert module.functions_version() != kept


def test_the_queue_is_derived_whole_only_when_the_log_outnumbers_its_rows(tmp_path):
    """More change log entries than queue rows derive it whole; as many or fewer take the
    entries in (the rows counted only up to the entries' number)."""
    import sqlite3

    from grayhound.store.queue import TABLE
    from reports.serve.derived import _more_rows_than

    conn = sqlite3.connect(tmp_path / "queue.db")
    conn.execute(TABLE)
    assert not _more_rows_than(conn, 0)
    assert _more_rows_than(conn, 1)
    conn.executemany("INSERT INTO queue_cases (case_id) VALUES (?)", [(n,) for n in range(1, 4)])
    assert [_more_rows_than(conn, entries) for entries in (0, 2, 3, 4, 100)] == [
        False, False, False, True, True,
    ]  # fmt: skip


def test_the_flags_facet_counts_each_flag_once_per_row_from_the_flags_index(tmp_path, client_for):
    """The queue's flags facet says, for each flag, how many rows (of those the page filters
    to) carry it, as Datasette's array facet does, with its links; it counts flag sets through
    the queue's flags index instead of taking every row apart (which timed out at 10⁵ rows)."""
    import sqlite3
    from collections import Counter

    from grayhound.config import load_config
    from grayhound.store.queue import INDEXES, SEEN_TABLE, TABLE, VIEW
    from reports.serve.facets import FACET_SQL

    config = load_config(write_config(tmp_path))
    build_store(config)
    client = client_for(config)
    client.sign_in()
    rows = served_queue(client)
    for params, wanted in (({}, rows.values()), ({"kind": "listing"}, None)):
        wanted = [r for r in rows.values() if r["kind"] == "listing"] if wanted is None else wanted
        page = client.get("/triage/queue.json", params={"_size": "1", **params}).json()
        facet = page["facet_results"]["flags"]
        counts = Counter(flag for row in wanted for flag in set(row["flags"]))
        expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        assert [(v["value"], v["count"]) for v in facet["results"]] == expected
        assert all("flags__arraycontains=" in v["toggle_url"] for v in facet["results"])
    conn = sqlite3.connect(":memory:")
    for sql in (TABLE, SEEN_TABLE, VIEW, *INDEXES):
        conn.execute(sql)
    sql = FACET_SQL.format(col="[flags]", sql="select * from queue", limit=31)
    plan = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    assert "SCAN c USING COVERING INDEX queue_flags" in plan, plan
    assert not [step for step in plan if "queue_seen" in step or " s " in f" {step} "], plan


def test_a_moved_price_is_written_into_its_row_where_it_stands(tmp_path):
    """A start after a day takes a moved price into its listing's row in place: no row is
    deleted and inserted again (which rewrote an entry in each of the queue's nine indexes),
    an indexed column is written only for a row whose indexed values moved, and the queue
    says, row for row, what one derived from scratch says (issue 19, round 6)."""
    from grayhound.config import load_config
    from grayhound.detection import detect_findings
    from reports.serve.derived import refresh_queue
    from tests.evidence.conftest import simulate_run

    config = load_config(write_config(tmp_path))
    build_store(config)
    context, conn = _served(config)
    before = {row[0]: row for row in conn.execute("SELECT * FROM queue")}
    conn.execute("CREATE TEMP TABLE writes (what TEXT, case_id INTEGER)")
    indexes = [row[1] for row in conn.execute("PRAGMA main.index_list(queue_cases)")]
    held = {row[2] for name in indexes for row in conn.execute(f"PRAGMA main.index_info({name})")}
    held.discard("case_id")
    indexed = ", ".join(f'"{column}"' for column in sorted(held))
    for what, event, row in [
        ("deleted", "DELETE", "old"),
        ("inserted", "INSERT", "new"),
        ("indexed", f"UPDATE OF {indexed}", "new"),
    ]:
        conn.execute(
            f"CREATE TEMP TRIGGER queue_{what} AFTER {event} ON main.queue_cases"
            f" BEGIN INSERT INTO writes VALUES ('{what}', {row}.case_id); END"
        )

    path, title, _, seller = OFFERS[0]
    simulate_run(config, [offer_page(path, title, "199.00", seller), *map(_page, OFFERS[1:])])
    detect_findings(config)
    refresh_queue(context)
    assert context.queue_written >= 1
    after = {row[0]: row for row in conn.execute("SELECT * FROM queue")}
    writes = conn.execute("SELECT what, case_id FROM writes").fetchall()
    columns = [row[1] for row in conn.execute("PRAGMA table_info(queue)")]
    moved = {
        case_id
        for case_id, row in after.items()
        if case_id in before
        and any(row[columns.index(c)] != before[case_id][columns.index(c)] for c in held)
    }
    assert {case_id for what, case_id in writes if what == "indexed"} <= moved, writes
    assert not [w for w in writes if w[0] != "indexed"], writes
    assert any(after[k] != before[k] for k in after)  # the price's row moved

    scratch = _scratch_queue(tmp_path, config)
    assert dict(enumerate(scratch.execute("SELECT * FROM queue ORDER BY case_id"))) == dict(
        enumerate(conn.execute("SELECT * FROM queue ORDER BY case_id"))
    )


def test_a_digest_moves_its_rows_group_and_rewrites_no_other_indexed_column(tmp_path):
    """A day's digest shows its new and changed cases, so the next start moves their rows'
    group (new -> still_open) and little else: each indexed column is written only into the
    rows where it moved (SQLite rewrites a row's entry in every index holding a column the
    UPDATE sets, moved or not: setting all ten where one moved rewrote nine indexes' entries),
    and the queue says, row for row, what one derived from scratch says (issue 19, round 7)."""
    from grayhound.config import load_config
    from grayhound.pipeline import produce_digest
    from grayhound.store import open_store
    from grayhound.store.queue import INDEXED
    from reports.serve.derived import refresh_queue

    config = load_config(write_config(tmp_path))
    build_store(config)
    context, conn = _served(config)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(queue)")]
    before = {row[0]: row for row in conn.execute("SELECT * FROM queue")}
    conn.execute("CREATE TEMP TABLE writes (col TEXT, case_id INTEGER)")
    for column in INDEXED:
        conn.execute(
            f'CREATE TEMP TRIGGER "written_{column}" AFTER UPDATE OF "{column}" ON main.queue_cases'
            f" BEGIN INSERT INTO writes VALUES ('{column}', new.case_id); END"
        )
    with open_store(config.storage.database) as store:
        produce_digest(store, config, datetime.now(UTC) - timedelta(seconds=1))
    refresh_queue(context)
    after = {row[0]: row for row in conn.execute("SELECT * FROM queue")}
    assert after.keys() == before.keys()
    grouped = {
        k for k in after if after[k][columns.index("group")] != before[k][columns.index("group")]
    }
    assert grouped, "the digest moved no row's group"
    writes = set(conn.execute("SELECT col, case_id FROM writes").fetchall())
    assert {case_id for col, case_id in writes if col == "group"} == grouped
    for column, case_id in writes:
        i = columns.index(column)
        assert after[case_id][i] != before[case_id][i], (column, case_id)

    scratch = _scratch_queue(tmp_path, config)
    assert dict(enumerate(scratch.execute("SELECT * FROM queue ORDER BY case_id"))) == dict(
        enumerate(conn.execute("SELECT * FROM queue ORDER BY case_id"))
    )


def test_a_kept_row_has_every_column_set_where_it_moved():
    """The statements that write a derived row into its kept row name every column of the
    queue once (a column left out would keep its old value) but the count of flagged listings
    (counted again), each indexed column apart, so that writing one rewrites only the entries
    of the indexes that hold it."""
    import sqlite3

    from grayhound.store.queue import (
        CASE_COLUMNS,
        COLUMNS,
        COUNTED,
        INDEXED,
        INDEXES,
        SEEN_COLUMNS,
        SEEN_TABLE,
        TABLE,
        VIEW,
        WRITE_GROUPS,
    )

    conn = sqlite3.connect(":memory:")
    for sql in (TABLE, SEEN_TABLE, VIEW, *INDEXES):
        conn.execute(sql)
    assert tuple(row[1] for row in conn.execute("PRAGMA table_info(queue)")) == COLUMNS
    assert tuple(row[1] for row in conn.execute("PRAGMA table_info(queue_cases)")) == CASE_COLUMNS
    assert tuple(row[1] for row in conn.execute("PRAGMA table_info(queue_seen)")) == SEEN_COLUMNS
    assert sorted(c for group in WRITE_GROUPS for c in group) == sorted(
        c for c in CASE_COLUMNS[1:] if c != COUNTED
    )
    names = [row[1] for row in conn.execute("PRAGMA index_list(queue_cases)")]
    held = {row[2] for name in names for row in conn.execute(f"PRAGMA index_info({name})")}
    assert held - {"case_id"} == set(INDEXED) == {c for (c,) in WRITE_GROUPS[1:]}
    assert not held & set(WRITE_GROUPS[0])


def _served(config):
    """A serve's context on the store of `config`, its queue refreshed once; and the queue's
    connection."""
    from reports.serve.context import ServeContext
    from reports.serve.derived import refresh_queue

    context = ServeContext(config=config, users={}, anonymous="none", local_user="me")
    context.derived_path = f"{config.storage.database}-triage"
    refresh_queue(context)
    return context, context.derived_conn


def _scratch_queue(tmp_path, config):
    """A queue derived whole from the store, in a file of its own: what any queue must say."""
    from grayhound.store.queue import CHANGES, PRICE_TEXT, fill_queue, open_queue
    from reports.serve.derived import _changes, _price_text

    scratch = open_queue(str(tmp_path / "scratch.db"), str(config.storage.database))
    scratch.create_function(PRICE_TEXT, 5, _price_text, deterministic=True)
    scratch.create_function(CHANGES, 2, _changes, deterministic=True)
    fill_queue(scratch)
    return scratch


def test_a_crawl_moves_the_moments_when_subjects_were_seen_and_no_case_row(tmp_path):
    """A crawl moves when every listing was last seen. The next start writes those moments
    into their narrow table (`queue_seen`) and not one row of the cases' wide table, and the
    queue (the view Datasette shows) says, row for row, what one derived from scratch says
    (issue 19, round 49: every wide row was written again after each crawl)."""
    from grayhound.config import load_config
    from grayhound.store.queue import COLUMNS
    from reports.serve.derived import refresh_queue
    from tests.evidence.conftest import simulate_run

    config = load_config(write_config(tmp_path))
    build_store(config)
    context, conn = _served(config)
    seen = COLUMNS.index("last_seen")
    before = {row[0]: row for row in conn.execute("SELECT * FROM queue")}
    conn.execute("CREATE TEMP TABLE writes (what TEXT, case_id INTEGER)")
    for what, row in (("DELETE", "old"), ("INSERT", "new"), ("UPDATE", "new")):
        conn.execute(
            f"CREATE TEMP TRIGGER cases_{what} AFTER {what} ON main.queue_cases"
            f" BEGIN INSERT INTO writes VALUES ('{what}', {row}.case_id); END"
        )

    simulate_run(config, [_page(offer) for offer in OFFERS])  # the same pages, seen again
    refresh_queue(context)
    assert context.queue_written == 0  # no case derived again (a whole derive: every one)
    triggers = "SELECT COUNT(*) FROM sqlite_temp_master WHERE type = 'trigger'"
    assert conn.execute(triggers).fetchone()[0] == 3  # the table they watch was never dropped
    after = {row[0]: row for row in conn.execute("SELECT * FROM queue")}
    assert after.keys() == before.keys()
    moved = {k for k in after if after[k][seen] != before[k][seen]}
    assert moved and all(after[k][seen] > before[k][seen] for k in moved)
    assert all(
        after[k][:seen] + after[k][seen + 1 :] == before[k][:seen] + before[k][seen + 1 :]
        for k in after
    )
    assert conn.execute("SELECT what, case_id FROM writes").fetchall() == []
    scratch = _scratch_queue(tmp_path, config)
    assert scratch.execute("SELECT * FROM queue ORDER BY case_id").fetchall() == sorted(
        after.values()
    )


def test_a_queue_kept_in_one_table_is_derived_again_as_its_cases_and_moments(tmp_path):
    """A queue file from before round 49 holds one table named `queue`, last_seen in each
    row: the next start drops it and its indexes, derives every case's row and moment, and
    the queue is then a view saying, row for row, what one derived from scratch says. A view
    of another version is made again the same way."""
    import sqlite3

    from grayhound.config import load_config
    from grayhound.store.queue import COLUMNS, ROW
    from reports.serve.derived import refresh_queue

    config = load_config(write_config(tmp_path))
    build_store(config)
    path = f"{config.storage.database}-triage"
    old = sqlite3.connect(path)
    old.execute(f"CREATE TABLE queue {ROW}")
    old.execute("CREATE INDEX queue_risk ON queue (risk, case_id)")
    old.execute("INSERT INTO queue (case_id, subject, last_seen) VALUES (1, 'stale', 'then')")
    old.execute("CREATE TABLE derived_from (name TEXT PRIMARY KEY, value)")
    old.execute("INSERT INTO derived_from VALUES ('version', 'a queue of one table')")
    old.commit()
    old.close()
    context, conn = _served(config)
    kinds = dict(conn.execute("SELECT name, type FROM sqlite_master WHERE name LIKE 'queue%'"))
    assert {k: v for k, v in kinds.items() if v in ("table", "view")} == {
        "queue": "view", "queue_cases": "table", "queue_seen": "table",
    }  # fmt: skip
    rows = conn.execute("SELECT * FROM queue ORDER BY case_id").fetchall()
    assert len(rows) > 1 and "stale" not in {row[1] for row in rows}
    indexed = conn.execute("SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'index'")
    assert {name for (name,) in indexed} == {"queue_cases", "derived_from"}

    # a queue of another version: its view is made again too, with this version's columns
    conn.execute("DROP VIEW queue")
    conn.execute("CREATE VIEW queue AS SELECT case_id FROM queue_cases")
    conn.execute("UPDATE derived_from SET value = 'another' WHERE name = 'version'")
    refresh_queue(context)
    assert [row[1] for row in conn.execute("PRAGMA table_info(queue)")] == list(COLUMNS)
    assert conn.execute("SELECT * FROM queue ORDER BY case_id").fetchall() == rows
    scratch = _scratch_queue(tmp_path, config)
    assert rows == scratch.execute("SELECT * FROM queue ORDER BY case_id").fetchall()


def test_the_queue_file_does_not_grow_from_one_serve_to_the_next(tmp_path, client_for):
    """A serve stopped by a signal leaves its writes in the queue's WAL, and while Datasette
    reads the queue the WAL is not started again from its beginning: each start appended its
    rows behind the last (5.5 GB beside a 0.7 GB queue after ten days at 1M listings). Each
    start now empties the WAL before it derives; what it served is still there."""
    import sqlite3
    from pathlib import Path

    from grayhound.config import load_config
    from grayhound.store.queue import open_queue, queue_path

    config = load_config(write_config(tmp_path))
    build_store(config)
    client = client_for(config)
    client.sign_in()
    rows = served_queue(client)
    store_path = str(config.storage.database)
    wal = Path(queue_path(store_path) + "-wal")
    # Datasette reading while the serve writes, then the serve killed (its connections never
    # closed, stood for by the reader left open): the WAL keeps what was written
    reader = sqlite3.connect(queue_path(store_path))
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM queue").fetchone()
    writer = open_queue(queue_path(store_path), store_path)  # a reader there: not emptied
    writer.execute("UPDATE queue_cases SET risk = risk")
    reader.execute("COMMIT")
    writer.close()
    assert wal.stat().st_size > 0
    opened = open_queue(queue_path(store_path), store_path)  # the next start: emptied
    assert wal.stat().st_size == 0
    assert opened.execute("SELECT COUNT(*) FROM queue").fetchone()[0] == len(rows)
    reader.close()
    opened.close()


def _start_serve(monkeypatch, config_path, while_serving) -> list:
    """`grayhound serve` run as the command, its Datasette kept (built, not served: uvicorn's
    run is `while_serving()`, called where it would begin answering requests)."""
    import socket

    import reports.serve.app
    from grayhound.cli import main

    built, build = [], reports.serve.app.build_datasette
    monkeypatch.setattr(reports.serve.app, "build_datasette", lambda *a, **k: built.append(
        build(*a, **k)) or built[-1])  # fmt: skip
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: while_serving())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    assert main(["--config", str(config_path), "serve", "--port", port]) == 0
    return built


def test_serve_derives_the_queue_as_it_starts_before_any_page_asks(tmp_path, monkeypatch):
    """A start begins deriving the cases queue at once, in a thread (its SQL on the other core
    while Datasette is imported and starts serving), not after the first page that shows it
    asked: the queue is there before any request, and that page serves it as derived at the
    start, without deriving it again (issue 19, round 9; fails before: no row before a page
    asked)."""
    import sqlite3
    import time

    from grayhound.config import load_config
    from grayhound.store.queue import queue_path
    from reports.serve.context import context_of
    from tests.serve.conftest import Client

    config_path = write_config(tmp_path)
    config = load_config(config_path)
    build_store(config)
    queued = []

    def while_serving() -> None:  # no request yet: the queue's rows appear by themselves
        deadline = time.monotonic() + 10
        while not queued and time.monotonic() < deadline:
            with sqlite3.connect(queue_path(str(config.storage.database))) as conn:
                try:
                    queued.extend(conn.execute("SELECT case_id FROM queue"))
                except sqlite3.OperationalError:  # no table yet
                    pass
            time.sleep(0.02)

    built = _start_serve(monkeypatch, config_path, while_serving)
    assert len(queued) > 3, "the queue derived before any page asked for it"
    client = Client(built[0])
    try:
        client.sign_in()
        rows = served_queue(client)
    finally:
        client.close()
    assert len(rows) == len(queued)
    assert context_of(built[0]).queue_written == len(rows)  # the start's, not the page's
    assert_as_derived(rows, config)


def test_a_refresh_that_fails_at_start_is_said_and_the_first_page_derives_the_queue(
    tmp_path, monkeypatch, caplog
):
    """The refresh begun at start fails as a page's would (a crawl holding the store's write
    lock past the busy timeout): the first page that shows the queue says so in the log, as
    a page's failed refresh does, and derives the queue itself."""
    import sqlite3

    import reports.serve.startup
    from grayhound.config import load_config
    from reports.serve.context import context_of
    from tests.serve.conftest import Client

    config_path = write_config(tmp_path)
    config = load_config(config_path)
    build_store(config)

    def locked(context):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(reports.serve.startup, "_refresh_queue", locked)
    built = _start_serve(monkeypatch, config_path, lambda: None)
    client = Client(built[0])
    try:
        client.sign_in()
        with caplog.at_level("WARNING", logger="reports.serve.derived"):
            rows = served_queue(client)
    finally:
        client.close()
    assert "derived tables not refreshed: database is locked" in caplog.text
    assert context_of(built[0]).queue_written == len(rows) > 3  # the page's own refresh
