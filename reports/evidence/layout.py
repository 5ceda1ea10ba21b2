"""Where each part of a bundle sits in a .zip and in a .wacz (WACZ 1.1.1 wants the WARC under
archive/, an index and a page list, and every other file one folder deep)."""

from __future__ import annotations

from dataclasses import dataclass

SIGNATURE = "seal/signature.json"  # the signature over the manifest digest
TIMESTAMP = "seal/timestamp.tsr"  # the TSA's RFC 3161 reply over the manifest digest
SEAL_FILES = {SIGNATURE, TIMESTAMP}  # made after the manifest, so not listed in it
WACZ_UNLISTED = {"datapackage.json", "datapackage-digest.json"}  # made after the seal


@dataclass(frozen=True)
class Layout:
    name: str
    warc: str
    manifest: str
    custody: str
    summary: str
    summary_pdf: str
    declaration: str
    up: str  # from the summary's folder back to the root, for relative links

    def snapshot(self, capture_id: int) -> str:
        return f"snapshots/capture-{int(capture_id):08d}.html"

    def image(self, capture_id: int, suffix: str) -> str:
        return f"images/capture-{int(capture_id):08d}.{suffix}"


LAYOUTS = {
    "zip": Layout(
        name="zip",
        warc="evidence.warc.gz",
        manifest="manifest.json",
        custody="custody.log",
        summary="summary.html",
        summary_pdf="summary.pdf",
        declaration="declaration.txt",
        up="",
    ),
    "wacz": Layout(
        name="wacz",
        warc="archive/evidence.warc.gz",
        manifest="grayhound/manifest.json",
        custody="grayhound/custody.log",
        summary="grayhound/summary.html",
        summary_pdf="grayhound/summary.pdf",
        declaration="grayhound/declaration.txt",
        up="../",
    ),
}
