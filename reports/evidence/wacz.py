"""WACZ 1.1.1 packaging of a bundle (Webrecorder's format, which ReplayWeb.page opens).

A .wacz is a zip: the WARC under `archive/`, a CDXJ index of it (`indexes/index.cdx`, made by
Webrecorder's cdxj-indexer), the captured pages (`pages/pages.jsonl`), `datapackage.json` (every
file's SHA-256 and size) and `datapackage-digest.json` (datapackage.json's own SHA-256).
grayhound's own parts (manifest, custody log, summary, images, snapshots, seal) sit beside them,
one folder deep as the format's validator expects, and are listed in datapackage.json too. The
WACZ signature field (`signedData`, for domain-certificate signing) is not used: the bundle's
Ed25519 signature and RFC 3161 timestamp are in `seal/`, over grayhound's manifest."""

from __future__ import annotations

import hashlib
import io
import json
import re

WACZ_VERSION = "1.1.1"
PAGES = "pages/pages.jsonl"
INDEX = "indexes/index.cdx"
PAGE_TYPES = ("html", "xhtml")


def index_and_pages(warc: bytes, warc_path: str, captures: list[dict]) -> dict[str, bytes]:
    """The CDXJ index of the bundle's WARC and the page list of its HTML captures."""
    # Imported here: it pulls in surt and its URL tables (~0.25 s), which only a WACZ bundle
    # needs, not every command that can make a bundle (serve, a .zip evidence export).
    from cdxj_indexer.main import CDXJIndexer

    out = io.StringIO()
    filename = warc_path.rsplit("/", 1)[-1]
    CDXJIndexer(out, [io.BytesIO(warc)], sort=True, filename=filename).process_all()
    header = {"format": "json-pages-1.0", "id": "pages", "title": "Captured pages"}
    lines = [json.dumps(header)]
    for capture in captures:
        if any(kind in (capture.get("content_type") or "").lower() for kind in PAGE_TYPES):
            page = {
                "id": f"capture-{capture['capture_id']}",
                "url": capture["url"],
                "ts": capture["fetched_at"],
                "title": f"capture #{capture['capture_id']} ({capture['status']})",
            }
            lines.append(json.dumps(page, ensure_ascii=False))
    return {
        INDEX: out.getvalue().encode("utf-8"),
        PAGES: ("\n".join(lines) + "\n").encode("utf-8"),
    }


def datapackage(files: dict[str, bytes], *, title: str, created: str, version: str, main=None):
    """(datapackage.json, datapackage-digest.json) over every file already in the package."""
    resources = [
        {
            "name": _resource_name(path),
            "path": path,
            "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }
        for path, data in sorted(files.items())
    ]
    package = {
        "profile": "data-package",
        "resources": resources,
        "wacz_version": WACZ_VERSION,
        "title": title,
        "created": created,
        "software": f"grayhound {version}",
    }
    if main:
        package["mainPageURL"], package["mainPageDate"] = main
    package_bytes = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
    digest = {
        "path": "datapackage.json",
        "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest(),
    }
    return package_bytes, json.dumps(digest, indent=2).encode("utf-8")


def _resource_name(path: str) -> str:
    """Frictionless wants lowercase [-a-z0-9._/] names, unique within the package."""
    return re.sub(r"[^-a-z0-9._]", "-", path.lower().replace("/", "-"))
