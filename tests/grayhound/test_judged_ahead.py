"""The judge pass's listings judged ahead by a second process (grayhound/detection/ahead.py):
the store ends as judging in one process leaves it, table by table and row by row; a worker
that fails or dies mid-way stops the detection with its error, the chunks stored so far
stay stored and the rest queued, and the next detection ends where one that never stopped
would."""

from __future__ import annotations

import os
import random
import sqlite3

import pytest

from grayhound.config import load_config
from grayhound.errors import GrayhoundError
from grayhound.store import open_store
from tests.grayhound.test_incremental import Market, copy_store, write_config

LISTINGS, SELLERS, CHUNK = 300, 6, 40  # eight chunks of the first detection's judge pass
NOW = "2030-01-02T12:00:00.000000+00:00"


@pytest.fixture
def stores(tmp_path, monkeypatch):
    """Two copies of one crawled store, never judged: (config of one, config of the other)."""
    import grayhound.detection
    import grayhound.detection.listings

    monkeypatch.setattr(grayhound.detection.listings, "CHUNK", CHUNK)
    monkeypatch.setattr(grayhound.detection, "utc_now", lambda: NOW)  # the same rows
    configs = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        configs.append(load_config(write_config(tmp_path / name, [])))
    market = Market(random.Random(9), listings=LISTINGS, sellers=SELLERS)
    with open_store(configs[0].storage.database) as store:
        market.crawl(store, "2030-01-01T00:00:00.000Z")
    copy_store(configs[0].storage.database, configs[1].storage.database)
    return configs


def _judging_pids(monkeypatch, fail_at: int | None = None, how: str = "raise") -> list[int]:
    """The process ids `assess_listing` runs in, recorded in a file (a worker's list is its
    own); with `fail_at`, judging that listing in a worker raises or ends the worker."""
    import grayhound.detection.listings

    assess, parent = grayhound.detection.listings.assess_listing, os.getpid()
    pids: list[int] = []

    def recorded(facts, *args):
        if os.getpid() != parent and facts.id == fail_at:
            if how == "die":
                os._exit(3)
            raise RuntimeError(f"judging listing {facts.id} failed")
        pids.append(os.getpid())  # in this process only: a worker's append is lost
        return assess(facts, *args)

    monkeypatch.setattr(grayhound.detection.listings, "assess_listing", recorded)
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


def test_listings_judged_by_a_second_process_are_stored_as_one_process_stores_them(
    stores, monkeypatch
):
    from grayhound.detection import detect_findings

    alone, ahead = stores
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    pids = _judging_pids(monkeypatch)
    one = detect_findings(alone)
    assert set(pids) == {os.getpid()}
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    pids.clear()
    two = detect_findings(ahead)
    assert pids == []  # judged by the worker, not here (fails before: judged here)
    assert two == one
    assert _tables(ahead.storage.database) == _tables(alone.storage.database)


@pytest.mark.parametrize("how", ["raise", "die"])
def test_a_worker_that_fails_mid_way_leaves_the_rest_queued_and_the_next_detection_ends_the_same(
    stores, monkeypatch, how
):
    from grayhound.detection import detect_findings

    whole, stopped = stores
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    detect_findings(whole)
    with sqlite3.connect(stopped.storage.database) as conn:
        listings = [r[0] for r in conn.execute("SELECT id FROM listings ORDER BY id")]
    failing = listings[3 * CHUNK + 5]  # in the fourth chunk: three are stored before it
    _judging_pids(monkeypatch, fail_at=failing, how=how)
    error = RuntimeError if how == "raise" else GrayhoundError
    with pytest.raises(error, match="judging listing|worker judging listings stopped"):
        detect_findings(stopped)
    with sqlite3.connect(stopped.storage.database) as conn:
        queued = [r[0] for r in conn.execute("SELECT listing_id FROM judge_queue ORDER BY 1")]
        judged = conn.execute(
            "SELECT COUNT(*) FROM findings WHERE subject_kind = 'listing'"
        ).fetchone()[0]
    assert queued == listings[3 * CHUNK :]  # the chunk that failed and every later one
    assert judged == 3 * CHUNK
    monkeypatch.undo()  # judging as it is, the chunk size and the moment as before
    monkeypatch.setattr("grayhound.detection.listings.CHUNK", CHUNK)
    monkeypatch.setattr("grayhound.detection.utc_now", lambda: NOW)
    detect_findings(stopped)
    assert _tables(stopped.storage.database) == _tables(whole.storage.database)
