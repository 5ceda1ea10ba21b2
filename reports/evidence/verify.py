"""`evidence verify`: is a bundle exactly what grayhound exported, and sealed by whom and when?

Reads a .zip or .wacz bundle nobody vouches for, streaming every entry and WARC record with
bounded memory (limits in `untrusted`). Checks, naming every problem in one line: entry names
and declared sizes are sane; manifest.json is intact (its own digest, its canonical form, its
shape); every file it lists is present with the listed SHA-256 and size and nothing else is
present; every WARC record parses and passes its digests; every capture points at a record
with its URL and payload digest; the custody log's chain ends where the manifest says; the
signature and timestamp (`sealcheck`) cover this manifest; for WACZ, datapackage.json's digests.
Any malformed input gives a FAILED verdict naming the problem, never a traceback."""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from warcio.exceptions import ArchiveLoadFailed

from crawler.capture.warc import warc_digest
from reports.evidence import untrusted
from reports.evidence.bundle import manifest_bytes, sha256_hex
from reports.evidence.custody import check_chain
from reports.evidence.layout import LAYOUTS, SEAL_FILES, WACZ_UNLISTED
from reports.evidence.sealcheck import Trust, check_seal
from reports.evidence.untrusted import Refused

HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Verification:
    path: Path
    problems: list[str] = field(default_factory=list)  # "<file>: <what>"
    notes: list[str] = field(default_factory=list)  # what the seal proves, in plain words
    files_checked: int = 0
    records_checked: int = 0
    manifest_sha256: str | None = None
    format: str = "zip"

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Entry:
    info: zipfile.ZipInfo
    sha256: str | None = None  # None: unreadable (already reported)
    size: int = 0
    records: dict | None = None  # WARC: offset -> (type, payload digest, target URI)


def verify_bundle(path: str | Path, trust: Trust | None = None) -> Verification:
    result = Verification(Path(path))
    try:
        _verify(Path(path), trust or Trust(), result)
    except Refused as exc:
        result.problems.append(f"{path}: refused ({exc})")
    except Exception as exc:  # noqa: BLE001 — a hostile bundle gets a verdict, never a traceback
        result.problems.append(f"{path}: could not be verified ({type(exc).__name__}: {exc})")
    return result


def _verify(path: Path, trust: Trust, result: Verification) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        reason = getattr(exc, "strerror", None) or "not a readable zip archive"
        result.problems.append(f"{path}: {reason}")
        return
    with archive:
        entries = _safe_entries(archive, result)
        layout = LAYOUTS["wacz" if "datapackage.json" in entries else "zip"]
        result.format = layout.name
        manifest = _manifest(archive, entries, layout.manifest, result)
        if manifest is None:
            return
        for entry in entries.values():
            _read_entry(archive, entry, result)
        listed = _check_files(manifest, entries, layout, result)
        _check_captures(manifest, entries, listed, result)
        _check_custody(archive, manifest, entries, layout, result)
        if layout.name == "wacz":
            _check_datapackage(archive, entries, result)
        check_seal(archive, manifest, entries, trust, result)


def _safe_entries(archive: zipfile.ZipFile, result: Verification) -> dict[str, _Entry]:
    infos = archive.infolist()
    if len(infos) > untrusted.MAX_ENTRIES:
        raise Refused(f"{len(infos)} entries, more than {untrusted.MAX_ENTRIES}")
    if sum(info.file_size for info in infos) > untrusted.MAX_TOTAL_BYTES:
        raise Refused(f"its entries declare more than {untrusted.MAX_TOTAL_BYTES} bytes in all")
    entries: dict[str, _Entry] = {}
    for info in infos:
        problem = untrusted.entry_problem(info)
        if problem:
            result.problems.append(f"{info.filename!r}: refused ({problem})")
        elif info.filename in entries:
            result.problems.append(f"{info.filename}: extra (duplicate entry in the zip)")
        else:
            entries[info.filename] = _Entry(info)
    return entries


def _manifest(archive, entries: dict, name: str, result: Verification) -> dict | None:
    if name not in entries:
        result.problems.append(f"{name}: missing")
        return None
    try:
        raw = untrusted.read_whole(archive, entries[name].info)
        result.manifest_sha256 = sha256_hex(raw)
        manifest = untrusted.load_json(raw)
        _check_shape(manifest)
    except (Refused, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        result.problems.append(f"{name}: changed ({exc})")
        return None
    if manifest_bytes(manifest) != raw:
        result.problems.append(f"{name}: changed (its own SHA-256 or form does not match)")
    return manifest


def _check_shape(manifest) -> None:
    """The fields verify relies on have the types it expects (Refused naming the first that
    does not)."""
    if not isinstance(manifest, dict):
        raise Refused("not a JSON object")
    for key in ("files", "captures"):
        if not isinstance(manifest.get(key, []), list):
            raise Refused(f"'{key}' is not a list")
    for entry in manifest.get("files", []):
        if not isinstance(entry, dict) or not untrusted.safe_name(entry.get("path")):
            raise Refused(f"a file entry has no safe path: {str(entry)[:80]}")
        if not HEX64.match(str(entry.get("sha256"))):
            raise Refused(f"{entry['path']}: sha256 is not 64 hex digits")
        untrusted.count(entry.get("size"))
    for capture in manifest.get("captures", []):
        if not isinstance(capture, dict):
            raise Refused(f"a capture is not an object: {str(capture)[:80]}")
        untrusted.count(capture.get("warc_offset"))
        untrusted.count(capture.get("original_warc_offset"), allow_none=True)
    for key in ("seal", "export", "subject"):
        if not isinstance(manifest.get(key, {}), dict | None):
            raise Refused(f"'{key}' is not an object")


def _read_entry(archive: zipfile.ZipFile, entry: _Entry, result: Verification) -> None:
    """Hash one entry in a streaming pass; a WARC is parsed in the same pass."""
    name = entry.info.filename
    try:
        with archive.open(entry.info) as stream:
            reader = untrusted.HashingReader(stream)
            if name.endswith((".warc", ".warc.gz")):
                entry.records = _read_warc(name, reader, result)
            reader.drain()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        result.problems.append(f"{name}: changed (unreadable: {exc})")
        entry.records = None
        return
    entry.sha256, entry.size = reader.sha256.hexdigest(), reader.size


def _read_warc(name: str, reader, result: Verification) -> dict | None:
    """offset -> (record type, payload digest, target URI) of every record; None when the file
    is not a readable WARC (reported)."""
    records: dict[int, tuple] = {}
    iterator = untrusted.BoundedArchiveIterator(reader, check_digests=True)
    offset = 0
    try:
        for record in iterator:
            # the raw block, not content_stream(): that would also inflate a gzip-encoded body
            while record.raw_stream.read(untrusted.CHUNK):
                pass
            offset = iterator.get_record_offset()
            result.records_checked += 1
            headers = record.rec_headers
            records[offset] = (
                record.rec_type,
                headers.get_header("WARC-Payload-Digest"),
                headers.get_header("WARC-Target-URI"),
            )
            if record.digest_checker.passed is False:
                problems = "; ".join(str(p) for p in record.digest_checker.problems)
                result.problems.append(f"{name}: changed (record at {offset}: {problems})")
    except Refused as exc:
        result.problems.append(f"{name}: refused (record after offset {offset}: {exc})")
        return None
    except (ArchiveLoadFailed, zlib.error, EOFError, ValueError) as exc:
        result.problems.append(f"{name}: changed (not a readable WARC file: {exc})")
        return None
    return records


def _check_files(manifest: dict, entries: dict, layout, result: Verification) -> dict:
    listed = {entry["path"]: entry for entry in manifest.get("files", [])}
    for name, expected in sorted(listed.items()):
        entry = entries.get(name)
        if entry is None:
            result.problems.append(f"{name}: missing")
            continue
        if entry.sha256 is None:
            continue  # unreadable: already reported
        result.files_checked += 1
        if entry.sha256 != expected["sha256"] or entry.size != expected["size"]:
            result.problems.append(f"{name}: changed (SHA-256 differs from the manifest)")
    allowed = {layout.manifest, *SEAL_FILES} | (WACZ_UNLISTED if layout.name == "wacz" else set())
    for name in sorted(set(entries) - set(listed) - allowed):
        result.problems.append(f"{name}: extra (not in the manifest)")
    return listed


def _check_captures(manifest: dict, entries: dict, listed: dict, result: Verification) -> None:
    """Each capture must point at a listed WARC record with its URL and payload digest."""
    for capture in manifest.get("captures", []):
        warc_file, number = capture.get("warc_file"), capture.get("capture_id")
        if not isinstance(warc_file, str) or warc_file not in listed:
            result.problems.append(
                f"{str(warc_file)[:200]}: missing (capture {number} points at a WARC file"
                " the manifest does not list)"
            )
            continue
        entry = entries.get(warc_file)
        if entry is None or entry.records is None:
            continue  # missing or unreadable: already reported
        found = entry.records.get(capture["warc_offset"])
        if found is None or found[1] != _warc_digest(capture.get("payload_sha256")):
            result.problems.append(
                f"{warc_file}: changed (capture {number} does not match its record)"
            )
        elif found[2] != capture.get("url"):
            result.problems.append(f"{warc_file}: changed (capture {number}'s URL differs)")
        for key in ("snapshot", "image_png", "image_pdf"):
            path = capture.get(key)
            if path is not None and path not in listed:
                result.problems.append(f"{str(path)[:200]}: missing (capture {number}'s {key})")


def _check_custody(archive, manifest: dict, entries: dict, layout, result) -> None:
    if "custody_head" not in manifest:
        result.notes.append("custody log: not chained (a bundle from an earlier grayhound)")
        return
    entry = entries.get(layout.custody)
    if entry is None:
        return  # reported as missing with the files
    try:
        data = untrusted.read_whole(archive, entry.info)
    except (Refused, zipfile.BadZipFile, zlib.error, OSError) as exc:
        result.problems.append(f"{layout.custody}: changed ({exc})")
        return
    for problem in check_chain(data, manifest["custody_head"]):
        result.problems.append(problem.replace("custody.log", layout.custody, 1))


def _check_datapackage(archive, entries: dict, result: Verification) -> None:
    """WACZ: datapackage.json lists every other file's digest; its digest file lists its own."""
    try:
        package = untrusted.load_json(
            untrusted.read_whole(archive, entries["datapackage.json"].info)
        )
        resources = package["resources"]
        declared = {r["path"]: (r["hash"], r["bytes"]) for r in resources}
    except (Refused, KeyError, TypeError, zipfile.BadZipFile, zlib.error, OSError) as exc:
        result.problems.append(f"datapackage.json: changed (no readable resource list: {exc})")
        return
    for name, entry in sorted(entries.items()):
        if name in WACZ_UNLISTED or entry.sha256 is None:
            continue
        if declared.get(name) != (f"sha256:{entry.sha256}", entry.size):
            result.problems.append(f"{name}: changed (digest differs from datapackage.json)")
    digest_entry = entries.get("datapackage-digest.json")
    if digest_entry is None:
        result.problems.append("datapackage-digest.json: missing")
        return
    try:
        digest = untrusted.load_json(untrusted.read_whole(archive, digest_entry.info))
        ok = digest.get("hash") == f"sha256:{entries['datapackage.json'].sha256}"
    except (Refused, AttributeError, zipfile.BadZipFile, zlib.error, OSError):
        ok = False
    if not ok:
        result.problems.append("datapackage-digest.json: changed (does not match datapackage.json)")


def _warc_digest(hex_digest) -> str | None:
    try:
        return warc_digest(str(hex_digest))
    except ValueError:
        return None
