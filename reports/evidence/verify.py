"""`evidence verify`: is a bundle exactly what grayhound exported?

Checks, naming every file that fails: the zip is readable; manifest.json is intact (its own
digest, and byte-identical to its canonical form); every file it lists is present with the
listed SHA-256 and size; nothing else is present; every WARC record parses with warcio and
passes its digests; every capture in the manifest points at a record with its payload digest."""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from crawler.capture.warc import warc_digest
from reports.evidence.bundle import manifest_bytes, sha256_hex

MANIFEST = "manifest.json"


@dataclass
class Verification:
    path: Path
    problems: list[str] = field(default_factory=list)  # "<file>: <what>"
    files_checked: int = 0
    records_checked: int = 0
    manifest_sha256: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(path: str | Path) -> Verification:
    result = Verification(Path(path))
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        reason = getattr(exc, "strerror", None) or "not a readable zip archive"
        result.problems.append(f"{path}: {reason}")
        return result
    with archive:
        contents = _read_all(archive, result)
        manifest = _manifest(contents, result)
        if manifest is None:
            return result
        _check_files(manifest, contents, result)
        for name, data in sorted(contents.items()):
            if name.endswith((".warc", ".warc.gz")) and data is not None:
                _check_warc(name, data, result)
        _check_captures(manifest, contents, result)
    return result


def _read_all(archive: zipfile.ZipFile, result: Verification) -> dict[str, bytes | None]:
    """Every entry's bytes; None for an entry whose stored data is damaged."""
    contents: dict[str, bytes | None] = {}
    for info in archive.infolist():
        if info.filename in contents:
            result.problems.append(f"{info.filename}: extra (duplicate entry in the zip)")
            continue
        try:
            contents[info.filename] = archive.read(info)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            contents[info.filename] = None
            result.problems.append(f"{info.filename}: changed (unreadable: {exc})")
    return contents


def _manifest(contents: dict, result: Verification) -> dict | None:
    raw = contents.get(MANIFEST)
    if MANIFEST not in contents:
        result.problems.append(f"{MANIFEST}: missing")
        return None
    if raw is None:
        return None
    result.manifest_sha256 = sha256_hex(raw)
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        result.problems.append(f"{MANIFEST}: changed (not valid JSON)")
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        result.problems.append(f"{MANIFEST}: changed (no file list)")
        return None
    if manifest_bytes(manifest) != raw:
        result.problems.append(f"{MANIFEST}: changed (its own SHA-256 or form does not match)")
    return manifest


def _check_files(manifest: dict, contents: dict, result: Verification) -> None:
    listed = {}
    for entry in manifest["files"]:
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            listed[entry["path"]] = entry
    for name, entry in sorted(listed.items()):
        if name not in contents:
            result.problems.append(f"{name}: missing")
            continue
        data = contents[name]
        if data is None:
            continue  # already reported as unreadable
        result.files_checked += 1
        if sha256_hex(data) != entry.get("sha256") or len(data) != entry.get("size"):
            result.problems.append(f"{name}: changed (SHA-256 differs from the manifest)")
    for name in sorted(set(contents) - set(listed) - {MANIFEST}):
        result.problems.append(f"{name}: extra (not in the manifest)")


def _check_warc(name: str, data: bytes, result: Verification) -> None:
    """Parse every record with warcio and check its block and payload digests."""
    try:
        records = ArchiveIterator(io.BytesIO(data), check_digests=True)
        for record in records:
            record.content_stream().read()
            result.records_checked += 1
            if record.digest_checker.passed is False:
                offset = records.get_record_offset()
                problems = "; ".join(str(p) for p in record.digest_checker.problems)
                result.problems.append(f"{name}: changed (record at {offset}: {problems})")
    except (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError) as exc:
        result.problems.append(f"{name}: changed (not a readable WARC file: {exc})")


def _check_captures(manifest: dict, contents: dict, result: Verification) -> None:
    """Each listed capture must point at a record carrying its payload digest."""
    for capture in manifest.get("captures") or []:
        data = contents.get(capture.get("warc_file"))
        if data is None:
            continue  # the file itself is already reported
        try:
            stream = io.BytesIO(data)
            stream.seek(int(capture["warc_offset"]))
            record = next(iter(ArchiveIterator(stream)))
            digest = record.rec_headers.get_header("WARC-Payload-Digest")
        except (ArchiveLoadFailed, StopIteration, KeyError, TypeError, ValueError, zlib.error):
            digest = None
        if digest is None or digest != _warc_digest(capture.get("payload_sha256")):
            result.problems.append(
                f"{capture.get('warc_file')}: changed (capture {capture.get('capture_id')}"
                " does not match its record)"
            )


def _warc_digest(hex_digest) -> str | None:
    try:
        return warc_digest(str(hex_digest))
    except ValueError:
        return None
