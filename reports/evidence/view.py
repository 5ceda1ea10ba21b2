"""One stored capture shown inert outside a bundle (`grayhound serve`'s listing page): the same
WARC bytes and the same sanitiser as a bundle's `snapshots/`, with the same banner."""

from __future__ import annotations

from pathlib import Path

from reports.evidence.bundle import _bundle_warc, _snapshot


def capture_snapshot(evidence_dir: str | Path, capture: dict) -> bytes:
    """The inert HTML view of one `captures` row, read from its WARC file in evidence_dir."""
    warc, placed = _bundle_warc(Path(evidence_dir), [capture])
    return _snapshot(capture, warc, placed)
