"""Forked worker processes, as the reports written in parts (`reports.parallel`) and the daily
detection's reading and judging ahead (`grayhound.detection.ahead`) use them: how many a
command may use, whether this platform forks, a worker that ends with its parent, an error a
worker can send back."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import pickle
import signal
import threading

from grayhound.errors import GrayhoundError, Terminated, UsageError

WORKERS_ENV = "GRAYHOUND_WORKERS"  # a whole number: 1 never forks (tests set 2)
MAX_WORKERS = 4  # past this, the page reads of one store file and the final copy dominate
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def worker_count() -> int:
    """How many processes a command may work in: the CPUs this process may run on (at most
    `MAX_WORKERS`), or `GRAYHOUND_WORKERS` when set."""
    value = os.environ.get(WORKERS_ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise UsageError(
                f"{WORKERS_ENV}={value!r}: give a whole number of processes, 1 or more"
            )
        return int(value)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def can_fork() -> bool:
    """Whether this platform forks (not Windows; macOS does, though not by default)."""
    return "fork" in multiprocessing.get_all_start_methods()


def end_with_parent(parent: int) -> None:
    """In a worker: end it when its parent dies (SIGKILL leaves the parent no time to end its
    workers), rather than work on for no one (Linux; elsewhere it runs to its end). SIGTERM
    ends it at once, as its parent's stop asks (`sigterm_raises` is the parent's: the files
    are the parent's to remove)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def _terminated(signum, _frame) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def sigterm_raises():
    """While the body runs (forked workers writing a report's parts into a folder of files):
    SIGTERM raises `Terminated`, as Ctrl-C raises KeyboardInterrupt, so that the workers are
    ended and their files removed on the way out; its default ends the process at once and
    left them (195 MB at 1,000,000 listings). Only in the main thread and over the default:
    a command with its own handler (`serve`, `schedule`, a crawl) keeps it. The handler
    before is put back at the end."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def portable(error: BaseException) -> BaseException:
    """The error itself when it survives pickling, else one carrying its type and message."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - whatever fails to pickle is described instead
        return GrayhoundError(f"{type(error).__name__}: {error}")
    return error
