"""The kept book's decision made on a second CPU (issue 19, round 9): a forked worker decides
the day's changed cases while the fill's connection writes, and the digest, its record and
the book are what one process deciding them gives."""

from __future__ import annotations

import os
import random
import sqlite3

import pytest

from grayhound.pipeline import produce_digest
from grayhound.store import open_store
from reports.digest import spool
from reports.digest.render import render
from tests.reports.digest.test_daily_work import move_one
from tests.reports.digest.test_stored_book import FORMATS, a_day, kept
from tests.reports.digest.test_streamed import many


def copy_of(store, path):
    target = sqlite3.connect(path)
    store.db.conn.backup(target)
    target.close()
    return open_store(path)


def deciding_pids(monkeypatch, tmp_path):
    """`spool._decisions` wrapped to note, in a file (a worker's memory is its own), the
    process deciding each case."""
    real, noted = spool._decisions, tmp_path / "pids"

    def decisions(undecided):
        for decided in real(undecided):
            with noted.open("a") as handle:
                handle.write(f"{os.getpid()}\n")
            yield decided

    monkeypatch.setattr(spool, "_decisions", decisions)
    return lambda: noted.read_text().split() if noted.exists() else []


def a_changed_day_digested(world, example_config, monkeypatch, tmp_path, workers):
    """Two digests of 45 flagged listings, one price moved, then the day's digest made with
    `workers` processes: the digest and the processes that decided its cases."""
    monkeypatch.setenv("GRAYHOUND_WORKERS", str(workers))
    many(world, 45)
    produce_digest(world.store, example_config, world.at(1))
    produce_digest(world.store, example_config, world.at(2))
    move_one(world, 24, "399.00")
    world.store.db.conn.commit()
    pids = deciding_pids(monkeypatch, tmp_path)
    digest = produce_digest(world.store, example_config, world.at(25))
    assert digest.counts["groups"] == {"new": 0, "changed": 1, "still_open": 44}
    return digest, pids()


def test_a_days_changed_cases_are_decided_on_a_second_cpu(
    world, example_config, monkeypatch, tmp_path, own_threads_only
):
    """Before: the fill's own process decided every case after it made the rows (one CPU)."""
    digest, pids = a_changed_day_digested(world, example_config, monkeypatch, tmp_path, 2)
    assert pids and str(os.getpid()) not in pids
    (changed,) = digest.items["changed"]
    assert changed["changes"] == ["price 456.00 → 399.00 USD (-12%)"]  # the worker's sentence


def test_one_cpu_decides_in_the_digests_own_process(world, example_config, monkeypatch, tmp_path):
    _, pids = a_changed_day_digested(world, example_config, monkeypatch, tmp_path, 1)
    assert pids == [str(os.getpid())]


@pytest.mark.parametrize("seed", [4, 5])
def test_a_worker_decides_what_this_process_would(
    world, example_config, monkeypatch, tmp_path, own_threads_only, seed
):
    """Days of random changes, each digest made twice on copies of the same store: decided by
    a worker and by this process alone; the same bytes in every format, the same book,
    tallies, record and cases after it."""
    rng = random.Random(seed)
    many(world, 30)
    for day in range(1, 7):
        hours = day * 24.0
        a_day(world, rng, hours)
        record = rng.random() < 0.7
        monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
        with copy_of(world.store, tmp_path / f"alone-{day}.db") as alone:
            expected = produce_digest(alone, example_config, world.at(hours + 1), record=record)
            outputs = {fmt: render(expected, fmt) for fmt in FORMATS}
            tables = kept(alone)
        monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
        digest = produce_digest(world.store, example_config, world.at(hours + 1), record=record)
        for fmt in FORMATS:
            assert render(digest, fmt) == outputs[fmt], (day, fmt)
        assert kept(world.store) == tables, day
