"""Where a command's `--out` may write, and writing it so that nothing is lost.

- Never over the store, the config or a WARC file (by path, and by content: any SQLite
  database or WARC file), not even with `--force`.
- An existing file is replaced only when it is empty, a previous output of the same command
  (recognised by its marks: a header line, a title), or with `--force`.
- A regular file is written beside the target and renamed over it at the end, so a failed
  write (a full disk) leaves the previous file whole; devices and pipes (/dev/null,
  /dev/stdout) are written directly.
- A directory, or a write that fails, is one line naming `--out`: exit 2 for the first, 1 for
  an I/O failure. Text written to a terminal loses escape sequences and control characters."""

from __future__ import annotations

import contextlib
import gzip
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

from grayhound.config import Config
from grayhound.errors import GrayhoundError, UsageError
from grayhound.text import terminal_text

SNIFF_BYTES = 65_536  # marks are looked for in the head and the tail (a zip's directory)
SQLITE_MAGIC = b"SQLite format 3\x00"
GZIP_MAGIC = b"\x1f\x8b"
STORE_COMPANIONS = ("", "-wal", "-shm", "-journal", "-checked")


def check_output(
    out: str,
    *,
    config: Config | None = None,
    marks: tuple[bytes, ...] | None = None,
    force: bool = False,
) -> Path:
    """The path `--out` names, if this command may write there; UsageError otherwise.

    `marks`: byte strings of which one appears in every output of this command. None means
    the command does not recognise its own outputs: existing files are then replaced (the
    store, the config and WARC files still never are)."""
    path = Path(out)
    if path.is_dir():
        raise UsageError(f"--out {out}: is a directory; give a file name")
    protected = protected_reason(path, config)
    if protected:
        raise UsageError(f"--out {out}: {protected}; refusing to overwrite it (even with --force)")
    if marks is None or force or not path.is_file() or path.stat().st_size == 0:
        return path
    if not _carries_mark(path, marks):
        raise UsageError(
            f"--out {out}: the file exists and is not an earlier output of this command; "
            "use --force to overwrite it"
        )
    return path


def protected_reason(path: Path, config: Config | None) -> str | None:
    """Why `path` must never be written over, or None."""
    if config is not None:
        database = config.storage.database
        named = {
            "the configuration file": [config.path],
            "the store": [database.with_name(database.name + s) for s in STORE_COMPANIONS],
        }
        for what, paths in named.items():
            if any(_same_file(path, other) for other in paths):
                return f"is {what}"
        warcs = config.storage.evidence_dir / "warc"
        if _inside(path, warcs):
            return f"is inside the WARC evidence folder {warcs}"
    if not path.is_file():
        return None
    head = _head(path, 64)
    if head.startswith(SQLITE_MAGIC):
        return "is a SQLite database"
    if head.startswith(b"WARC/") or (head.startswith(GZIP_MAGIC) and _gunzip_head(path)):
        return "is a WARC file"
    return None


@contextlib.contextmanager
def open_output(
    out: str | None,
    *,
    binary: bool = False,
    config: Config | None = None,
    marks: tuple[bytes, ...] | None = None,
    force: bool = False,
    terminal_safe: bool = True,
) -> Iterator:
    """`--out PATH` opened for writing (checked by `check_output`, replaced on success only),
    or stdout for None or "-". Text to a terminal is made `terminal_safe` unless the caller
    cleans its own text (a rich table, whose colours are escape sequences)."""
    if out in (None, "-"):
        stream = sys.stdout.buffer if binary else sys.stdout
        if not binary and terminal_safe and stream.isatty():
            stream = TerminalStream(stream)
        with _naming_failures("stdout"):
            yield stream
            stream.flush()
        return
    path = check_output(out, config=config, marks=marks, force=force)
    with _naming_failures(f"--out {out}"):
        path.parent.mkdir(parents=True, exist_ok=True)
        with _replacing(path, binary) as handle:
            yield handle


@contextlib.contextmanager
def _replacing(path: Path, binary: bool) -> Iterator:
    """Write a regular file through a temporary sibling renamed over it at the end."""
    mode = "wb" if binary else "w"
    options = {} if binary else {"encoding": "utf-8", "newline": ""}
    if path.exists() and not path.is_file():  # a device or a pipe: nothing to replace
        with path.open(mode, **options) as handle:
            yield handle
        return
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, mode, **options) as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def replaced_path(path: Path) -> Iterator[Path]:
    """For writers that open the file themselves: a temporary sibling of `path` to write,
    renamed over `path` when the block succeeds (a device or a pipe is written directly)."""
    with _naming_failures(f"--out {path}"):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and not path.is_file():
            yield path
            return
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            yield temporary
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def _naming_failures(where: str) -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise GrayhoundError(f"{where}: could not write: {reason}") from None


class TerminalStream:
    """A text stream to a terminal: what is written loses escape sequences and controls."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(terminal_text(text, lines=True))
        return len(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _same_file(path: Path, other: Path) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:  # one of them does not exist: compare where they would be
        return path.resolve() == other.resolve()


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _head(path: Path, size: int) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


def _gunzip_head(path: Path) -> bool:
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(5) == b"WARC/"
    except (OSError, EOFError):
        return False


def _carries_mark(path: Path, marks: tuple[bytes, ...]) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(size - SNIFF_BYTES, len(head)))
            tail = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    return any(mark in head or mark in tail for mark in marks)
