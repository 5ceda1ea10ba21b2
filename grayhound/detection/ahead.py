"""Listings judged ahead: the judge pass's chunks judged by a forked worker, one after the
other, while this process stores the chunk before (issue 19). Judging is Python (facts,
readings, `assess_listing`, the rows' JSON and fingerprints), storing is SQLite (findings
and their triggers, sales, queues, the commit): on a machine with two cores they overlap.

The worker only reads, through a read-only connection of its own (a connection must not be
used on both sides of a fork), and sends each chunk's result back in order; every write stays
here, in the same order and transactions as judging in this process would make them, so a
detection that stops (the worker's error, this process's) leaves the chunks it did not store
queued. The results are those of judging in this process: nothing the judge pass writes is
read by judging (the findings, sales and verdict queue are written; facts, kept states and
sellers' identities are read, all written by the passes before, which are committed)."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import TypeVar

from grayhound.errors import GrayhoundError
from grayhound.store.core import open_reader
from grayhound.store.digestcases import database_file
from grayhound.workers import can_fork, end_with_parent, portable, worker_count

Result = TypeVar("Result")


@contextmanager
def chunks_ahead(
    work, chunks: Sequence[list[int]], judge: Callable[[object, list[int]], Result]
) -> Iterator[Iterator[tuple[list[int], Result]]]:
    """(ids, judge(work, ids)) for each chunk in order: judged by a forked worker (reading the
    store as it stands now) while the caller stores the chunk before, or in this process,
    chunk by chunk as it is asked for, where forking cannot help (one chunk, one CPU, another
    thread running, no `fork`). A worker's error is raised here, at its chunk; a worker still
    running when the block ends (the caller stopped) is ended."""
    if len(chunks) < 2 or not _may_fork():
        yield ((ids, judge(work, ids)) for ids in chunks)
        return
    path = database_file(work.store.db)
    for stream in (sys.stdout, sys.stderr):  # the worker must not write them out again
        stream.flush()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(
        target=_judge_all, args=(work, path, chunks, judge, sender, os.getpid()), daemon=True
    )
    worker.start()
    sender.close()  # only the worker writes: its end closing tells us it is gone
    try:
        yield _received(worker, receiver, chunks)
    finally:
        receiver.close()
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _received(worker, receiver: Connection, chunks) -> Iterator[tuple[list[int], Result]]:
    for ids in chunks:
        try:
            outcome = receiver.recv()
        except EOFError:
            worker.join()
            raise GrayhoundError(
                f"the worker reading or judging listings stopped (exit code {worker.exitcode}) before it"
                " finished; the listings it had not done stay queued for the next detection"
            ) from None
        done, value = outcome
        if not done:
            raise value
        yield ids, value


def _may_fork() -> bool:
    """Whether a second process can judge: `worker_count()` of 2 or more (a second CPU this
    process may run on, or `GRAYHOUND_WORKERS`), `fork`, and no other thread in this process
    (it may hold a lock, SQLite's included, that the fork would copy held into the worker)."""
    return worker_count() > 1 and threading.active_count() == 1 and can_fork()


def _judge_all(work, path: str, chunks, judge, sender: Connection, parent: int) -> None:
    """In the worker: each chunk judged through a read-only connection of its own, its result
    sent back as (True, result); the first error as (False, error), and nothing after it."""
    end_with_parent(parent)
    try:
        work.store, work.worker = open_reader(path), True
        for ids in chunks:
            sender.send((True, judge(work, ids)))
    except BaseException as error:  # noqa: BLE001 - every failure goes back to the parent
        try:
            sender.send((False, portable(error)))
        except (BrokenPipeError, OSError):  # the parent has stopped reading: nothing to tell
            pass
    finally:
        sender.close()
