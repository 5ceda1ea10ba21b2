"""A detection's passes on a day's change, in chunks shared between this process and a forked
worker (issue 19): listings read and judged, peer groups scored, sellers' verdicts. Judging is
Python (facts, readings, `assess_listing`, the rows' JSON and fingerprints), storing is SQLite
(findings and their triggers, staged sales, queues, the commit): on a machine with two cores they
overlap. Each process takes the next chunk no one has taken: the worker whenever it is free,
this process whenever the chunk it must store next is not judged yet (round 46: in the read
pass it had waited for the worker ~2.5 s of ~3.2 s at 1M), holding at most `HELD_AHEAD`
chunks judged ahead of the one it stores.

The worker only reads, through a read-only connection of its own (a connection must not be
used on both sides of a fork), and sends each chunk's result back in the order it took them,
from a thread of its own (so it judges its next chunk while this process, busy judging one
too, has not read the last). Every write stays here, in the same order and transactions as
judging in this process alone would make them, so a detection that stops (the worker's error,
this process's) leaves the chunks it did not store queued, and an error in a chunk judged
ahead here is raised at that chunk's turn, after the chunks before it are stored. The results
are those of judging in this process: nothing a pass writes is read by judging another chunk
(the findings, sales, states, peer signals and queues of a chunk's own listings or sellers are
written; facts, kept states, peer ratios, sales and sellers' identities are read, all written
by the passes before, which are committed). The one exception, the title words a chunk reads
and keeps, is a cache: a title read on both sides is read the same, and counted once, when
kept (`Work.store_held`)."""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import TypeVar

from grayhound.errors import GrayhoundError
from grayhound.store.core import open_reader
from grayhound.store.digestcases import database_file
from grayhound.workers import can_fork, end_with_parent, portable, worker_count

Result = TypeVar("Result")


HELD_AHEAD = 2  # chunks this process judges ahead of the one it stores next, at most


def shares_work(work) -> bool:
    """Whether a pass's chunks are shared with a worker: on a day's change, not in a
    detection that does every listing again (`--full`, a changed config section or detector
    code). There the read pass has filled this process's heap and page cache with what every
    title and listing needed; a worker forked then keeps the pages this process goes on
    writing, and the two together took ~370 MiB at 100,000 listings and 463 MiB at 1M
    (one process: ~235 MiB), for no gain in time (20.8 s against 20.2 s at 100k)."""
    return not (work.scope.full or work.scope.redo)


def queue_chunks(work, queued: Callable[[int], list[int]], do, size: int):
    """A context of (ids, do(work, ids)) for each chunk of `size` of a pass's queue, in order
    (`queued(limit)`: the queue's first `limit` ids, all of them with -1). On a day's change
    (`shares_work`) the whole queue is read at once and its chunks shared by a worker and this
    process (`chunks_ahead`); otherwise each chunk in this process, taken from the queue once
    the one before is stored and released, so no list of every queued id is held."""
    if shares_work(work):
        ids = queued(-1)
        return chunks_ahead(work, [ids[at : at + size] for at in range(0, len(ids), size)], do)
    return nullcontext(_queue_here(work, lambda: queued(size), do))


def _queue_here(work, queued, do):
    while ids := queued():
        yield ids, do(work, ids)


def _in_order(work, chunks, judge):
    return ((ids, judge(work, ids)) for ids in chunks)


@contextmanager
def chunks_ahead(
    work, chunks: Sequence[list], judge: Callable[[object, list], Result], *, share: bool = True
) -> Iterator[Iterator[tuple[list, Result]]]:
    """(ids, judge(work, ids)) for each chunk in order: each judged by a forked worker (reading
    the store as it stands now) or, when the worker has not judged the chunk to store next, by
    this process (`_shared`); or all in this process, chunk by chunk as it is asked for, where
    sharing is not asked for (`share`) or cannot help (one chunk, one CPU, another thread
    running, no `fork` or no shared counter). An error, the worker's or this process's, is
    raised here at its chunk; a worker still running when the block ends (the caller stopped)
    is ended."""
    shared = share and len(chunks) > 1 and _may_fork()
    context = multiprocessing.get_context("fork") if shared else None
    taken = _counter(context) if shared else None
    if taken is None:
        yield _in_order(work, chunks, judge)
        return
    path = database_file(work.store.db)
    for stream in (sys.stdout, sys.stderr):  # the worker must not write them out again
        stream.flush()
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(
        target=_judge_all,
        args=(work, path, chunks, judge, taken, (receiver, sender), os.getpid()),
        daemon=True,
    )
    worker.start()
    sender.close()  # only the worker writes: its end closing tells us it is gone
    try:
        yield _shared(work, chunks, judge, taken, worker, receiver)
    finally:
        receiver.close()
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _counter(context):
    """The first chunk no process has taken yet, shared by the fork; None without POSIX
    semaphores on this system."""
    try:
        return context.Value("l", 0)
    except (OSError, ImportError):
        return None


def _take(taken, count: int) -> int | None:
    """The number of the first chunk no process has taken, now taken; None when all are."""
    with taken.get_lock():
        number = taken.value
        if number >= count:
            return None
        taken.value = number + 1
        return number


def _shared(
    work, chunks, judge, taken, worker, receiver: Connection
) -> Iterator[tuple[list, Result]]:
    """Each chunk's result in order: the worker's, received in the order it took them, or one
    judged here, by taking the next chunk whenever the one to store next is not received
    yet (and fewer than `HELD_AHEAD` are held, none of them failed). Every chunk before the
    one to store next is stored, so the worker's next result, when it is not here, is that
    chunk's."""
    here: dict[int, tuple[bool, object]] = {}  # chunk number -> (judged, result or error)
    failed = False  # a chunk judged here failed: no more are taken (its error comes at its turn)
    for number, ids in enumerate(chunks):
        while number not in here:
            if len(here) < HELD_AHEAD and not failed and not receiver.poll():
                mine = _take(taken, len(chunks))
                if mine is not None:
                    here[mine] = _judged_here(work, judge, chunks[mine])
                    failed = not here[mine][0]
                    continue
            here[number] = _from_worker(worker, receiver, number)
        judged, value = here.pop(number)
        if not judged:
            raise value
        yield ids, value


def _judged_here(work, judge, ids: list) -> tuple[bool, object]:
    """(True, judge(work, ids)), or (False, its error), raised at the chunk's turn."""
    try:
        return True, judge(work, ids)
    except Exception as error:  # noqa: BLE001 - raised in order, by `_shared`
        return False, error


def _from_worker(worker, receiver: Connection, number: int) -> tuple[bool, object]:
    try:
        judged, sent, value = receiver.recv()
    except EOFError:
        worker.join()
        raise GrayhoundError(
            f"the worker reading or judging this detection's chunks stopped (exit code"
            f" {worker.exitcode}) before it finished; what it had not done stays queued for the"
            " next detection"
        ) from None
    if judged and sent != number:  # never: the worker takes chunks in order and sends them so
        raise GrayhoundError(f"the worker sent chunk {sent} where chunk {number} was due")
    return judged, value  # an error: raised at this chunk's turn, the ones before it stored


def _may_fork() -> bool:
    """Whether a second process can judge: `worker_count()` of 2 or more (a second CPU this
    process may run on, or `GRAYHOUND_WORKERS`), `fork`, and no other thread in this process
    (it may hold a lock, SQLite's included, that the fork would copy held into the worker)."""
    return worker_count() > 1 and threading.active_count() == 1 and can_fork()


def _judge_all(work, path: str, chunks, judge, taken, pipe, parent: int) -> None:
    """In the worker: each chunk it takes judged through a read-only connection of its own,
    its result sent back as (True, its number, result); the first error as (False, the number
    of the chunk it took last, or None, error), and nothing after it. Each message is pickled
    here, where a failure to pickle is an error like any other, and written by a thread, so
    the worker judges on while its parent is busy (a message or two wait, no more)."""
    end_with_parent(parent)
    receiver, sender = pipe
    receiver.close()  # the parent's end: the worker's copy would keep the pipe open
    outbox: queue.Queue = queue.Queue(maxsize=1)

    def send() -> None:
        writing = True
        while (payload := outbox.get()) is not None:
            if writing:
                try:
                    sender.send_bytes(payload)
                except BaseException:  # noqa: BLE001 - the parent stopped reading: drained
                    writing = False

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    number = None
    try:
        work.store, work.worker = open_reader(path), True
        while (number := _take(taken, len(chunks))) is not None:
            outbox.put(ForkingPickler.dumps((True, number, judge(work, chunks[number]))))
    except BaseException as error:  # noqa: BLE001 - every failure goes back to the parent
        outbox.put(ForkingPickler.dumps((False, number, portable(error))))
    finally:
        outbox.put(None)
        thread.join()
        sender.close()
