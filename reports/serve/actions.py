"""What a signed-in reviewer can change from the triage UI, each through the function the CLI
calls: a case's state with a note (`grayhound.triage.set_state`, as `grayhound review set`) and
an evidence bundle (`reports.evidence.bundle.export_bundle`, as `grayhound evidence export`),
downloaded once written. Every form is a POST that Datasette's CSRF protection checks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from datasette.utils.asgi import Forbidden, NotFound, Response

from grayhound.errors import GrayhoundError
from grayhound.store import utc_now
from grayhound.triage import set_state
from reports.serve.auth import actor_name, may_write
from reports.serve.context import context_of, write

KINDS = ("listing", "seller")
BUNDLE_NAME = re.compile(r"^(listing|seller)-[0-9]+-[0-9]{8}T[0-9]{6}Z\.zip$")
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
        return set_state(store, str(case["id"]), state, note[:MAX_NOTE], actor, now)

    try:
        entry = await write(context, decide)
    except GrayhoundError as exc:
        datasette.add_message(request, str(exc), datasette.ERROR)
        return Response.redirect(back)
    datasette.add_message(
        request,
        f"Case #{entry['case_id']}: {entry['previous_state']} → {entry['state']}, "
        f"by {entry['by']} (evidence {entry['evidence_fingerprint']}).",
    )
    return Response.redirect(back)


async def export(request, datasette):
    """POST kind, subject_id: write the evidence bundle, then send the browser to download it."""
    from reports.evidence.bundle import export_bundle, export_event

    context = context_of(datasette)
    actor = _writer(context, request, "grayhound-export")
    kind, subject_id = _subject(await request.post_vars())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = context.exports_dir / f"{kind}-{subject_id}-{stamp}.zip"
    # the custody log names the signed-in reviewer; the manifest also says through what
    event = {**export_event(), "user": actor, "via": "grayhound serve"}

    def run(store):
        _ensure_exists(store, kind, subject_id)
        return export_bundle(store, context.config, kind, subject_id, out, event=event)

    try:
        result = await write(context, run)
    except GrayhoundError as exc:
        datasette.add_message(request, f"Export failed: {exc}", datasette.ERROR)
        return Response.redirect(f"/-/grayhound/{kind}/{subject_id}")
    datasette.add_message(
        request,
        f"Exported {out.name}: {result.captures} captures, manifest.json SHA-256 "
        f"{result.manifest_sha256}.",
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


def _writer(context, request, action: str) -> str:
    """The signed-in actor's name, or Forbidden (the plugin's forbidden hook offers sign-in)."""
    if not may_write(context, request.actor):
        raise Forbidden(f"{action}: sign in to change anything")
    return actor_name(request.actor)


def _subject(form) -> tuple[str, int]:
    kind, subject_id = form.get("kind"), form.get("subject_id") or ""
    if kind not in KINDS or not subject_id.isdigit():
        raise NotFound("expected kind=listing|seller and a numeric subject_id")
    return kind, int(subject_id)


def _ensure_exists(store, kind: str, subject_id: int) -> None:
    found = store.listing_by_id(subject_id) if kind == "listing" else store.seller_by_id(subject_id)
    if found is None:
        raise GrayhoundError(f"no {kind} #{subject_id}")
