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
import json
import socket
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grayhound import __version__
from grayhound.errors import GrayhoundError
from reports.evidence import docs as evidence_docs
from reports.evidence import pictures, wacz
from reports.evidence.custody import render_custody
from reports.evidence.layout import LAYOUTS, SIGNATURE, TIMESTAMP, Layout
from reports.evidence.records import bundle_warc, payload_of
from reports.evidence.seal import sign_digest, signer_info
from reports.evidence.snapshot import capture_banner, render_snapshot
from reports.evidence.timestamp import Stamp, check_token

BUNDLE_FORMAT = "grayhound-evidence-bundle/2"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed entry times: the same data zips to the same bytes
FORMATS = tuple(LAYOUTS)


@dataclass(frozen=True)
class Sealing:
    """How an export is sealed: an Ed25519 key, and a function asking a TSA for a token over
    the manifest (the orchestration supplies it: reports never reach the network)."""

    signing_key: object | None = None  # Ed25519PrivateKey
    timestamper: Callable[[bytes], bytes] | None = None
    tsa_url: str | None = None
    tsa_ca_pem: bytes | None = None


@dataclass(frozen=True)
class ExportResult:
    path: Path
    captures: int
    files: int
    manifest_sha256: str
    signed_by: str | None = None  # the key's fingerprint
    stamp: Stamp | None = None
    images: int = 0
    images_note: str | None = None  # why there are none, when there are none


def export_bundle(
    store,
    config,
    subject_kind: str,
    subject_id: int,
    out: Path,
    *,
    event: dict | None = None,
    fmt: str = "zip",
    sealing: Sealing | None = None,
    renderer=None,
    renderer_note: str | None = None,
    pending=None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write the evidence bundle of one listing, seller or seller network to `out` (.zip or
    .wacz). `pending` (`renderthread.PendingRenderer`, instead of `renderer`): a browser
    still starting, waited for only when the first page is pictured: what is read from the
    store before that is read while it starts. `progress(done, of)`: told as the distinct
    pages are pictured."""
    layout, sealing = LAYOUTS[fmt], sealing or Sealing()
    subject = evidence_docs.subject_of(store, subject_kind, subject_id)
    captures = store.captures_of(subject_kind, subject["identity"]["id"])
    warc, placed = bundle_warc(Path(config.storage.evidence_dir), captures)
    files = {layout.warc: warc}
    entries = [_capture_entry(c, placed, layout) for c in captures]
    for capture in captures:
        files[layout.snapshot(capture["id"])] = _snapshot(capture, warc, placed)
    findings = evidence_docs.findings_of(store, subject)
    timeline = evidence_docs.timeline_of(store, subject)
    if pending is not None:
        renderer, renderer_note = pending.ready()
    images = pictures.page_images(
        renderer, captures, entries, layout, lambda c: payload_of(c, warc, placed), progress
    )
    files.update(images.files)
    if renderer is None:
        images.note = renderer_note or "no page images: none were asked for"
    signer = signer_info(sealing.signing_key.public_key()) if sealing.signing_key else None
    seal = {
        "signature": signer.as_dict() if signer else None,
        "timestamp": _tsa_block(sealing),
    }
    files.update(
        _documents(subject, findings, timeline, entries, layout, seal, images, renderer, files)
    )
    event = event or export_event()
    files[layout.custody], custody_head = render_custody(captures, subject, event)
    if fmt == "wacz":
        files.update(wacz.index_and_pages(warc, layout.warc, entries))
    manifest = {
        "format": BUNDLE_FORMAT,
        "tool": {"name": "grayhound", "version": __version__},
        "config_sha256": _config_sha256(config),
        "subject": subject["identity"],
        "captures": entries,
        "findings": findings,
        "price_timeline": timeline,
        "page_images": {
            "rendered": images.rendered,
            "note": images.note,
            "renderer": getattr(renderer, "version", None),  # the browser's version
        },
        "files": _file_list(files),
        "custody_head": custody_head,
        "seal": seal,
        "export": event,
    }
    files[layout.manifest] = manifest_bytes(manifest)
    digest = sha256_hex(files[layout.manifest])
    stamp = _seal(files, layout, sealing, digest)
    if fmt == "wacz":
        _add_datapackage(files, subject, entries, event)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_zip(out, files)
    return ExportResult(
        out,
        len(captures),
        len(files),
        digest,
        signed_by=signer.fingerprint if signer else None,
        stamp=stamp,
        images=images.rendered,
        images_note=images.note,
    )


def _documents(
    subject, findings, timeline, entries, layout: Layout, seal, images, renderer, files_so_far
) -> dict:
    """summary.html (and its PDF when a browser is at hand) and declaration.txt."""
    summary = evidence_docs.render_summary(
        subject,
        entries,
        findings,
        timeline,
        __version__,
        layout=layout,
        seal=seal,
        images=images,
        files=_file_list(files_so_far),
    )
    files = {layout.summary: summary}
    if renderer is not None:
        shown = {path: (data, "image/png") for path, data in images.files.items()}
        files[layout.summary_pdf] = renderer.document(summary, shown)
    files[layout.declaration] = evidence_docs.render_declaration(
        subject, entries, _file_list({**images.files, **files}), __version__
    )
    return files


def _tsa_block(sealing: Sealing) -> dict | None:
    if sealing.timestamper is None:
        return None
    ca = sealing.tsa_ca_pem.decode("ascii", "replace") if sealing.tsa_ca_pem else None
    return {"tsa_url": sealing.tsa_url, "ca_pem": ca}


def _seal(files: dict, layout: Layout, sealing: Sealing, digest: str) -> Stamp | None:
    """Sign the manifest digest and obtain a timestamp over it; both go beside the manifest."""
    if sealing.signing_key is not None:
        files[SIGNATURE] = canonical_json(sign_digest(sealing.signing_key, digest))
    if sealing.timestamper is None:
        return None
    files[TIMESTAMP] = sealing.timestamper(files[layout.manifest])
    problem, stamp = check_token(
        files[TIMESTAMP], digest, trusted_ca=sealing.tsa_ca_pem, bundle_ca=None
    )
    if problem:
        raise GrayhoundError(f"{sealing.tsa_url}: {problem}")
    return stamp


def _add_datapackage(files: dict, subject: dict, entries: list[dict], event: dict) -> None:
    identity = subject["identity"]
    main = None
    pages = [e for e in entries if "html" in (e.get("content_type") or "")]
    if pages:
        main = (pages[-1]["url"], pages[-1]["fetched_at"])
    package, digest = wacz.datapackage(
        files,
        title=f"grayhound evidence: {identity['kind']} #{identity['id']}",
        created=event["exported_at"],
        version=__version__,
        main=main,
    )
    files["datapackage.json"], files["datapackage-digest.json"] = package, digest


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


# -- entries --------------------------------------------------------------------------------
def _snapshot(capture: dict, warc: bytes, placed: dict) -> bytes:
    content_type, body = payload_of(capture, warc, placed)
    return render_snapshot(body, content_type, capture_banner(capture))


def _capture_entry(capture: dict, placed: dict, layout: Layout) -> dict:
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
        "warc_file": layout.warc,
        "warc_offset": start,
        "warc_length": length,
        "original_warc_offset": original,
        "snapshot": layout.snapshot(capture["id"]),
        "image_png": None,  # set when the page is pictured
        "image_pdf": None,
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
            stored = name.endswith((".gz", ".png", ".tsr"))  # compressed, or too small to gain
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
