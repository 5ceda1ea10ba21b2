"""Reading a bundle nobody vouches for, with bounded memory: size limits, safe entry names,
bounded JSON, a hashing stream, and a WARC reader whose header lines and declared record sizes
are capped (warcio reads a header line whole, however long, so a record of one endless line
would otherwise be held in memory)."""

from __future__ import annotations

import hashlib
import json
import math
import re
import stat
import zipfile

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.recordloader import ArcWarcRecordLoader

MAX_ENTRY_BYTES = 16 * 1024**3  # one entry of a bundle; a capture's WARC can be large
MAX_TOTAL_BYTES = 64 * 1024**3  # all entries together
MAX_ENTRIES = 100_000
MAX_RATIO = 200  # inflated / stored, for entries above RATIO_FLOOR: HTML deflates ~10:1
RATIO_FLOOR = 64 * 1024**2
MAX_DOC_BYTES = 64 * 1024**2  # manifest.json, custody.log, seal files: read whole, so capped
MAX_RECORD_BYTES = 4 * 1024**3  # one WARC record (the crawler's own cap is far lower)
MAX_HEADER_LINE = 1024 * 1024  # one WARC or HTTP header line
CHUNK = 1024 * 1024
WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


class Refused(ValueError):
    """A declared size or shape beyond what verify will read."""


def entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why an entry must not be trusted by name or size, or None."""
    name = info.filename
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return "unsafe entry name (absolute, backslash or NUL)"
    if WINDOWS_DRIVE.match(name) or any(part in ("", ".", "..") for part in name.split("/")):
        return "unsafe entry name (empty, '.' or '..' part)"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "a symbolic link (bundles hold only regular files)"
    if info.is_dir():
        return "a directory entry (bundles hold only regular files)"
    if info.file_size > MAX_ENTRY_BYTES:
        return f"declares {info.file_size} bytes, beyond the limit of {MAX_ENTRY_BYTES}"
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        ratio = info.file_size // max(info.compress_size, 1)
        return f"inflates {ratio}:1 to {info.file_size} bytes (a zip bomb?)"
    return None


def safe_name(name) -> bool:
    """A manifest path that may name an entry: relative, no '..', no backslash."""
    if not isinstance(name, str) or not name or len(name) > 1024:
        return False
    info = zipfile.ZipInfo(name)
    return entry_problem(info) is None


def read_whole(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int = MAX_DOC_BYTES):
    """An entry's bytes, when it declares at most `limit` (zipfile stops at the declared size)."""
    if info.file_size > limit:
        raise Refused(f"declares {info.file_size} bytes, more than the {limit} allowed here")
    with archive.open(info) as stream:
        return stream.read(limit + 1)[:limit]


def load_json(data: bytes):
    """JSON without NaN/Infinity and without nesting that would exhaust the stack."""
    try:
        return json.loads(data, parse_constant=_no_constants)
    except RecursionError:
        raise Refused("nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(f"not valid JSON ({str(exc)[:80]})") from None


def _no_constants(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def count(value, *, allow_none: bool = False) -> int | None:
    """A non-negative integer from a manifest (never bool, float, inf or a huge number)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        else:
            raise Refused(f"expected a whole number, got {str(value)[:40]!r}")
    if not 0 <= value <= MAX_TOTAL_BYTES:
        raise Refused(f"number out of range: {str(value)[:40]}")
    return value


class HashingReader:
    """A read-only stream that hashes and counts what passes through it."""

    def __init__(self, stream):
        self.stream = stream
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(CHUNK if size is None or size < 0 else min(size, CHUNK))
        self.sha256.update(data)
        self.size += len(data)
        return data

    def tell(self) -> int:
        return self.size

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


class _BoundedLineReader(DecompressingBufferedReader):
    def readline(self, length=None):
        cap = MAX_HEADER_LINE if length is None else min(length, MAX_HEADER_LINE)
        line = super().readline(cap)
        if len(line) >= MAX_HEADER_LINE and not line.endswith(b"\n"):
            raise Refused(f"a header line longer than {MAX_HEADER_LINE} bytes")
        return line


class _BoundedLoader(ArcWarcRecordLoader):
    def load_http_headers(self, rec_type, uri, stream, length):
        if length is not None and length > MAX_RECORD_BYTES:
            raise Refused(
                f"a record declares {length} bytes, beyond the limit of {MAX_RECORD_BYTES}"
            )
        return super().load_http_headers(rec_type, uri, stream, length)


class BoundedArchiveIterator(ArchiveIterator):
    """warcio's iterator with header lines and declared record sizes capped (raises Refused)."""

    def __init__(self, fileobj, **kwargs):
        super().__init__(fileobj, **kwargs)
        self.loader = _BoundedLoader(verify_http=False)
        self.reader = _BoundedLineReader(self.fh, block_size=self.reader.block_size)
