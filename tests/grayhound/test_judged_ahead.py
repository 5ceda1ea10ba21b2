"""A pass's listings read and judged ahead, shared between this process and a second one
(grayhound/detection/ahead.py): the store ends as judging in one process leaves it, table by
table and row by row, each chunk read and judged once, in whichever process; an error in
either process (or a worker that dies) mid-way stops the detection with its error, the chunks
before it stored and the rest queued, and the next detection ends where one that never stopped
would."""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from pathlib import Path

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
    most listings, its passes shared with a worker); (one's config, the other's)."""
    from grayhound.detection import detect_findings

    configs, market = _crawled(tmp_path, monkeypatch, random.Random(9), LISTINGS)
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


def _crawled(tmp_path, monkeypatch, rng: random.Random, listings: int) -> tuple[list, Market]:
    """Two configs, each with a store of its own (the second empty), small chunks and one
    moment; a market of `listings` crawled into the first store; (the configs, the market)."""
    _same_chunks_and_moment(monkeypatch)
    _own_threads_only(monkeypatch)
    configs = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        configs.append(load_config(write_config(tmp_path / name, [])))
    market = Market(rng, listings=listings, sellers=SELLERS)
    with open_store(configs[0].storage.database) as store:
        market.crawl(store, "2030-01-01T00:00:00.000Z")
    return configs, market


def _own_threads_only(monkeypatch) -> None:
    """The fixture sites' servers earlier tests leave running are other threads, and a
    process with other threads does all in itself: a detection is shown its own only."""
    real, before = threading.active_count, threading.active_count()
    monkeypatch.setattr(threading, "active_count", lambda: real() - before + 1)


def _same_chunks_and_moment(monkeypatch) -> None:
    """Small chunks (listings: eight of the first detection's; sellers: three of verdicts) and
    one moment, so two detections write the same rows in the same order."""
    monkeypatch.setattr("grayhound.detection.listings.CHUNK", CHUNK)
    monkeypatch.setattr("grayhound.detection.sellers.CHUNK", 2)
    monkeypatch.setattr("grayhound.detection.utc_now", lambda: NOW)


def _recorded_pids(
    monkeypatch,
    record: Path,
    fail_at: int | None = None,
    how: str = "raise",
    failing_pass: str = "read",
    where: str = "worker",
    slow_here: bool = False,
) -> None:
    """Each listing read (`_reading_key`) and judged (`assess_listing`) written to `record`
    as a line (read or judged, the process id, the listing id), from whichever process; with
    `fail_at`, reading (or, with `failing_pass="judged"`, judging) a chunk with that listing
    raises or ends the process, in a worker only or (`where="either"`) in either. With
    `slow_here`, this process reads and judges each listing 2 ms slower (the worker surely
    starts before it has taken every chunk)."""
    import grayhound.detection.listings as listings

    assess, key, parent = listings.assess_listing, listings._reading_key, os.getpid()

    def failing(facts, doing):
        worker = os.getpid() != parent
        if facts.id == fail_at and doing == failing_pass and (worker or where == "either"):
            if how == "die":
                os._exit(3)
            raise RuntimeError(f"reading or judging listing {fail_at} failed")
        if slow_here and not worker:
            time.sleep(0.002)
        with record.open("a") as out:  # appended from either process
            out.write(f"{doing} {os.getpid()} {facts.id}\n")

    def assessed(facts, *args):
        failing(facts, "judged")
        return assess(facts, *args)

    def reading_key(facts, judged_with):
        failing(facts, "read")
        return key(facts, judged_with)

    monkeypatch.setattr(listings, "assess_listing", assessed)
    monkeypatch.setattr(listings, "_reading_key", reading_key)


def _done(record: Path) -> list[tuple[str, int, int]]:
    """(read or judged, process id, listing id) of each line `_recorded_pids` wrote."""
    if not record.exists():
        return []
    lines = record.read_text().splitlines()
    return [(doing, int(pid), int(listing)) for doing, pid, listing in map(str.split, lines)]


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
    stores, monkeypatch, tmp_path
):
    from grayhound.detection import detect_findings

    alone, ahead = stores
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    _recorded_pids(monkeypatch, tmp_path / "alone.txt")
    one = detect_findings(alone)
    done_alone = _done(tmp_path / "alone.txt")
    here = {("read", os.getpid()), ("judged", os.getpid())}
    assert {(doing, pid) for doing, pid, _ in done_alone} == here
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    _recorded_pids(monkeypatch, tmp_path / "ahead.txt", slow_here=True)
    two = detect_findings(ahead)
    done_ahead = _done(tmp_path / "ahead.txt")
    # each listing read and judged once, in whichever process (fails before this round:
    # with the worker alone, never here); a first detection does every listing here, where
    # its heap is (fails before: judged by a worker, ~370 MiB together at 100,000 listings
    # against ~235 alone)
    first = "first detection on this store: judging everything" in two["said"]
    if first:
        assert {(doing, pid) for doing, pid, _ in done_ahead} == here
    else:
        assert {pid for _, pid, _ in done_ahead} - {os.getpid()}  # a worker did some
    assert sorted((doing, i) for doing, _, i in done_ahead) == sorted(
        (doing, i) for doing, _, i in done_alone
    )
    assert two == one
    assert two["work"]["listings_read"] > 2 * CHUNK and two["work"]["titles_read"] > 0
    assert _tables(ahead.storage.database) == _tables(alone.storage.database)


@pytest.mark.parametrize("stores", ["daily"], indirect=True)
@pytest.mark.parametrize("failing_pass", ["read", "judged"])
@pytest.mark.parametrize(
    ("how", "where"),
    [("raise", "worker"), ("die", "worker"), ("raise", "either")],
)
def test_a_process_that_fails_mid_way_leaves_the_rest_queued_and_the_next_detection_ends_the_same(
    stores, monkeypatch, tmp_path, how, where, failing_pass
):
    import grayhound.detection.ahead as ahead
    from grayhound.detection import detect_findings

    whole, stopped = stores
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    detect_findings(whole)
    if where == "worker":  # the worker takes every chunk: none is judged here
        monkeypatch.setattr(ahead, "HELD_AHEAD", 0)
    queue = "judge_queue" if failing_pass == "judged" else "pending_listings"
    with sqlite3.connect(stopped.storage.database) as conn:
        # the listings the pass does: every one read is judged (those read are queued)
        read = "SELECT listing_id FROM pending_listings ORDER BY 1"
        listings = [r[0] for r in conn.execute(read)]
    failing = listings[3 * CHUNK + 5]  # in the fourth chunk: three are stored before it
    _recorded_pids(
        monkeypatch, tmp_path / "done.txt", fail_at=failing, how=how,
        failing_pass=failing_pass, where=where,
    )  # fmt: skip
    error = RuntimeError if how == "raise" else GrayhoundError
    with pytest.raises(error, match="reading or judging"):
        detect_findings(stopped)
    if where == "worker":
        assert {pid for _, pid, _ in _done(tmp_path / "done.txt")} - {os.getpid()}
        assert os.getpid() not in {pid for _, pid, _ in _done(tmp_path / "done.txt")}
    with sqlite3.connect(stopped.storage.database) as conn:
        queued = [r[0] for r in conn.execute(f"SELECT listing_id FROM {queue} ORDER BY 1")]
    # the chunk that failed and every later one stay queued (the detection queues its gone
    # listings too), the three before it are stored, even when a later chunk was judged
    # here ahead of them (fails before this round's `_shared` raised at that chunk's turn).
    # A worker that dies takes with it the results it judged but had not written to the
    # pipe yet (its sending thread's: two at most), which stay queued with the rest.
    lost = 0 if how == "raise" else 2
    assert failing in queued[: (1 + lost) * CHUNK] and queued == sorted(queued)
    assert [i for i in listings if i >= queued[0]] == [i for i in queued if i in set(listings)]
    assert len([i for i in listings if i < queued[0]]) > (2 - lost) * CHUNK
    if failing_pass == "judged":  # the stored chunks' sales wait, staged, for the next one
        with sqlite3.connect(stopped.storage.database) as conn:
            staged = {r[0] for r in conn.execute("SELECT listing_id FROM pending_sales")}
        assert {i for i in listings if i < queued[0]} <= staged
        assert not staged & set(queued)
    monkeypatch.undo()  # reading and judging as they are, the chunk sizes and the moment kept
    _same_chunks_and_moment(monkeypatch)
    detect_findings(stopped)
    assert _tables(stopped.storage.database) == _tables(whole.storage.database)


@pytest.mark.parametrize("stores", ["daily"], indirect=True)
def test_a_detection_stopped_before_its_sales_are_set_leaves_them_staged_for_the_next_one(
    stores, monkeypatch
):
    """Stopped after its last chunk, before the chunks' sales are set in `listing_sales`: the
    staged sales are a queue of the detection's (`pending_sales`), and the next detection,
    with no listing left to judge, sets them before the sellers' verdicts read them and ends
    where one that never stopped would."""
    from grayhound.detection import detect_findings
    from grayhound.store.detectstate import DetectState

    whole, stopped = stores
    detect_findings(whole)

    def stop(_store):
        raise RuntimeError("stopped before the sales were set")

    monkeypatch.setattr(DetectState, "apply_staged_sales", stop)
    with pytest.raises(RuntimeError, match="before the sales were set"):
        detect_findings(stopped)
    with sqlite3.connect(stopped.storage.database) as conn:
        staged = conn.execute("SELECT COUNT(*) FROM pending_sales").fetchone()[0]
        to_judge = conn.execute("SELECT COUNT(*) FROM judge_queue").fetchone()[0]
    assert staged > CHUNK and to_judge == 0
    monkeypatch.undo()  # the chunk sizes and the moment kept
    _same_chunks_and_moment(monkeypatch)
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


@pytest.fixture
def shared_work(tmp_path, monkeypatch):
    """What `chunks_ahead` needs of a detection's work (its store, for the worker's own
    connection), two processes allowed; the record file each process appends to."""
    from types import SimpleNamespace

    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    _own_threads_only(monkeypatch)
    with open_store(tmp_path / "grayhound.db") as store:
        yield SimpleNamespace(store=store), tmp_path / "taken.txt"


def _taken(record: Path) -> list[tuple[int, int]]:
    """(first id of a chunk, process id) of each chunk judged, from either process."""
    return [tuple(map(int, line.split())) for line in record.read_text().splitlines()]


def _wait_for(path: Path, seconds: float = 20.0) -> None:
    """Until `path` exists (another process made it); failing, not hanging, past `seconds`."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never came"
        time.sleep(0.005)


def test_each_chunk_is_judged_once_by_whichever_process_is_free_and_given_in_order(shared_work):
    from grayhound.detection.ahead import chunks_ahead

    work, record = shared_work
    parent, started = os.getpid(), record.with_name("started")

    def judge(_work, ids):
        if os.getpid() != parent:
            started.touch()
        elif ids[0] == 0:  # this process's first chunk: the worker has started by its end
            _wait_for(started)
        time.sleep(0.01)
        with record.open("a") as out:
            out.write(f"{ids[0]} {os.getpid()}\n")
        return [i * 2 for i in ids]

    chunks = [[n * 10 + k for k in range(3)] for n in range(30)]
    with chunks_ahead(work, chunks, judge) as judged:
        got = list(judged)
    assert got == [(ids, [i * 2 for i in ids]) for ids in chunks]
    taken = _taken(record)
    assert sorted(first for first, _ in taken) == [ids[0] for ids in chunks]  # each once
    # both took some (fails before this round: the worker judged every chunk)
    assert os.getpid() in {pid for _, pid in taken} and len({pid for _, pid in taken}) == 2


def test_an_error_in_a_chunk_judged_here_ahead_is_raised_at_its_turn(shared_work):
    """This process judges chunk 2 while the worker still judges chunk 1: chunk 2's error
    comes after chunks 0 and 1 are given, as judging in order would raise it."""
    import grayhound.detection.ahead as ahead

    work, record = shared_work
    parent, started = os.getpid(), record.with_name("started")

    def judge(_work, ids):
        if os.getpid() != parent:  # the worker: slow, so this process takes chunks ahead
            started.touch()
            time.sleep(1.0)
        else:
            _wait_for(started)  # the worker has taken its first chunk
            if ids[0] == 20:
                raise ValueError("chunk 2 failed")
        return ids

    chunks = [[n * 10] for n in range(6)]
    given = []
    with pytest.raises(ValueError, match="chunk 2 failed"):
        with ahead.chunks_ahead(work, chunks, judge) as judged:
            for ids, _ in judged:
                given.append(ids)
    assert ahead.HELD_AHEAD >= 1 and given == chunks[:2]  # fails if raised when judged


def test_a_new_title_read_in_both_processes_is_kept_and_counted_once(tmp_path, monkeypatch):
    """Two hundred new listings (five chunks) share a title no listing had: this process
    and the worker each read it before either keeps it, and the detection says one title
    read, as one process does (fails before this round: counted where read, twice)."""
    from grayhound.detection import detect_findings

    configs, market = _crawled(tmp_path, monkeypatch, random.Random(4), 100)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    detect_findings(configs[0])
    for number in range(100, 100 + 5 * CHUNK):
        market.add(number)
        market.listings[number]["title"] = "Xiaomi 14 Pro 512GB never seen before"
    with open_store(configs[0].storage.database) as store:
        market.crawl(store, "2030-01-02T00:00:00.000Z")
    copy_store(configs[0].storage.database, configs[1].storage.database)
    one = detect_findings(configs[0])
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    _recorded_pids(monkeypatch, tmp_path / "done.txt", slow_here=True)
    two = detect_findings(configs[1])
    # the worker read some of them (so it read the title too)
    assert {pid for doing, pid, _ in _done(tmp_path / "done.txt") if doing == "read"} - {
        os.getpid()
    }
    assert one["work"]["titles_read"] == 1 and two == one
    assert _tables(configs[1].storage.database) == _tables(configs[0].storage.database)


@pytest.mark.parametrize("stores", ["daily"], indirect=True)
def test_a_peer_group_that_fails_stops_there_its_and_the_later_groups_queued(stores, monkeypatch):
    """The peers pass's groups, scored by either process (`_peer_changes`): the third group's
    error stops the detection after the two before it are stored; the next one ends the
    same as a detection that never stopped."""
    import grayhound.detection.listings as listings
    from grayhound.detection import detect_findings
    from grayhound.store import Store

    whole, stopped = stores
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    detect_findings(whole)
    queued_groups, score = Store.queued_groups, listings._peer_changes
    groups: list[str] = []

    def seen(store):  # read here before the pass forks: the worker has the same list
        groups[:] = queued_groups(store)
        return list(groups)

    def failing(work, chunk):
        if chunk == [groups[2]]:
            raise RuntimeError(f"scoring peer group {chunk[0]} failed")
        return score(work, chunk)

    monkeypatch.setattr(Store, "queued_groups", seen)
    monkeypatch.setattr(listings, "_peer_changes", failing)
    with pytest.raises(RuntimeError, match="scoring peer group"):
        detect_findings(stopped)
    assert len(groups) > 3
    with sqlite3.connect(stopped.storage.database) as conn:
        left = [r[0] for r in conn.execute("SELECT peer_group FROM group_queue ORDER BY 1")]
    assert left == groups[2:]
    monkeypatch.undo()
    _same_chunks_and_moment(monkeypatch)
    detect_findings(stopped)
    assert _tables(stopped.storage.database) == _tables(whole.storage.database)


def test_a_result_the_worker_cannot_send_stops_the_pass_with_its_error(shared_work):
    """A chunk whose result cannot be pickled in the worker: its error comes back at that
    chunk's turn, the chunks before it given (fails before: the worker's sending thread died
    and both processes waited for ever)."""
    import signal

    from grayhound.detection.ahead import chunks_ahead

    work, record = shared_work
    parent, started = os.getpid(), record.with_name("started")

    def judge(_work, ids):
        if os.getpid() != parent:
            started.touch()
            return lambda: ids  # a function made here: no pickle can send it
        _wait_for(started)
        time.sleep(0.2)  # the worker's chunk is due before this process takes another
        return ids

    def hung(_signum, _frame):
        raise AssertionError("the pass hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    given = []
    try:
        with pytest.raises(Exception, match="pickle"):
            with chunks_ahead(work, [[n] for n in range(6)], judge) as judged:
                for ids, _ in judged:
                    given.append(ids)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert given == [[n] for n in range(len(given))]  # those before it, in order
