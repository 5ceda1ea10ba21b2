"""The run lock: one file next to the database, held with flock by whichever `grayhound run`
(manual or scheduled) is working, so two never crawl and write the same store at once. The
detection lock: another, held by every detection (`grayhound detect`, and `run`'s), so two
never judge the same store at once."""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from grayhound.errors import LockedError
from grayhound.store import utc_now


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def detection_lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".detect-lock")


@contextmanager
def run_lock(database: Path) -> Iterator[Path]:
    """Hold the run lock for the block; raise LockedError (exit 1) when another run has it."""
    path = lock_path(Path(database))

    def refuse(holder: str) -> None:
        raise LockedError(
            f"{path}: another grayhound run is in progress ({holder}); not starting a second one"
        )

    with _held(path, refuse):
        yield path


@contextmanager
def detection_lock(database: Path) -> Iterator[None]:
    """Hold the detection lock for the block, waiting for another detection of the store to end
    first (said once on stderr). Two detections at once could each claim one listing queued
    twice (a crawl changed it between them): the one that read its older facts, storing its
    reading after the other released it, would leave that reading kept and the listing no
    longer queued, so neither a later detection nor `catalog check` would read it again."""
    path = detection_lock_path(Path(database))

    def wait(holder: str) -> None:
        try:
            print(
                f"{path}: waiting for another detection of this store to end ({holder})",
                file=sys.stderr,
                flush=True,
            )
        except (OSError, ValueError):  # no stderr to tell (closed, a broken pipe): wait anyway
            pass

    with _held(path, wait):
        yield


@contextmanager
def _held(path: Path, busy: Callable[[str], None]) -> Iterator[None]:
    """An flock on `path` held for the block. When another process holds it, `busy(its note)`
    raises to give up, or returns to wait for it. The kernel releases an flock when its holder
    dies, so a crashed command never leaves a stale lock; the pid and start time written in
    the file are for the person reading `busy`'s message."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:  # "a+": never truncate the holder's note
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            taken = True
        except BlockingIOError:
            taken = False
        if not taken:  # outside the except: a refusal is not raised "during" BlockingIOError
            handle.seek(0)
            busy(handle.read().strip() or "unknown holder")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} since {utc_now()}\n")
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
