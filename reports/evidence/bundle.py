"""Evidence bundles: every capture of a listing or seller, across runs, in one verifiable zip.

The zip holds `evidence.warc.gz` (byte-exact copies of the stored WARC records, revisit
originals included), `snapshots/capture-<id>.html` (inert views), `summary.html` (one page
for a lawyer), `declaration.txt` (for the custodian to sign), `custody.log` and
`manifest.json` (every file's SHA-256 and size, the captures, the findings, the tool version).

Entries are named by capture id only, never by listing text. The same database exports the same
bytes except for the export event: custody.log's last line and manifest.json's `export` block
(and, following from them, custody.log's hash in `files` and the manifest's `manifest_sha256`)."""

from __future__ import annotations

import getpass
import hashlib
import io
import json
import socket
import zipfile
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from grayhound import __version__
from grayhound.errors import GrayhoundError
from reports.evidence import docs as evidence_docs
from reports.evidence.snapshot import render_snapshot

BUNDLE_FORMAT = "grayhound-evidence-bundle/1"
WARC_NAME = "evidence.warc.gz"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed entry times: the same data zips to the same bytes


@dataclass(frozen=True)
class ExportResult:
    path: Path
    captures: int
    files: int
    manifest_sha256: str


def export_bundle(
    store, config, subject_kind: str, subject_id: int, out: Path, *, event: dict | None = None
) -> ExportResult:
    """Write the evidence bundle of one listing, seller or seller network to `out` (a .zip)."""
    subject = evidence_docs.subject_of(store, subject_kind, subject_id)
    captures = store.captures_of(subject_kind, subject["identity"]["id"])
    warc, placed = _bundle_warc(Path(config.storage.evidence_dir), captures)
    files = {WARC_NAME: warc}
    for capture in captures:
        files[_snapshot_name(capture)] = _snapshot(capture, warc, placed)
    findings = evidence_docs.findings_of(store, subject)
    timeline = evidence_docs.timeline_of(store, subject)
    capture_entries = [_capture_entry(c, placed) for c in captures]
    files["summary.html"] = evidence_docs.render_summary(
        subject, capture_entries, findings, timeline, __version__
    )
    files["declaration.txt"] = evidence_docs.render_declaration(
        subject, capture_entries, _file_list(files), __version__
    )
    event = event or export_event()
    files["custody.log"] = evidence_docs.render_custody(captures, subject, event)
    manifest = {
        "format": BUNDLE_FORMAT,
        "tool": {"name": "grayhound", "version": __version__},
        "config_sha256": _config_sha256(config),
        "subject": subject["identity"],
        "captures": capture_entries,
        "findings": findings,
        "price_timeline": timeline,
        "files": _file_list(files),
        "export": event,
    }
    files["manifest.json"] = manifest_bytes(manifest)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_zip(out, files)
    return ExportResult(out, len(captures), len(files), sha256_hex(files["manifest.json"]))


def export_event() -> dict:
    from grayhound.store import utc_now

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {"exported_at": utc_now(), "host": socket.gethostname(), "user": user}


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def manifest_bytes(manifest: dict) -> bytes:
    """The manifest with its own digest: the SHA-256 of its canonical form without that key."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return canonical_json({**body, "manifest_sha256": sha256_hex(canonical_json(body))})


# -- the WARC file --------------------------------------------------------------------------
def _bundle_warc(evidence_dir: Path, captures: list[dict]) -> tuple[bytes, dict]:
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


def _first_record(warc: bytes, offset: int):
    """(http headers, decoded payload) of the record at `offset` in the bundle WARC."""
    stream = io.BytesIO(warc)
    stream.seek(offset)
    for record in ArchiveIterator(stream):
        return record.http_headers, record.content_stream().read()
    raise GrayhoundError(f"no WARC record at offset {offset}")


# -- entries --------------------------------------------------------------------------------
def _snapshot_name(capture: dict) -> str:
    return f"snapshots/capture-{int(capture['id']):08d}.html"


def _snapshot(capture: dict, warc: bytes, placed: dict) -> bytes:
    start, _, original = placed[capture["id"]]
    headers, body = _first_record(warc, start)
    if original is not None:  # a revisit keeps the headers; the body is the original's
        _, body = _first_record(warc, original)
    content_type = headers.get_header("Content-Type") if headers else capture["content_type"]
    banner = {
        "URL": capture["url"],
        "Captured (UTC)": capture["fetched_at"],
        "HTTP status": str(capture["status"]),
        "Payload SHA-256": capture["payload_sha256"],
        "Capture": f"#{capture['id']} in crawl run {capture['crawl_run_id']}",
        "Tool": f"captured by grayhound {__version__}",
    }
    return render_snapshot(body, content_type, banner)


def _capture_entry(capture: dict, placed: dict) -> dict:
    start, length, original = placed[capture["id"]]
    return {
        "capture_id": capture["id"],
        "url": capture["url"],
        "fetched_at": capture["fetched_at"],
        "status": capture["status"],
        "content_type": capture["content_type"],
        "payload_sha256": capture["payload_sha256"],
        "record_type": capture["record_type"],
        "warc_record_id": capture["record_id"],
        "crawl_run_id": capture["crawl_run_id"],
        "source": capture["source"],
        "listing_id": capture["listing_id"],
        "seller_id": capture["seller_id"],
        "warc_file": WARC_NAME,
        "warc_offset": start,
        "warc_length": length,
        "original_warc_offset": original,
        "snapshot": _snapshot_name(capture),
    }


def _file_list(files: dict[str, bytes]) -> list[dict]:
    return [
        {"path": name, "sha256": sha256_hex(data), "size": len(data)}
        for name, data in sorted(files.items())
    ]


def _config_sha256(config) -> str | None:
    try:
        return sha256_hex(Path(config.path).read_bytes())
    except OSError:
        return None


def _write_zip(out: Path, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(out, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            stored = name.endswith(".gz")  # already compressed
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
