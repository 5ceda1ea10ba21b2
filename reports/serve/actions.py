"""What a signed-in reviewer can change from the triage UI, each through the function the CLI
calls: a listing's or seller's case state with a note (`grayhound.triage.set_state`, as
`grayhound review set`: a seller's dismissal takes its informational listing cases with it),
an evidence bundle of a listing, seller or network (`reports.evidence.bundle.export_bundle`
with page images, as `grayhound evidence export`), downloaded once written; and a page image
rendered from a stored capture (`reports.serve.pageimages`). Every form is a POST that
Datasette's CSRF protection checks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from datasette.utils.asgi import Forbidden, NotFound, Response

from grayhound.errors import GrayhoundError
from grayhound.store import utc_now
from grayhound.triage import set_state
from reports.serve.auth import actor_name, may_write
from reports.serve.context import context_of, read, write
from reports.serve.pageimages import BUNDLE_NAME

KINDS = ("listing", "seller")  # what has a case to decide about
EXPORT_KINDS = (*KINDS, "network")  # what has an evidence bundle
MAX_NOTE = 4000  # characters: a note is a sentence or a ticket reference, not a document


async def review(request, datasette):
    """POST kind, subject_id, state, note: decide about a listing or a seller."""
    context = context_of(datasette)
    actor = _writer(context, request, "grayhound-review")
    form = await request.post_vars()
    kind, subject_id = _subject(form)
    state, note = form.get("state") or "", " ".join((form.get("note") or "").split())
    back = f"/-/grayhound/{kind}/{subject_id}"
    if not note:
        datasette.add_message(request, "Write a note: why, what you checked.", datasette.ERROR)
        return Response.redirect(back)

    def decide(store):
        _ensure_exists(store, kind, subject_id)
        now = utc_now()
        case = store.ensure_cases([(kind, subject_id)], now)[kind, subject_id]
        before = _listing_states(store, kind, subject_id)
        entry = set_state(store, str(case["id"]), state, note[:MAX_NOTE], actor, now)
        after = _listing_states(store, kind, subject_id)
        return entry, sum(1 for case_id, was in before.items() if after.get(case_id) != was)

    try:
        entry, followed = await write(context, decide)
    except GrayhoundError as exc:
        datasette.add_message(request, str(exc), datasette.ERROR)
        return Response.redirect(back)
    message = (
        f"Case #{entry['case_id']}: {entry['previous_state']} → {entry['state']}, "
        f"by {entry['by']} (evidence {entry['evidence_fingerprint']})."
    )
    if followed:  # triage.follow_sellers: informational listing cases follow their seller
        message += f" {_count(followed, 'of its listing case')} followed."
    datasette.add_message(request, message)
    return Response.redirect(back)


def _listing_states(store, kind: str, seller_id: int) -> dict[int, str]:
    if kind != "seller":
        return {}
    return {case["id"]: case["state"] for case in store.listing_cases(seller_id)}


async def export(request, datasette):
    """POST kind, subject_id: write the evidence bundle, then send the browser to download it."""
    from reports.evidence.bundle import export_bundle, export_event
    from reports.evidence.images import page_renderer

    context = context_of(datasette)
    actor = _writer(context, request, "grayhound-export")
    kind, subject_id = _subject(await request.post_vars(), EXPORT_KINDS)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = context.exports_dir / f"{kind}-{subject_id}-{stamp}.zip"
    # the custody log names the signed-in reviewer; the manifest also says through what
    event = {**export_event(), "user": actor, "via": "grayhound serve"}

    def run(store):
        _ensure_exists(store, kind, subject_id)
        with page_renderer() as (renderer, note):
            return export_bundle(
                store,
                context.config,
                kind,
                subject_id,
                out,
                event=event,
                sealing=context.sealing,
                renderer=renderer,
                renderer_note=note,
            )

    try:
        result = await write(context, run)
    except GrayhoundError as exc:
        datasette.add_message(request, f"Export failed: {exc}", datasette.ERROR)
        return Response.redirect(f"/-/grayhound/{kind}/{subject_id}")
    images = _count(result.images, "page image") if result.images else result.images_note
    datasette.add_message(
        request,
        f"Exported {out.name}: {_count(result.captures, 'capture')}, {images}; manifest.json "
        f"SHA-256 {result.manifest_sha256}.",
    )
    return Response.redirect(f"/-/grayhound/bundles/{out.name}", status=303)


async def bundle(request, datasette):
    """GET an exported bundle by its name (which grayhound chose; never a path from outside)."""
    context = context_of(datasette)
    _writer(context, request, "grayhound-export")
    name = request.url_vars["name"]
    path = context.exports_dir / name
    if not BUNDLE_NAME.match(name) or not path.is_file():
        raise NotFound(f"No exported bundle {name}")
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(Path(path).read_bytes(), headers=headers, content_type="application/zip")


async def render_image(request, datasette):
    """POST capture_id, listing_id: picture a stored capture (never the live site), then show
    it on the listing's page. One render at a time: each starts a browser."""
    from reports.serve.pageimages import render

    context = context_of(datasette)
    _writer(context, request, "grayhound-export")
    form = await request.post_vars()
    capture_id, listing_id = form.get("capture_id") or "", form.get("listing_id") or ""
    if not (capture_id.isdigit() and listing_id.isdigit()):
        raise NotFound("expected a numeric capture_id and listing_id")
    back = f"/-/grayhound/listing/{int(listing_id)}"
    capture = await read(datasette, lambda store: store.capture_by_id(int(capture_id)))
    if capture is None:
        raise NotFound(f"No capture {capture_id}")
    evidence_dir = context.config.storage.evidence_dir
    try:
        async with context.render_lock:
            await asyncio.to_thread(render, evidence_dir, context.exports_dir, capture)
    except GrayhoundError as exc:
        datasette.add_message(request, f"No page image: {exc}", datasette.ERROR)
        return Response.redirect(back)
    datasette.add_message(request, f"Rendered capture #{capture['id']} from the stored copy.")
    return Response.redirect(back)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _writer(context, request, action: str) -> str:
    """The signed-in actor's name, or Forbidden (the plugin's forbidden hook offers sign-in)."""
    if not may_write(context, request.actor):
        raise Forbidden(f"{action}: sign in to change anything")
    return actor_name(request.actor)


def _subject(form, kinds: tuple[str, ...] = KINDS) -> tuple[str, int]:
    kind, subject_id = form.get("kind"), form.get("subject_id") or ""
    if kind not in kinds or not subject_id.isdigit():
        raise NotFound(f"expected kind={'|'.join(kinds)} and a numeric subject_id")
    return kind, int(subject_id)


def _ensure_exists(store, kind: str, subject_id: int) -> None:
    find = {
        "listing": store.listing_by_id,
        "seller": store.seller_by_id,
        "network": store.network_profile,
    }[kind]
    if find(subject_id) is None:
        raise GrayhoundError(f"no {kind} #{subject_id}")
