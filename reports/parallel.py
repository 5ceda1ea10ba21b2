"""Writing a report in parts on every CPU the process may use: the first part in this process,
the others in forked workers into temporary files copied into the output in order — the same
bytes as one process writing the parts one after the other.

The reports that write a line per listing, case or observation are CPU-bound in one process
(SQLite's statement and Python's text, both on one core); their parts are independent reads of
the store (or of a file the report spooled first: `review list`'s table), so on a machine with
two cores the wall time nearly halves."""

from __future__ import annotations

import codecs
import io
import itertools
import multiprocessing
import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, TypeVar

from grayhound.errors import GrayhoundError
from grayhound.workers import (  # noqa: F401 - WORKERS_ENV: named by the reports' tests
    WORKERS_ENV,
    can_fork,
    end_with_parent,
    portable,
    sigterm_raises,
    worker_count,
)

COPY_CHUNK = 1 << 20

Part = TypeVar("Part")
Result = TypeVar("Result")


@contextmanager
def part_store(store, parent: int, path=None) -> Iterator:
    """The store a part of a report reads: `store` itself in the `parent` process (the one
    that called `write_parts`); in a forked worker a read-only connection of its own to
    `path` (default `store.path`) whose snapshot has begun (`begun()`: the parent, holding
    the store's write lock until then, lets writers go on), the parent's left alone."""
    if os.getpid() == parent:
        yield store
        return
    from grayhound.store import open_reader

    with open_reader(path or store.path) as own:
        begun()
        yield own


def forks(parts: int = 2) -> bool:
    """Whether `write_parts` would write some of `parts` parts in forked workers: more than
    one of them and of `worker_count()`, a platform that forks, and no other thread running
    (another thread may hold a lock the fork would copy held into the worker, SQLite's own
    included)."""
    if parts < 2:  # one part: the worker count is not asked (nor its setting checked)
        return False
    return min(worker_count(), parts) > 1 and threading.active_count() == 1 and can_fork()


# Below this span of listing ids a report over every listing is written by one process: a
# second one saves less than it costs to start.
PARALLEL_MIN_IDS = 50_000


def listing_ranges(store, shared: bool, workers: int) -> list[tuple[int, int]]:
    """The closed ranges of listing ids a report over every listing of `store` is written
    in: one a worker when its span of ids is `PARALLEL_MIN_IDS` or more and its snapshot is
    `shared` with the workers (`Store.shared_snapshot`), else one; none without a listing."""
    from grayhound.store.reportrows import listing_id_span

    span = listing_id_span(store.db)
    if span is None:
        return []
    large = span[1] - span[0] >= PARALLEL_MIN_IDS and shared
    return id_ranges(*span, workers if large else 1)


def id_ranges(first: int, last: int, count: int) -> list[tuple[int, int]]:
    """[first, last] cut into `count` contiguous closed ranges of nearly equal width (listing
    ids are dense: the store never deletes a listing)."""
    width = last - first + 1
    bounds = [first + width * i // count for i in range(count + 1)]
    return [(low, high - 1) for low, high in itertools.pairwise(bounds) if high > low]


def write_parts(
    stream: IO[str],
    parts: Sequence[Part],
    write: Callable[[Part, IO[str]], Result],
    *,
    started: Callable[[], None] | None = None,
    finish: Callable[[list[Result], list[Path | None]], None] | None = None,
) -> list[Result]:
    """Write each part into `stream` in order, as `[write(part, stream) for part in parts]`
    would: parts[1:] are written by forked workers (at most `worker_count()` processes busy
    at once, this one included) into temporary files while this process writes parts[0];
    each file is then copied into `stream` in order. Returns each part's result (a worker's
    must pickle). A worker's error is raised here; nothing of a failed report is kept. A
    process running other threads, or a platform that cannot fork, writes every part itself.

    `write` in a worker must not use an SQLite connection opened before the fork (it opens
    its own) and must not write to the store. `started`, when given, is called once in this
    process before parts[0] is written and after every worker has called `begun()` (or
    ended): a caller holding the store's write lock so that the workers' reads begin on the
    snapshot this process reads releases it there. There must then be no more parts than
    workers (all of them start at once).

    `finish`, when given, puts the workers' text into `stream` instead of the copies in
    order: it is called once every part is written, with each part's result and the file
    each worker wrote (None for a part this process wrote: its text is in `stream`), and may
    copy any byte range of them (`copy_into`). The files go when it returns."""
    parts = list(parts)
    if not forks(len(parts)):  # one process, as before
        if started is not None:
            started()
        results = [write(part, stream) for part in parts]
        if finish is not None:
            finish(results, [None] * len(results))
        return results
    workers = min(worker_count(), len(parts))
    if started is not None and len(parts) > workers:
        raise ValueError("write_parts: `started` needs every part's worker started at once")
    _flush(stream)  # a forked child must not inherit (and later flush) unwritten text
    context = multiprocessing.get_context("fork")
    with sigterm_raises(), _part_directory(stream) as directory:
        children = _Children(context, write, Path(directory), slots=workers - 1)
        try:
            for index, part in enumerate(parts[1:], start=1):
                children.queue(index, part)
            if started is not None:
                children.wait_begun()
                started()
            results = [write(parts[0], stream)]
            paths: list[Path | None] = [None]
            for index in range(1, len(parts)):
                result, path = children.result(index)
                if finish is None:
                    _copy_into(stream, path)
                    path.unlink()
                results.append(result)
                paths.append(path)
            if finish is not None:
                finish(results, paths)
            return results
        finally:
            children.stop()


def _part_directory(stream: IO[str]) -> tempfile.TemporaryDirectory:
    """The workers' files beside the output file when it is one (the same file system: room
    for the report already there, and a copy inside the kernel), else in the temporary
    directory (which may be memory)."""
    name = getattr(stream, "name", None)
    if isinstance(name, str) and os.path.isfile(name):
        try:
            return tempfile.TemporaryDirectory(
                prefix=".grayhound-parts-", dir=os.path.dirname(os.path.abspath(name))
            )
        except OSError:  # a folder this process may write a file in, but not make one
            pass
    return tempfile.TemporaryDirectory(prefix="grayhound-parts-")


_BEGUN = None  # in a worker: the semaphore `begun` releases (once)


def begun() -> None:
    """In a worker of `write_parts`: its reads have begun (its snapshot of the store is
    taken); the parent may release the lock it holds for that. Nothing outside a worker."""
    global _BEGUN
    if _BEGUN is not None:
        _BEGUN.release()
        _BEGUN = None


class _Children:
    """The forked workers writing the parts after the first, at most `slots` at a time, each
    into its own file, in the order the parts are asked for."""

    def __init__(self, context, write: Callable, directory: Path, slots: int) -> None:
        self.context, self.write, self.directory, self.slots = context, write, directory, slots
        self.waiting: list[tuple[int, object]] = []
        self.running: dict[int, tuple] = {}

    def queue(self, index: int, part) -> None:
        self.waiting.append((index, part))
        self._start()

    def _start(self) -> None:
        while self.waiting and len(self.running) < self.slots:
            index, part = self.waiting.pop(0)
            path = self.directory / f"{index}.part"
            receiver, sender = self.context.Pipe(duplex=False)
            began = self.context.Semaphore(0)
            child = self.context.Process(
                target=_write_file,
                args=(self.write, part, path, sender, began, os.getpid()),
                daemon=True,
            )
            child.start()
            sender.close()  # only the child writes: its end closing tells us it is gone
            self.running[index] = (child, receiver, path, began)

    def wait_begun(self) -> None:
        """Until every running worker has called `begun` (its part written counts as that)
        or ended."""
        for child, _, _, began in self.running.values():
            while not began.acquire(timeout=0.05):
                if not child.is_alive():
                    break

    def result(self, index: int) -> tuple[object, Path]:
        child, receiver, path, _ = self.running.pop(index)
        try:
            outcome = receiver.recv()
        except EOFError:
            outcome = None
        finally:
            receiver.close()
        child.join()
        self._start()
        if outcome is None:
            raise GrayhoundError(
                f"the worker writing part {index + 1} of the report stopped "
                f"(exit code {child.exitcode}) before it finished"
            )
        done, value = outcome
        if not done:
            raise value
        return value, path

    def stop(self) -> None:
        """End every worker still running (after an error or an interruption)."""
        self.waiting.clear()
        for child, receiver, _, _ in self.running.values():
            child.terminate()
            child.join()
            receiver.close()
        self.running.clear()


def _write_file(write: Callable, part, path: Path, sender: Connection, began, parent: int) -> None:
    """In a worker: write one part into its file and send back (True, result), or
    (False, the error)."""
    global _BEGUN
    _BEGUN = began
    end_with_parent(parent)
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            result = write(part, handle)
        outcome = (True, result)
    except BaseException as error:  # noqa: BLE001 - every failure goes back to the parent
        outcome = (False, portable(error))
    begun()  # a part that never said so has at least ended: the parent waits no longer
    try:
        sender.send(outcome)
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        sender.send((False, GrayhoundError(f"a report part's result could not be sent: {error}")))
    sender.close()


def _flush(stream: IO[str]) -> None:
    for handle in (stream, sys.stdout, sys.stderr):
        try:
            handle.flush()
        except (OSError, ValueError):  # closed, or not flushable: nothing buffered to repeat
            pass


def _copy_into(stream: IO[str], path: Path) -> None:
    """Append a part's file to `stream` (`copy_into`)."""
    with path.open("rb") as part:
        copy_into(stream, part)


def copy_into(stream: IO[str], source: IO[bytes], length: int | None = None) -> None:
    """Append the UTF-8 text of the binary file `source`, from its position on (`length`
    bytes of it, else to its end), to `stream`: inside the kernel when the stream is a UTF-8
    text file (no decoding, no copy through this process), else as text through its `write`.
    Where `source` is left is not said."""
    buffer = utf8_buffer(stream)
    if buffer is not None:
        buffer.flush()
        if not _copy_in_kernel(source, buffer, length):
            for chunk in _chunks(source, length):
                buffer.write(chunk)
            buffer.flush()
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    for chunk in _chunks(source, length):
        stream.write(decoder.decode(chunk))
    stream.write(decoder.decode(b"", final=True))


def utf8_buffer(stream: IO[str]) -> IO[bytes] | None:
    """The binary file under the text file `stream`, the text written so far flushed into it,
    where UTF-8 bytes written there are what writing their text to `stream` would write; else
    None. Only a text file itself: a wrapper that forwards `buffer` (a terminal's, which cleans
    escape sequences from what is written) gets the text through its own `write`; and only
    where a text file writes "\n" as it is (on Windows one may write it as "\r\n")."""
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
    if type(stream) is io.TextIOWrapper and encoding in ("utf-8", "utf8") and os.linesep == "\n":
        stream.flush()
        return stream.buffer
    return None


def _chunks(source: IO[bytes], length: int | None) -> Iterator[bytes]:
    """`source` from its position on, `length` bytes of it (None: to its end), in chunks."""
    left = length
    while left is None or left > 0:
        chunk = source.read(COPY_CHUNK if left is None else min(COPY_CHUNK, left))
        if not chunk:
            break
        if left is not None:
            left -= len(chunk)
        yield chunk
    if left:
        raise GrayhoundError(
            f"a report part was cut short while copied ({length - left} of {length} bytes)"
        )


def _copy_in_kernel(source: IO[bytes], target: IO[bytes], length: int | None = None) -> bool:
    """`os.copy_file_range` from `source`, its position on (`length` bytes of it, else to
    its end), to the end of what `target` holds, at its own position; False (nothing copied)
    where the kernel or the files do not allow it."""
    if not hasattr(os, "copy_file_range"):  # not Linux
        return False
    try:
        into = target.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory stream
        return False
    start = source.tell()
    size = os.fstat(source.fileno()).st_size - start
    if length is not None:
        if length > size:
            raise GrayhoundError(
                f"a report part was cut short while copied ({size} of {length} bytes)"
            )
        size = length
    copied = 0
    try:
        while copied < size:
            moved = os.copy_file_range(source.fileno(), into, size - copied, start + copied)
            if moved == 0:
                break
            copied += moved
    except OSError:
        if copied:
            raise  # a part is half copied: the report is not whole
        return False
    if not copied and size:  # the kernel copied nothing: copied through this process
        return False
    if copied < size:
        raise GrayhoundError(f"a report part was cut short while copied ({copied} of {size} bytes)")
    return True
