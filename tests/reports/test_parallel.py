"""A report written in parts by forked workers is the same bytes as one process writing them."""

from __future__ import annotations

import io
import os
import tempfile

import pytest

from grayhound.errors import GrayhoundError, UsageError
from reports.parallel import worker_count, write_parts


def _write_numbers(part: tuple[int, int], stream) -> int:
    first, last = part
    for number in range(first, last):
        stream.write(f'{number},"é{number}"\n')  # non-ASCII: the copy must not re-encode it
    return last - first


def _parts(count: int, size: int = 5000) -> list[tuple[int, int]]:
    return [(i * size, (i + 1) * size) for i in range(count)]


def _serial(parts) -> str:
    stream = io.StringIO()
    for part in parts:
        _write_numbers(part, stream)
    return stream.getvalue()


pytestmark = pytest.mark.usefixtures("own_threads_only")


@pytest.mark.parametrize("workers", ["2", "3"])
@pytest.mark.parametrize("count", [2, 5])
def test_parts_in_a_file_are_the_bytes_one_process_writes(tmp_path, monkeypatch, workers, count):
    monkeypatch.setenv("GRAYHOUND_WORKERS", workers)
    parts = _parts(count)
    path = tmp_path / "out.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write("header\n")  # buffered before the fork: written once, first
        counts = write_parts(stream, parts, _write_numbers)
        stream.write("footer\n")
    assert counts == [5000] * count
    assert path.read_text(encoding="utf-8") == "header\n" + _serial(parts) + "footer\n"


def test_parts_into_a_text_stream_without_a_file(monkeypatch):
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    parts = _parts(3, 100)
    stream = io.StringIO()
    assert write_parts(stream, parts, _write_numbers) == [100, 100, 100]
    assert stream.getvalue() == _serial(parts)


def _pid(part, stream) -> int:
    stream.write(f"{part}\n")
    return os.getpid()


def test_the_parts_after_the_first_are_written_by_other_processes(monkeypatch):
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    pids = write_parts(io.StringIO(), ["a", "b", "c"], _pid)
    assert pids[0] == os.getpid()
    assert os.getpid() not in pids[1:]


def test_one_worker_is_the_plain_loop(monkeypatch):
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    assert write_parts(io.StringIO(), ["a", "b"], _pid) == [os.getpid(), os.getpid()]


class PartFailed(GrayhoundError):
    pass


def _fail_on_b(part, stream) -> str:
    if part == "b":
        raise PartFailed(f"part {part}: the store answered nonsense")
    stream.write(part)
    return part


PYTEST_PID = os.getpid()


def _die_on_b(part, stream) -> str:
    if part == "b":
        # in pytest's own process this would end the whole run: fail the test instead
        assert os.getpid() != PYTEST_PID, "part b was written in-process, not by a worker"
        os._exit(3)
    stream.write(part)
    return part


def _leftovers() -> set[str]:
    return {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("grayhound-parts-")}


def test_a_workers_error_is_raised_with_its_type_and_message(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    # a temporary directory of its own: another test run's parts come and go in the shared one
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(PartFailed, match="part b: the store answered nonsense"):
        write_parts(io.StringIO(), ["a", "b", "c"], _fail_on_b)
    assert _leftovers() == set()  # no part file left behind


def test_a_worker_that_dies_is_named(monkeypatch):
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    with pytest.raises(GrayhoundError, match=r"part 2 of the report stopped \(exit code 3\)"):
        write_parts(io.StringIO(), ["a", "b", "c"], _die_on_b)


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_worker_count_is_a_usage_error(monkeypatch, value):
    monkeypatch.setenv("GRAYHOUND_WORKERS", value)
    with pytest.raises(UsageError, match="GRAYHOUND_WORKERS"):
        worker_count()


def test_the_default_worker_count_is_the_usable_cpus(monkeypatch):
    monkeypatch.delenv("GRAYHOUND_WORKERS", raising=False)
    assert 1 <= worker_count() <= min(4, len(os.sched_getaffinity(0)))


def test_a_process_with_other_threads_writes_every_part_itself(monkeypatch):
    """Forking copies only the calling thread: a lock another thread holds (a scheduler's,
    SQLite's) would stay held in the worker for ever."""
    import threading

    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert write_parts(io.StringIO(), ["a", "b"], _pid) == [os.getpid(), os.getpid()]
    finally:
        release.set()
        other.join()


class _Cleaning:
    """A wrapper that forwards every attribute, `buffer` included, but cleans what is written
    (as the CLI's terminal stream drops escape sequences)."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(text.replace("\x1b", "?"))
        return len(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _escapes(part, stream) -> int:
    stream.write(f"\x1b[2J{part}\n")
    return 1


def test_a_wrapped_stream_gets_the_workers_text_through_its_write(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    path = tmp_path / "screen.txt"
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_parts(_Cleaning(handle), ["a", "b", "c"], _escapes)
    assert path.read_text(encoding="utf-8") == "?[2Ja\n?[2Jb\n?[2Jc\n"


def test_a_platform_that_cannot_fork_writes_every_part_itself(monkeypatch):
    """Windows has no fork: the report is written as before, by one process."""
    import multiprocessing

    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert write_parts(io.StringIO(), ["a", "b"], _pid) == [os.getpid(), os.getpid()]


def test_parts_reach_a_file_without_a_kernel_copy(tmp_path, monkeypatch):
    """macOS has no `os.copy_file_range`: the parts are copied through this process."""
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    monkeypatch.delattr(os, "copy_file_range", raising=False)
    parts = _parts(3, 100)
    path = tmp_path / "out.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        write_parts(stream, parts, _write_numbers)
    assert path.read_text(encoding="utf-8") == _serial(parts)


def _where(part, stream) -> str:
    stream.write(part)
    return os.path.dirname(os.path.abspath(stream.name))


def test_a_workers_file_is_beside_the_output_file(tmp_path, monkeypatch):
    """The parts of a large report take the room the report itself will take, on the same
    file system, not in the temporary directory (often memory); nothing is left there."""
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    path = tmp_path / "report.txt"
    with path.open("w", encoding="utf-8") as stream:
        where = write_parts(stream, ["a", "b"], _where)
    assert os.path.dirname(where[1]) == str(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["report.txt"]
    assert path.read_text(encoding="utf-8") == "ab"


def _begins_then_writes(part, stream) -> str:
    """A worker that says its reads have begun, then takes its time: the times of both."""
    import time

    from reports.parallel import begun

    if part == "a":  # this process's part
        return part
    time.sleep(0.1)
    said = time.monotonic()
    begun()
    time.sleep(0.3)
    stream.write(f"{said} {time.monotonic()}\n")
    return part


def test_started_is_called_once_every_worker_has_begun_before_the_first_part(monkeypatch):
    """A caller holding the store's write lock while the workers take their snapshots lets
    it go in `started`: after every worker has begun, before this process writes, without
    waiting for the workers to finish."""
    import time

    monkeypatch.setenv("GRAYHOUND_WORKERS", "3")
    called = []
    stream = io.StringIO()
    write_parts(
        stream,
        ["a", "b", "c"],
        _begins_then_writes,
        started=lambda: called.append(time.monotonic()),
    )
    assert len(called) == 1
    for line in stream.getvalue().splitlines():
        said, ended = map(float, line.split())
        assert said <= called[0] < ended


def test_started_is_called_when_a_worker_ends_without_saying_it_began(monkeypatch):
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    called = []
    write_parts(io.StringIO(), ["a", "b"], _write_part_text, started=lambda: called.append(1))
    assert called == [1]


def _write_part_text(part, stream) -> str:
    stream.write(part)
    return part


@pytest.mark.parametrize("kernel", [True, False])
@pytest.mark.parametrize("target", ["file", "text stream"])
def test_copy_into_copies_from_the_sources_position_on(tmp_path, monkeypatch, kernel, target):
    """`copy_into` (a report's spool after its head) copies what the source holds from its
    position on, whole: a character cut between two chunks included."""
    import reports.parallel
    from reports.parallel import copy_into

    if not kernel:
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    monkeypatch.setattr(reports.parallel, "COPY_CHUNK", 7)  # cuts "é" (two bytes) somewhere
    text = "".join(f"{n}é€\n" for n in range(300))
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        spool.write(",\n" + text)
        spool.flush()
        spool.buffer.seek(2)
        if target == "file":
            path = tmp_path / "out.txt"
            with path.open("w", encoding="utf-8", newline="") as stream:
                stream.write("head\n")
                copy_into(stream, spool.buffer)
                stream.write("foot\n")
            assert path.read_text(encoding="utf-8") == "head\n" + text + "foot\n"
        else:
            stream = io.StringIO()
            copy_into(stream, spool.buffer)
            assert stream.getvalue() == text


def test_one_part_is_written_without_asking_the_worker_count(monkeypatch):
    monkeypatch.setenv("GRAYHOUND_WORKERS", "0")  # would be a usage error if it were read
    stream = io.StringIO()
    assert write_parts(stream, [(0, 3)], _write_numbers) == [3]
    assert stream.getvalue() == _serial([(0, 3)])


def test_copy_into_a_stream_that_writes_newlines_otherwise_goes_through_its_write(monkeypatch):
    """Where a text file may write "\\n" as "\\r\\n" (Windows), the bytes are not copied under
    it: every line ends as the stream ends the lines written through it."""
    from reports.parallel import copy_into

    monkeypatch.setattr(os, "linesep", "\r\n")
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", newline="\r\n")
    stream.write("head\n")
    copy_into(stream, io.BytesIO("a\nb é\n".encode()))
    stream.write("foot\n")
    stream.flush()
    assert raw.getvalue() == "head\r\na\r\nb é\r\nfoot\r\n".encode()


def test_a_kernel_that_copies_nothing_leaves_the_copy_to_this_process(tmp_path, monkeypatch):
    from reports.parallel import copy_into

    monkeypatch.setattr(os, "copy_file_range", lambda *args: 0, raising=False)
    source = tmp_path / "part"
    source.write_bytes("x,é\n".encode() * 1000)
    path = tmp_path / "out.csv"
    with path.open("w", encoding="utf-8", newline="") as stream, source.open("rb") as part:
        copy_into(stream, part)
    assert path.read_text(encoding="utf-8") == "x,é\n" * 1000


@pytest.mark.parametrize("kernel", [True, False])
@pytest.mark.parametrize("target", ["file", "text stream"])
def test_copy_into_copies_a_range_of_the_source(tmp_path, monkeypatch, kernel, target):
    """`copy_into(..., length)`: that many bytes from the source's position, no more (a piece
    of a worker's file among others); a source shorter than that is an error, not a short
    report."""
    import reports.parallel
    from reports.parallel import copy_into

    if not kernel:
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    monkeypatch.setattr(reports.parallel, "COPY_CHUNK", 7)
    piece = "".join(f"{n}é€\n" for n in range(100))
    data = ("before\n" + piece + "after\n").encode()
    source = tmp_path / "part"
    source.write_bytes(data)
    with source.open("rb") as part:
        part.seek(len("before\n"))
        if target == "file":
            path = tmp_path / "out.txt"
            with path.open("w", encoding="utf-8", newline="") as stream:
                stream.write("head\n")
                copy_into(stream, part, len(piece.encode()))
                stream.write("foot\n")
            assert path.read_text(encoding="utf-8") == "head\n" + piece + "foot\n"
        else:
            stream = io.StringIO()
            copy_into(stream, part, len(piece.encode()))
            assert stream.getvalue() == piece
        part.seek(len(data) - 3)
        with pytest.raises(GrayhoundError, match="cut short"):
            copy_into(io.StringIO(), part, 10)


@pytest.mark.parametrize("workers", ["1", "3"])
def test_finish_puts_the_workers_text_where_it_chooses(tmp_path, monkeypatch, workers):
    """`write_parts(..., finish=)`: no copy in order; `finish` gets every part's result and
    each worker's file (None for a part this process wrote into the stream) and may copy
    them in any order and any range."""
    from reports.parallel import copy_into

    monkeypatch.setenv("GRAYHOUND_WORKERS", workers)
    parts = _parts(3, 100)
    seen = []

    def finish(results, paths):
        seen.append((results, [path is None for path in paths]))
        for path in reversed(paths[1:]):
            if path is not None:
                with open(path, "rb") as part:
                    copy_into(stream, part)

    path = tmp_path / "out.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        write_parts(stream, parts, _write_numbers, finish=finish)
    assert seen[0][0] == [100, 100, 100]
    if workers == "1":  # one process: every part in the stream, in order
        assert seen[0][1] == [True, True, True]
        assert path.read_text(encoding="utf-8") == _serial(parts)
    else:
        assert seen[0][1] == [True, False, False]
        expected = _serial(parts[:1]) + _serial(parts[2:]) + _serial(parts[1:2])
        assert path.read_text(encoding="utf-8") == expected
    assert not list(tmp_path.glob(".grayhound-parts-*"))  # the workers' files are gone


def test_utf8_buffer_is_the_file_under_a_utf8_text_file_only(tmp_path):
    """Bytes go under a text stream only where they are what its text would write, and after
    the text written before them."""
    from reports.parallel import utf8_buffer

    path = tmp_path / "out.txt"
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write("head é\n")
        buffer = utf8_buffer(stream)
        assert buffer is stream.buffer
        buffer.write("日本\n".encode())
        stream.write("foot\n")
    assert path.read_bytes() == "head é\n日本\nfoot\n".encode()
    with (tmp_path / "latin.txt").open("w", encoding="latin-1") as other:
        assert utf8_buffer(other) is None
    assert utf8_buffer(io.StringIO()) is None
    assert utf8_buffer(_Cleaning(io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))) is None
