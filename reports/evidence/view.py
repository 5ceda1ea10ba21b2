"""One stored capture outside a bundle (`grayhound serve`'s listing page): its WARC record read
from evidence_dir (a revisit's body from the original record, `capture_payload`) and passed
through the same sanitiser as a bundle's `snapshots/`, under the same banner."""

from __future__ import annotations

from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from grayhound.errors import GrayhoundError
from reports.evidence.snapshot import capture_banner, render_snapshot


def capture_snapshot(evidence_dir: str | Path, capture: dict) -> bytes:
    """The inert HTML view of one `captures` row."""
    content_type, body = capture_payload(evidence_dir, capture)
    return render_snapshot(body, content_type, capture_banner(capture))


def capture_payload(evidence_dir: str | Path, capture: dict) -> tuple[str | None, bytes]:
    """(Content-Type, decoded payload) of one `captures` row as stored in evidence_dir; a
    revisit's body is its original's."""
    root = Path(evidence_dir)
    headers, body = _record(root, capture["warc_file"], capture["offset"])
    if capture["record_type"] == "revisit" and capture["original_warc_file"]:
        _, body = _record(root, capture["original_warc_file"], capture["original_offset"])
    content_type = headers.get_header("Content-Type") if headers else capture["content_type"]
    return content_type, body


def _record(root: Path, warc_file: str, offset: int):
    """(HTTP headers, decoded payload) of the record stored at this place in evidence_dir."""
    path = (root / warc_file).resolve()
    if root.resolve() not in path.parents:
        raise GrayhoundError(f"{warc_file}: WARC path outside evidence_dir {root}")
    try:
        with path.open("rb") as stream:
            stream.seek(offset)
            for record in ArchiveIterator(stream):
                return record.http_headers, record.content_stream().read()
    except OSError as exc:
        raise GrayhoundError(f"{path}: cannot read WARC file: {exc.strerror}") from None
    raise GrayhoundError(f"{path}: no WARC record at offset {offset}")
