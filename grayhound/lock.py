"""The run lock: one file next to the database, held with flock by whichever `grayhound run`
(manual or scheduled) is working, so two never crawl and write the same store at once. The
detection lock: another, held by every detection (`grayhound detect`, and `run`'s), so two
never judge the same store at once."""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from grayhound.errors import LockedError
from grayhound.store import utc_now


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def run_lock(database: Path) -> Iterator[Path]:
    """Hold the run lock for the block; raise LockedError (exit 1) when another run has it.

    The kernel releases an flock when its holder dies, so a crashed run never leaves a
    stale lock; the pid and start time in the file are for the person reading the message."""
    path = lock_path(Path(database))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")  # "a+": never truncate the holder's note
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown holder"
        handle.close()
        raise LockedError(
            f"{path}: another grayhound run is in progress ({holder}); not starting a second one"
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {utc_now()}\n")
        handle.flush()
        yield path
    finally:
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def detection_lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".detect-lock")


@contextmanager
def detection_lock(database: Path) -> Iterator[None]:
    """Hold the detection lock for the block, waiting for another detection of the store to end
    first (said once on stderr). Two detections at once could each claim one listing queued
    twice (a crawl changed it between them): the one that read its older facts, storing its
    reading after the other released it, would leave that reading kept and the listing no
    longer queued, so neither a later detection nor `catalog check` would read it again. As
    with the run lock, the kernel releases it when its holder dies."""
    path = detection_lock_path(Path(database))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:  # "a+": never truncate the holder's note
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown holder"
            _say(f"{path}: waiting for another detection of this store to end ({holder})")
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


def _say(message: str) -> None:
    try:
        print(message, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # no stderr to tell (closed, a broken pipe): wait anyway
        pass
