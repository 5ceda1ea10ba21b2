"""Which captures of a bundle get page images, and what their banners say.

One PNG and one PDF per distinct page payload (URL + payload SHA-256): a listing captured daily
with no change is pictured once, and every capture of that payload points at the same images.
Only HTML pages with a body are pictured; robots.txt, JSON endpoints and error pages without
markup are not. The pictures themselves are made by `images.PageRenderer`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from grayhound import __version__

PICTURED_TYPES = ("text/html", "application/xhtml")


@dataclass
class Images:
    files: dict[str, bytes] = field(default_factory=dict)
    rendered: int = 0
    note: str | None = None  # why some or all are missing
    shown: list[dict] = field(default_factory=list)  # for the summary: url, time, png path
    refused_requests: int = 0


def page_images(
    renderer, captures, entries, layout, payload: Callable, progress: Callable | None = None
) -> Images:
    """Render the distinct pages of `captures`; record each image's paths in its `entries`.
    The renderer pictures them in order (`capture_all`: on several browsers where it has
    them); `progress(done, total)` is told as they come."""
    images = Images()
    if renderer is None:
        return images
    firsts: dict[tuple[str, str], dict] = {}  # each distinct page's first capture
    for capture in captures:
        firsts.setdefault((capture["url"], capture["payload_sha256"]), capture)

    def jobs() -> Iterator[tuple]:  # read one at a time, as the renderer takes them
        for key, capture in firsts.items():
            content_type, body = payload(capture)
            page = _is_page(content_type, body)  # none to picture: passed through
            yield key, (body, content_type, banner_of(capture)) if page else None

    pictured: dict[tuple[str, str], tuple[str, str]] = {}
    failures = []
    for done, (key, result) in enumerate(renderer.capture_all(jobs(), len(firsts)), 1):
        capture = firsts[key]
        if isinstance(result, Exception):  # a page Chromium cannot lay out: not the bundle
            failures.append(f"capture #{capture['id']}: {type(result).__name__}")
        elif result is not None:  # None: not a page, nothing pictured
            png, pdf, refused = result
            paths = (layout.image(capture["id"], "png"), layout.image(capture["id"], "pdf"))
            images.files[paths[0]], images.files[paths[1]] = png, pdf
            images.rendered += 1
            images.refused_requests += refused
            images.shown.append(
                {"url": capture["url"], "fetched_at": capture["fetched_at"], "png": paths[0]}
            )
            pictured[key] = paths
        if progress is not None:
            progress(done, len(firsts))
    for capture, entry in zip(captures, entries, strict=True):
        paths = pictured.get((capture["url"], capture["payload_sha256"]))
        if paths is not None:
            entry["image_png"], entry["image_pdf"] = paths
    if failures:
        images.note = "page images not rendered for " + "; ".join(failures[:10])
    return images


def banner_of(capture: dict) -> list[tuple[str, str]]:
    return [
        ("URL", capture["url"]),
        ("Captured (UTC)", capture["fetched_at"]),
        ("HTTP status", str(capture["status"])),
        ("WARC record", str(capture["record_id"])),
        ("Payload SHA-256", capture["payload_sha256"]),
        ("Rendered by", f"grayhound {__version__} from the stored capture, not the live site"),
    ]


def _is_page(content_type: str | None, body: bytes) -> bool:
    kind = (content_type or "").lower()
    if not body.strip():
        return False
    if any(kind.startswith(t) for t in PICTURED_TYPES):
        return True
    return not kind and body[:512].lstrip().lower().startswith((b"<!doctype html", b"<html"))
