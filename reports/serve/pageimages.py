"""The page image on a listing's page: the PNG an exported evidence bundle holds of one of its
captures, or one rendered on demand from the stored capture.

Bundles are the ones `grayhound serve` exported to evidence_dir/exports/: the listing's, its
seller's or its network's, newest first; the first whose manifest pictures one of the
listing's captures gives the image (its latest capture there). When none does, a signed-in
reviewer can have the stored capture rendered through the bundles' own renderer
(`reports.evidence.pictures.page_images` with `images.PageRenderer`: headless Chromium,
scripts off, the payload served on loopback, every other request refused; never the live
site). Those go to evidence_dir/exports/images/, named by capture id and payload digest: a
view for the reviewer; the sealed copy is the bundle's."""

from __future__ import annotations

import asyncio
import json
import re
import zipfile
from pathlib import Path

from datasette.utils.asgi import NotFound, Response

from grayhound.errors import GrayhoundError
from reports.serve.auth import ensure_read
from reports.serve.context import context_of

BUNDLE_NAME = re.compile(r"^(listing|seller|network)-([0-9]+)-([0-9]{8}T[0-9]{6}Z)\.zip$")
BUNDLE_IMAGE = re.compile(r"^images/(capture-[0-9]{8}\.png)$")  # as reports.evidence.layout
RENDERED_NAME = re.compile(r"^capture-[0-9]{8}-[0-9a-f]{16}\.png$")
MAX_MANIFEST = 64 * 1024 * 1024  # bytes: a bundle of thousands of captures stays well below
IMAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


def bundle_image(exports_dir: Path, subjects: list[tuple[str, int]], captures: list[dict]):
    """{bundle, image, capture_id, fetched_at, exported_at} of the newest exported bundle of
    these subjects that pictures one of these captures (its latest), or None."""
    wanted = {capture["id"]: capture for capture in captures}
    found = []
    for kind, subject_id in subjects:
        for path in Path(exports_dir).glob(f"{kind}-{int(subject_id)}-*.zip"):
            match = BUNDLE_NAME.match(path.name)
            if match:
                found.append((match.group(3), path))
    for stamp, path in sorted(found, reverse=True):
        pictured = {
            capture_id: image
            for capture_id, image in _pictured(path).items()
            if capture_id in wanted
        }
        if pictured:
            latest = max(pictured, key=lambda i: (wanted[i]["fetched_at"], i))
            return {
                "bundle": path.name,
                "image": pictured[latest],
                "capture_id": latest,
                "fetched_at": wanted[latest]["fetched_at"],
                "exported_at": f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:"
                f"{stamp[11:13]}",
            }
    return None


def _pictured(path: Path) -> dict[int, str]:
    """{capture id: image file name} from a bundle's manifest; {} for one that cannot be read."""
    try:
        with zipfile.ZipFile(path) as bundle:
            if bundle.getinfo("manifest.json").file_size > MAX_MANIFEST:
                return {}
            manifest = json.loads(bundle.read("manifest.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return {}
    pictured = {}
    for entry in manifest.get("captures") or []:
        match = BUNDLE_IMAGE.match(str(entry.get("image_png") or ""))
        if match and isinstance(entry.get("capture_id"), int):
            pictured[entry["capture_id"]] = match.group(1)
    return pictured


def listing_image(exports_dir: Path, subjects: list[tuple[str, int]], captures: list[dict]):
    """What the listing page shows: `latest` (the newest captured page), `bundle` (the newest
    bundle's image, see `bundle_image`), `current` (whether that image is of `latest`),
    `rendered` (the on-demand image of `latest`, when made) and `can_render`."""
    latest = latest_page(captures)
    bundle = bundle_image(exports_dir, subjects, captures)
    current = bool(bundle and latest and bundle["capture_id"] == latest["id"])
    rendered = None if current else rendered_image(exports_dir, latest)
    return {
        "latest": latest,
        "bundle": bundle,
        "current": current,
        "rendered": rendered,
        "can_render": latest is not None and not current and rendered is None,
    }


def rendered_name(capture: dict) -> str:
    return f"capture-{int(capture['id']):08d}-{str(capture['payload_sha256'])[:16]}.png"


def rendered_image(exports_dir: Path, capture: dict | None) -> str | None:
    """The name of the on-demand image of this capture, when one was rendered."""
    if capture is None or not RENDERED_NAME.match(rendered_name(capture)):
        return None
    name = rendered_name(capture)
    return name if (Path(exports_dir) / "images" / name).is_file() else None


def latest_page(captures: list[dict]) -> dict | None:
    """The newest capture that is a web page (what a picture is made of), else the newest."""
    pages = [c for c in captures if "html" in str(c.get("content_type") or "").lower()]
    return (pages or captures or [None])[-1]


def render(evidence_dir: Path, exports_dir: Path, capture: dict) -> str:
    """Render one stored capture to exports/images/; return the image's name. Raises
    GrayhoundError (one line) when there is no browser or nothing to picture."""
    from reports.evidence.images import PageRenderer
    from reports.evidence.layout import LAYOUTS
    from reports.evidence.pictures import page_images
    from reports.evidence.view import capture_payload

    layout, entry = LAYOUTS["zip"], {}
    with PageRenderer() as renderer:  # Unavailable (a GrayhoundError) without Chromium
        images = page_images(
            renderer, [capture], [entry], layout, lambda c: capture_payload(evidence_dir, c)
        )
    png = images.files.get(layout.image(capture["id"], "png"))
    if png is None:
        why = images.note or "it is not an HTML page with a body"
        raise GrayhoundError(f"capture #{capture['id']} was not pictured: {why}")
    name = rendered_name(capture)
    if not RENDERED_NAME.match(name):
        raise GrayhoundError(f"capture #{capture['id']}: no payload digest to name its image by")
    target = Path(exports_dir) / "images" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(png)
    partial.replace(target)  # a reader never sees half an image
    return name


# -- routes --------------------------------------------------------------------------------
async def bundle_image_file(request, datasette):
    """GET one page image out of an exported bundle (names checked, never a path)."""
    await ensure_read(request, datasette)
    name, image = request.url_vars["name"], request.url_vars["image"]
    path = context_of(datasette).exports_dir / name
    if not BUNDLE_NAME.match(name) or not path.is_file():
        raise NotFound(f"No exported bundle {name}")
    try:
        with zipfile.ZipFile(path) as bundle:
            body = await asyncio.to_thread(bundle.read, f"images/{image}")
    except (KeyError, OSError, zipfile.BadZipFile):
        raise NotFound(f"No image {image} in {name}") from None
    return Response(body, headers=IMAGE_HEADERS, content_type="image/png")


async def rendered_image_file(request, datasette):
    await ensure_read(request, datasette)
    name = request.url_vars["name"]
    path = context_of(datasette).exports_dir / "images" / name
    if not RENDERED_NAME.match(name) or not path.is_file():
        raise NotFound(f"No rendered image {name}")
    body = await asyncio.to_thread(path.read_bytes)
    return Response(body, headers=IMAGE_HEADERS, content_type="image/png")
