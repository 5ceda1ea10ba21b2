"""The write-ahead logs a server copies back (issue 19): its start copies back the store's WAL
that the last command left, on a thread of its own beside the queue's refresh, not as it
closes the connection that checked the store; the queue's refreshes copy theirs back after
they committed, not in the commit the first page waits for. Nothing is lost either way."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grayhound.cli import main
from tests.serve.conftest import build_store, start_serve, write_config


def _join_grayhound_threads() -> None:
    """Until none is left: a refresh starts its checkpoint's thread as it ends."""
    deadline = time.monotonic() + 60
    while running := [t for t in threading.enumerate() if t.name.startswith("grayhound-")]:
        assert time.monotonic() < deadline, [t.name for t in running]
        running[0].join(1)


def _wal_size(path) -> int:
    try:
        return os.path.getsize(f"{path}-wal")
    except FileNotFoundError:
        return 0


def _file_alone(path, tmp_path: Path) -> sqlite3.Connection:
    """The database file as it is without its WAL: what was copied back into it."""
    alone = tmp_path / f"alone-{time.monotonic_ns()}.db"
    shutil.copyfile(path, alone)
    return sqlite3.connect(alone)


def _wal_database(path: Path) -> sqlite3.Connection:
    """A WAL database whose commits leave their pages in the WAL (as the queue's do)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(2000)])
    return conn


def test_a_refresh_commits_without_copying_its_wal_back_then_copies_it_all(
    served_store, tmp_path, monkeypatch
):
    from grayhound.store import queue
    from reports.serve import derived
    from reports.serve.context import serve_context

    _, config = served_store
    behind = []
    monkeypatch.setattr(queue, "checkpoint_behind", behind.append)
    context = serve_context(config)
    derived._refresh_queue(context)
    path = context.derived_path
    assert behind == [path]  # after the refresh, once
    assert context.derived_conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    assert _wal_size(path) > 0
    rows = sqlite3.connect(path).execute("SELECT * FROM queue ORDER BY case_id").fetchall()
    assert rows
    assert _file_alone(path, tmp_path).execute("SELECT name FROM sqlite_master").fetchall() == []
    monkeypatch.undo()
    queue.checkpoint_behind(path).join()
    assert _wal_size(path) == 0  # copied back whole, then truncated
    alone = _file_alone(path, tmp_path)
    assert alone.execute("SELECT * FROM queue ORDER BY case_id").fetchall() == rows
    context.derived_conn.close()


def test_copying_back_never_waits_for_a_reader_and_truncates_once_it_left(tmp_path, monkeypatch):
    from grayhound.store import queue

    path = tmp_path / "derived.db"
    writer = _wal_database(path)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT COUNT(*) FROM t").fetchone() == (2000,)
    monkeypatch.setattr(queue, "TRUNCATE_TRIES", 3)
    monkeypatch.setattr(queue, "TRUNCATE_PAUSE", 0.01)
    started = time.monotonic()
    queue.checkpoint_behind(str(path)).join()
    assert time.monotonic() - started < 5
    assert _wal_size(path) > 0  # the reader is still in it: not truncated
    assert _file_alone(path, tmp_path).execute("SELECT COUNT(*) FROM t").fetchone() == (2000,)
    monkeypatch.setattr(queue, "TRUNCATE_TRIES", 500)
    thread = queue.checkpoint_behind(str(path))
    time.sleep(0.05)
    reader.execute("COMMIT")  # the reader leaves while it tries
    thread.join()
    assert _wal_size(path) == 0
    writer.execute("INSERT INTO t VALUES (-1)")  # the WAL starts again from its beginning
    assert reader.execute("SELECT COUNT(*) FROM t").fetchone() == (2001,)


def test_copying_back_a_missing_file_makes_none(tmp_path):
    from grayhound.store import queue

    queue.checkpoint_behind(str(tmp_path / "gone.db")).join()
    assert list(tmp_path.iterdir()) == []


def test_serve_copies_back_the_wal_a_command_left_and_keeps_the_store_vouched_for(
    tmp_path, monkeypatch
):
    """A command that ends without closing the store (as detect or the digest may) leaves its
    WAL; `serve` copies it back beside the queue's refresh (another connection is open, so
    closing its own copies nothing), and the store's files stay the ones grayhound vouches
    for: the next command does not check it again."""
    from grayhound.config import load_config
    from grayhound.store import core

    config = load_config(write_config(tmp_path))
    build_store(config)
    db = Path(config.storage.database)
    left = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA wal_autocheckpoint = 0')\n"
        "c.execute('PRAGMA user_version = 7')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", left, str(db)], check=True)
    assert _wal_size(db) > 0
    assert _file_alone(db, tmp_path).execute("PRAGMA user_version").fetchone() == (0,)
    holder = sqlite3.connect(db)  # another reader of the store, idle
    assert holder.execute("PRAGMA user_version").fetchone() == (7,)
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: None)  # started, not served
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    assert main(["--config", str(tmp_path / "grayhound.toml"), "serve", "--port", port]) == 0
    _join_grayhound_threads()
    assert _file_alone(db, tmp_path).execute("PRAGMA user_version").fetchone() == (7,)
    holder.close()
    core._checked.clear()  # as a new process sees it
    assert core._clean_stamp_holds(db)


def test_asked_while_it_copies_one_thread_copies_once_more_after(tmp_path, monkeypatch):
    from grayhound.store import queue

    path, calls, held = str(tmp_path / "derived.db"), [], threading.Event()

    def copy_back(asked: str) -> None:
        calls.append(asked)
        assert held.wait(10)

    monkeypatch.setattr(queue, "_copy_back", copy_back)
    first = queue.checkpoint_behind(path)
    assert queue.checkpoint_behind(path) is first
    assert queue.checkpoint_behind(path) is first  # asked twice meanwhile: once more
    held.set()
    first.join()
    assert calls == [path, path]
    second = queue.checkpoint_behind(path)
    second.join()
    assert second is not first and calls == [path] * 3


def test_a_checkpoint_that_fails_as_serve_starts_leaves_the_store_to_be_checked(tmp_path):
    import sqlite_utils

    from grayhound.commands.serving import _checkpoint_and_close
    from grayhound.config import load_config
    from grayhound.store import core, open_store

    config = load_config(write_config(tmp_path))
    build_store(config)
    db = Path(config.storage.database)
    _checkpoint_and_close(open_store(db))
    core._checked.clear()
    assert core._clean_stamp_holds(db)

    class Failing(sqlite_utils.Database):
        def execute(self, sql, *args):
            if "wal_checkpoint" in sql:
                raise sqlite3.OperationalError("disk I/O error")
            return super().execute(sql, *args)

    store = open_store(db)
    store.db = Failing(store.db.conn)
    _checkpoint_and_close(store)
    assert not core._clean_stamp_holds(db)  # the next command checks the store again


def test_copying_back_asked_from_a_daemon_thread_is_no_daemon(tmp_path):
    from grayhound.store import queue

    writer = _wal_database(tmp_path / "derived.db")
    made = []
    asker = threading.Thread(
        target=lambda: made.append(queue.checkpoint_behind(str(tmp_path / "derived.db"))),
        daemon=True,
    )
    asker.start()
    asker.join()
    assert not made[0].daemon  # a server asked to stop waits for it
    made[0].join()
    assert _wal_size(tmp_path / "derived.db") == 0
    writer.close()


def test_copying_back_that_fails_does_not_stop_the_next(tmp_path, monkeypatch):
    from grayhound.store import queue

    path, calls = str(tmp_path / "derived.db"), []
    monkeypatch.setattr(threading, "excepthook", lambda args: calls.append(args.exc_type))

    def broken(asked: str) -> None:
        calls.append(asked)
        raise RuntimeError("cannot resolve")

    monkeypatch.setattr(queue, "_copy_back", broken)
    queue.checkpoint_behind(path).join()
    assert calls == [path, RuntimeError]
    monkeypatch.setattr(queue, "_copy_back", calls.append)
    thread = queue.checkpoint_behind(path)  # a new thread, not the dead one's place
    thread.join()
    assert calls[-1] == path and len(calls) == 3


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_server_stopped_by_a_signal_leaves_the_queues_wal_copied_back_and_empty(tmp_path, stop):
    """uvicorn ends a server stopped by SIGTERM by raising the signal again once it shut
    down, which ends the process at once: a copy of the queue's WAL still running on its
    thread was cut off, and the next start read it through and copied it back before its
    first page. The server's shutdown now copies what is left and waits for it."""
    from grayhound.config import load_config
    from grayhound.store.queue import queue_path

    config_path = write_config(tmp_path, anonymous="read")  # the queue read without signing in
    config = load_config(config_path)
    build_store(config)
    server, _ = start_serve(config_path, "/triage/queue.json?_size=5")
    try:
        queue_file = queue_path(str(Path(config.storage.database)))
        deadline = time.monotonic() + 30  # the first page's refresh copied its own WAL back
        while _wal_size(queue_file) and time.monotonic() < deadline:
            time.sleep(0.05)
        # pages in the WAL that no checkpoint copied yet, as a refresh just before the stop
        # leaves them (another connection's: the server's stay open, so closing it copies
        # nothing back)
        late = sqlite3.connect(queue_file, isolation_level=None)
        late.execute("PRAGMA wal_autocheckpoint = 0")
        late.execute("BEGIN")
        late.execute("CREATE TABLE late_rows (x)")
        late.executemany("INSERT INTO late_rows VALUES (?)", [(i,) for i in range(3000)])
        late.execute("COMMIT")
        late.close()
        assert _wal_size(queue_file) > 0
        assert (
            _file_alone(queue_file, tmp_path)
            .execute("SELECT name FROM sqlite_master WHERE name = 'late_rows'")
            .fetchall()
            == []
        )
        server.send_signal(stop)
        said = server.communicate(timeout=60)[0]
    finally:
        server.kill()
        server.wait()
    assert _wal_size(queue_file) == 0
    alone = _file_alone(queue_file, tmp_path)
    assert alone.execute("SELECT COUNT(*) FROM late_rows").fetchone() == (3000,)
    assert alone.execute("SELECT COUNT(*) FROM queue").fetchone()[0] > 0
    assert "stopping: copying the queue's write-ahead log back into its file" in said


def test_a_stop_copies_back_even_when_it_cannot_say_so_and_datasette_still_starts(
    tmp_path, monkeypatch
):
    """The stop's line goes to stdout, which may be gone (`grayhound serve | tee log`, the
    terminal closed): the copy is made all the same. The lifespan messages still reach the
    app inside (Datasette starts on the first of any kind)."""
    import asyncio

    import click

    from grayhound.commands.serving import _finishing_on_stop

    queue_file = tmp_path / "derived.db"
    writer = _wal_database(queue_file)
    assert _wal_size(queue_file) > 0
    seen = []

    async def inner(scope, receive, send):  # Datasette's lifespan handler, as it answers
        while True:
            message = await receive()
            seen.append(message["type"])
            kind = message["type"].rsplit(".", 1)[1]
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return

    def gone(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(click, "echo", gone)
    closing = threading.Thread(target=lambda: None)
    closing.start()
    app = _finishing_on_stop(inner, str(queue_file), closing)
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent = []

    async def receive():
        return next(incoming)

    async def send(message):
        sent.append(message["type"])

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert seen == ["lifespan.startup", "lifespan.shutdown"]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert _wal_size(queue_file) == 0
    assert _file_alone(queue_file, tmp_path).execute("SELECT COUNT(*) FROM t").fetchone() == (2000,)
    writer.close()
