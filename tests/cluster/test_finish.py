"""A cluster run's end (`finish_cluster_run`): recorded in the store, then retired in Redis."""

from __future__ import annotations

import sqlite3

import pytest

from crawler.cluster.ingest import finish_cluster_run
from crawler.cluster.state import current_run, publish_run, read_run
from grayhound.store import open_store


def test_a_finished_run_whose_compaction_fails_is_still_retired(
    tmp_path, redis_server, monkeypatch
):
    """Compacting serve's change log after the run's end is housekeeping: when it fails, the
    end is recorded, so Redis must not keep the run as the one being crawled (the next
    `grayhound ingest` would take it up again); the error is still raised."""
    from grayhound.store import queuelog
    from grayhound.store.crawldata import LogCompactionError

    client = redis_server.client(db=3)
    client.flushdb()

    def broken(db, allowance=1):
        raise sqlite3.OperationalError("disk I/O error")

    with open_store(tmp_path / "grayhound.db") as store:
        run = store.start_run(["bazaar"], "2026-12-04T00:00:00+00:00")
        publish_run(client, run, ["bazaar"], "hash", 30.0)
        monkeypatch.setattr(queuelog, "_due", lambda db, allowance: True)
        monkeypatch.setattr(queuelog, "compact_log", broken)
        with pytest.raises(LogCompactionError, match=r"end is recorded \(finished\)"):
            finish_cluster_run(client, store, run, ["bazaar"], "finished")
        status = store.db.execute("SELECT status FROM crawl_runs WHERE id = ?", [run])
        assert status.fetchone() == ("finished",)
    assert current_run(client) is None
    assert read_run(client, run)["status"] == "done"
    client.flushdb()
