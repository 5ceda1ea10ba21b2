"""The judge pass's listings judged ahead by a second process (grayhound/detection/ahead.py):
the store ends as judging in one process leaves it, table by table and row by row; a worker
that fails or dies mid-way stops the detection with its error, the chunks stored so far
stay stored and the rest queued, and the next detection ends where one that never stopped
would."""

from __future__ import annotations

import os
import random
import sqlite3
import threading

import pytest

from grayhound.config import load_config
from grayhound.errors import GrayhoundError
from grayhound.store import open_store
from tests.grayhound.test_incremental import Market, copy_store, write_config

LISTINGS, SELLERS, CHUNK = 300, 6, 40  # eight chunks of the first detection's passes
NOW = "2030-01-02T12:00:00.000000+00:00"


@pytest.fixture(params=["first", "daily"])
def stores(request, tmp_path, monkeypatch):
    """Two copies of one crawled store: never judged ("first": every listing read and judged,
    both passes in this process) or judged and crawled again ("daily": a day of changes to
    most listings, both passes ahead); (one's config, the other's)."""
    import grayhound.detection
    import grayhound.detection.listings
    from grayhound.detection import detect_findings

    monkeypatch.setattr(grayhound.detection.listings, "CHUNK", CHUNK)
    monkeypatch.setattr(grayhound.detection, "utc_now", lambda: NOW)  # the same rows
    # the fixture sites' servers earlier tests leave running are other threads, and a
    # process with other threads does all in itself: the detection is shown its own only
    real, before = threading.active_count, threading.active_count()
    monkeypatch.setattr(threading, "active_count", lambda: real() - before + 1)
    configs = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        configs.append(load_config(write_config(tmp_path / name, [])))
    rng = random.Random(9)
    market = Market(rng, listings=LISTINGS, sellers=SELLERS)
    with open_store(configs[0].storage.database) as store:
        market.crawl(store, "2030-01-01T00:00:00.000Z")
    if request.param == "daily":
        monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
        detect_findings(configs[0])
        for _ in range(6):
            market.change()
        for number, item in market.listings.items():  # most prices move
            if number % 5:
                item["price"] = round(item["price"] * 0.97, 2)
        market.add(LISTINGS)
        with open_store(configs[0].storage.database) as store:
            market.crawl(store, "2030-01-02T00:00:00.000Z")
    copy_store(configs[0].storage.database, configs[1].storage.database)
    return configs


def _recorded_pids(
    monkeypatch, fail_at: int | None = None, how: str = "raise", failing_pass: str = "read"
) -> list:
    """The process ids a listing is read (`_reading_key`) and judged (`assess_listing`) in,
    recorded in a list (a worker's appends are its own); with `fail_at`, reading (or, with
    `failing_pass="judged"`, judging) a chunk with that listing in a worker raises, or ends
    the worker."""
    import grayhound.detection.listings as listings

    assess, key, parent = listings.assess_listing, listings._reading_key, os.getpid()
    pids: list[tuple[str, int]] = []  # (read or judged, the process id)

    def failing(ids, doing):
        if os.getpid() != parent and fail_at in ids and doing == failing_pass:
            if how == "die":
                os._exit(3)
            raise RuntimeError(f"reading or judging listing {fail_at} failed")
        pids.append((doing, os.getpid()))  # in this process only: a worker's append is lost

    def assessed(facts, *args):
        failing([facts.id], "judged")
        return assess(facts, *args)

    def reading_key(facts, judged_with):
        failing([facts.id], "read")
        return key(facts, judged_with)

    monkeypatch.setattr(listings, "assess_listing", assessed)
    monkeypatch.setattr(listings, "_reading_key", reading_key)
    return pids


def _tables(database) -> dict[str, list[tuple]]:
    """Every table's rows in rowid order (the queues' order included), a table without
    rowids in its key's order."""
    out = {}
    with sqlite3.connect(database) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            without_rowid = conn.execute(
                "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE name = ?", [name]
            ).fetchone()[0]
            order = "" if without_rowid else " ORDER BY rowid"
            out[name] = conn.execute(f'SELECT * FROM "{name}"{order}').fetchall()
    return out


def test_listings_read_and_judged_by_a_second_process_are_stored_as_one_process_stores_them(
    stores, monkeypatch
):
    from grayhound.detection import detect_findings

    alone, ahead = stores
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    pids = _recorded_pids(monkeypatch)
    one = detect_findings(alone)
    assert set(pids) == {("read", os.getpid()), ("judged", os.getpid())}
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    pids.clear()
    two = detect_findings(ahead)
    # on a daily detection read and judged by the worker, not here (fails before: both
    # here); a first detection does every listing here, where its heap is (fails before:
    # judged by a worker, ~370 MiB together at 100,000 listings against ~235 alone)
    first = "first detection on this store: judging everything" in two["said"]
    here = {("read", os.getpid()), ("judged", os.getpid())}
    assert set(pids) == (here if first else set())
    assert two == one
    assert two["work"]["listings_read"] > 2 * CHUNK and two["work"]["titles_read"] > 0
    assert _tables(ahead.storage.database) == _tables(alone.storage.database)


@pytest.mark.parametrize("stores", ["daily"], indirect=True)
@pytest.mark.parametrize("failing_pass", ["read", "judged"])
@pytest.mark.parametrize("how", ["raise", "die"])
def test_a_worker_that_fails_mid_way_leaves_the_rest_queued_and_the_next_detection_ends_the_same(
    stores, monkeypatch, how, failing_pass
):
    from grayhound.detection import detect_findings

    whole, stopped = stores
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    detect_findings(whole)
    queue = "judge_queue" if failing_pass == "judged" else "pending_listings"
    with sqlite3.connect(stopped.storage.database) as conn:
        # the listings the pass does: every one read is judged (those read are queued)
        read = "SELECT listing_id FROM pending_listings ORDER BY 1"
        listings = [r[0] for r in conn.execute(read)]
    failing = listings[3 * CHUNK + 5]  # in the fourth chunk: three are stored before it
    _recorded_pids(monkeypatch, fail_at=failing, how=how, failing_pass=failing_pass)
    error = RuntimeError if how == "raise" else GrayhoundError
    with pytest.raises(error, match="reading or judging listing"):
        detect_findings(stopped)
    with sqlite3.connect(stopped.storage.database) as conn:
        queued = [r[0] for r in conn.execute(f"SELECT listing_id FROM {queue} ORDER BY 1")]
    # the chunk that failed and every later one stay queued (the detection queues its gone
    # listings too), the three before it are stored
    assert failing in queued[:CHUNK] and queued == sorted(queued)
    assert [i for i in listings if i >= queued[0]] == [i for i in queued if i in set(listings)]
    assert len([i for i in listings if i < queued[0]]) > 2 * CHUNK
    monkeypatch.undo()  # reading and judging as they are, the chunk size and the moment kept
    monkeypatch.setattr("grayhound.detection.listings.CHUNK", CHUNK)
    monkeypatch.setattr("grayhound.detection.utc_now", lambda: NOW)
    detect_findings(stopped)
    assert _tables(stopped.storage.database) == _tables(whole.storage.database)


def test_a_bad_workers_setting_is_named_before_anything_is_judged(stores, monkeypatch):
    from grayhound.detection import detect_findings
    from grayhound.errors import UsageError

    config = stores[0]
    before = _tables(config.storage.database)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "two")
    # fails before: the detection read its sellers and titles, then used every CPU
    with pytest.raises(UsageError, match="GRAYHOUND_WORKERS='two'"):
        detect_findings(config)
    assert _tables(config.storage.database) == before
