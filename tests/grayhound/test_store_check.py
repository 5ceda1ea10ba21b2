"""The damaged-store check costs nothing on a store grayhound left as it is (issue 19), and
still reads every page once anything else touched the file, or a week passed."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from grayhound.errors import DamagedStoreError
from grayhound.store import core, open_store


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "grayhound.db"
    with open_store(path) as store:
        with store.db.atomic():
            for n in range(3000):
                store.db.execute(
                    "INSERT INTO digests (created_at, since, counts) VALUES (?, ?, ?)",
                    ["2030-01-01", "2030-01-01", "x" * 200 + str(n)],
                )
    core._checked.clear()  # as a new process would start
    with open_store(path):  # the first command of the day checks it and remembers
        pass
    core._checked.clear()
    return path


def _damage_in_place(path) -> None:
    """Junk over a page in the middle, the file's size and times kept as they were."""
    with sqlite3.connect(path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    before = os.stat(path)
    with path.open("r+b") as handle:
        handle.seek(page_size * (pages // 2))
        handle.write(bytes(range(256)) * (page_size // 256))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_store_written_by_another_program_is_checked_and_named(store_path):
    with sqlite3.connect(store_path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with store_path.open("r+b") as handle:
        handle.seek(page_size * (pages // 2))
        handle.write(bytes(range(256)) * (page_size // 256))
    with pytest.raises(DamagedStoreError, match="the store is damaged"):
        open_store(store_path)


def _statements(monkeypatch) -> list[str]:
    """Every SQL statement the stores opened from now on run."""
    seen: list[str] = []
    real = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real(*args, **kwargs)
        conn.set_trace_callback(seen.append)
        return conn

    monkeypatch.setattr(core.sqlite3, "connect", connect)
    return seen


def test_a_store_as_grayhound_left_it_is_not_read_page_by_page(store_path, monkeypatch):
    seen = _statements(monkeypatch)
    with open_store(store_path) as store:  # another command, another process
        store.db.execute("INSERT INTO digests (created_at, since) VALUES ('2030', '2030')")
    core._checked.clear()
    with open_store(store_path):  # its own write does not make the next one check
        pass
    assert not [sql for sql in seen if "quick_check" in sql]
    os.utime(store_path)  # any other write (a backup restored, a program's edit)
    core._checked.clear()
    with open_store(store_path):
        pass
    assert [sql for sql in seen if "quick_check" in sql]


def test_a_week_after_its_last_check_the_store_is_read_page_by_page_again(store_path):
    _damage_in_place(store_path)
    stamp_path = store_path.with_name(store_path.name + core.STAMP_SUFFIX)
    stamp = json.loads(stamp_path.read_text())
    stamp["checked_at"] -= core.RECHECK_AFTER + 1
    stamp_path.write_text(json.dumps(stamp))
    with pytest.raises(DamagedStoreError):
        open_store(store_path)


def test_a_command_that_left_through_a_database_error_does_not_vouch_for_the_files(
    store_path, monkeypatch
):
    """A process that hit 'database disk image is malformed' (or any database error) must not
    record the files it leaves as clean: the next command reads them page by page."""
    seen = _statements(monkeypatch)
    with pytest.raises(sqlite3.DatabaseError):
        with open_store(store_path) as store:
            store.db.execute("INSERT INTO digests (created_at, since) VALUES ('2030', '2030')")
            raise sqlite3.DatabaseError("database disk image is malformed")
    core._checked.clear()
    with open_store(store_path):
        pass
    assert [sql for sql in seen if "quick_check" in sql]
