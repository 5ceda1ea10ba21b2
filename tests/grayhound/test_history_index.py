"""The price history's index (migration 0021, issue 19 round 23): a store from before it gets
it when next opened, says so first when that takes a while, and the price report reads the
same from it."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from benchmarks import store_scale
from grayhound.cli import main
from grayhound.store import open_store, pricing

INDEX = "idx_observations_history"
STEP = "0021_issue19_price_history_index"


def _indexes(database) -> set[str]:
    with closing(sqlite3.connect(database)) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}


def _as_before(database) -> None:
    """The store as the release before this index left it."""
    with closing(sqlite3.connect(database)) as conn, conn:
        conn.execute(f"DROP INDEX {INDEX}")
        conn.execute("DELETE FROM _migrations WHERE name = ?", [STEP])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    directory = tmp_path_factory.mktemp("history")
    built = store_scale.build(directory, 400)
    assert main(["--config", str(built["config"]), "detect"]) == 0
    store_scale.crawl_day(directory)
    return directory, built["config"]


def test_a_store_from_before_gets_the_index_and_a_large_one_says_so(built, monkeypatch, capsys):
    directory, _ = built
    database = directory / "grayhound.db"
    assert INDEX in _indexes(database)  # a new store has it from the start
    _as_before(database)
    assert INDEX not in _indexes(database)
    capsys.readouterr()
    with open_store(database):  # small: upgraded without a word
        pass
    assert INDEX in _indexes(database)
    assert "upgrading" not in capsys.readouterr().err
    _as_before(database)
    monkeypatch.setattr(pricing, "HISTORY_NOTICE_AT", 500)  # 400 listings, seen twice
    with open_store(database):
        pass
    assert INDEX in _indexes(database)
    err = capsys.readouterr().err
    assert "upgrading the store (once): indexing the price history of" in err
    with closing(sqlite3.connect(database)) as conn:
        (observations,) = conn.execute("SELECT MAX(id) FROM observations").fetchone()
    assert f"{observations:,} observations" in err


@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
def test_the_price_report_reads_the_same_with_the_index_as_without(built, tmp_path, fmt):
    directory, config = built
    database = directory / "grayhound.db"
    with_index = tmp_path / f"with.{fmt}"
    assert main(["--config", str(config), "prices", "--format", fmt, "--out", str(with_index)]) == 0
    with closing(sqlite3.connect(database)) as conn:  # the history read from the table instead
        conn.execute(f"DROP INDEX {INDEX}")
    try:
        without = tmp_path / f"without.{fmt}"
        args = ["--config", str(config), "prices", "--format", fmt, "--out", str(without)]
        assert main(args) == 0  # the step is recorded: opening the store does not make it again
        assert INDEX not in _indexes(database)
        assert without.read_bytes() == with_index.read_bytes()
        assert with_index.stat().st_size > 10_000  # a history, not an empty report
    finally:
        with closing(sqlite3.connect(database)) as conn:
            conn.execute(pricing.HISTORY_INDEX_SQL)


def test_an_upgrade_with_nowhere_to_say_so_still_upgrades(built, monkeypatch):
    """stderr gone (a closed pipe): the notice is dropped, the store upgraded all the same."""
    directory, _ = built
    database = directory / "grayhound.db"
    _as_before(database)

    class Gone:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(pricing, "HISTORY_NOTICE_AT", 1)
    monkeypatch.setattr("sys.stderr", Gone())
    with open_store(database):
        pass
    assert INDEX in _indexes(database)
