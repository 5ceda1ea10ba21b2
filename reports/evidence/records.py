"""The bundle's WARC file: the stored records of a subject copied byte for byte from the
evidence directory (revisit originals included), and payloads read back out of it."""

from __future__ import annotations

import io
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from grayhound.errors import GrayhoundError


def bundle_warc(evidence_dir: Path, captures: list[dict]) -> tuple[bytes, dict]:
    """Concatenate the stored records (each a gzip member) into one WARC file.

    Returns the bytes and, per capture id, (offset, length, original offset or None)."""
    out, seen, placed = io.BytesIO(), {}, {}

    def place(warc_file: str, offset: int, length: int) -> int:
        key = (warc_file, offset)
        if key not in seen:
            seen[key] = out.tell()
            out.write(_read_range(evidence_dir, warc_file, offset, length))
        return seen[key]

    for capture in captures:
        original = None
        if capture["record_type"] == "revisit" and capture["original_warc_file"]:
            original = place(
                capture["original_warc_file"],
                capture["original_offset"],
                capture["original_length"],
            )
        start = place(capture["warc_file"], capture["offset"], capture["length"])
        placed[capture["id"]] = (start, capture["length"], original)
    return out.getvalue(), placed


def _read_range(evidence_dir: Path, warc_file: str, offset: int, length: int) -> bytes:
    root = evidence_dir.resolve()
    path = (root / warc_file).resolve()
    if root not in path.parents:
        raise GrayhoundError(f"{warc_file}: WARC path outside evidence_dir {root}")
    try:
        with path.open("rb") as stream:
            stream.seek(offset)
            data = stream.read(length)
    except OSError as exc:
        raise GrayhoundError(f"{path}: cannot read WARC file: {exc.strerror}") from None
    if len(data) != length:
        raise GrayhoundError(f"{path}: WARC file is shorter than the index says (truncated?)")
    return data


def first_record(warc: bytes, offset: int):
    """(http headers, decoded payload) of the record at `offset` in the bundle WARC."""
    stream = io.BytesIO(warc)
    stream.seek(offset)
    for record in ArchiveIterator(stream):
        return record.http_headers, record.content_stream().read()
    raise GrayhoundError(f"no WARC record at offset {offset}")


def payload_of(capture: dict, warc: bytes, placed: dict) -> tuple[str | None, bytes]:
    """(Content-Type, decoded payload) of a capture; a revisit's body is its original's."""
    start, _, original = placed[capture["id"]]
    headers, body = first_record(warc, start)
    if original is not None:  # a revisit keeps the headers; the body is the original's
        _, body = first_record(warc, original)
    content_type = headers.get_header("Content-Type") if headers else capture["content_type"]
    return content_type, body
