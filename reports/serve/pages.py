"""grayhound's own pages in the triage UI: a seller, a seller network, a listing, a stored
capture (inert) and competitor pricing per model. Each page is also JSON (`.json`), for
scripts. What each shows is gathered by `reports.serve.views`."""

from __future__ import annotations

import asyncio
from functools import partial

from datasette.utils.asgi import NotFound, Response

from grayhound.errors import GrayhoundError
from grayhound.triage import STATES
from reports.serve.auth import ensure_read, may_write
from reports.serve.context import context_of, read
from reports.serve.views import listing_view, network_view, seller_view

# The stored page is shown in a sandboxed frame and carries this policy itself, so even opened
# on its own it can run nothing, load nothing from outside, and submit nowhere.
CAPTURE_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


async def seller_page(request, datasette):
    seller_id = int(request.url_vars["id"])
    data = await _view(request, datasette, partial(seller_view, seller_id=seller_id))
    if data is None:
        raise NotFound(f"No seller {seller_id}")
    if "moved_to" in data:  # merged into an older seller: its id leads there
        return _moved(request, "seller", data["moved_to"])
    if request.url_vars.get("format") == "json":
        return Response.json(data, default=str)
    return await _render(request, datasette, "grayhound_seller.html", data, ("seller", seller_id))


async def network_page(request, datasette):
    network_id = int(request.url_vars["id"])
    data = await _view(request, datasette, partial(network_view, network_id=network_id))
    if data is None:
        raise NotFound(f"No seller network {network_id}")
    if "moved_to" in data:  # joined an older network
        return _moved(request, "network", data["moved_to"])
    if request.url_vars.get("format") == "json":
        return Response.json(data, default=str)
    page = ("network", network_id)
    return await _render(request, datasette, "grayhound_network.html", data, page)


async def listing_page(request, datasette):
    from reports.serve.charts import price_history_svg
    from reports.serve.pageimages import listing_image

    listing_id = int(request.url_vars["id"])
    data = await _view(request, datasette, partial(listing_view, listing_id=listing_id))
    if data is None:
        raise NotFound(f"No listing {listing_id}")
    listing, context = data["listing"], context_of(datasette)
    subjects = [("listing", listing_id)]
    subjects += [
        (kind, listing[f"{kind}_id"]) for kind in ("seller", "network") if listing[f"{kind}_id"]
    ]
    data["page_image"] = await asyncio.to_thread(
        listing_image, context.exports_dir, subjects, data["captures"]
    )
    if request.url_vars.get("format") == "json":
        return Response.json(data, default=str)
    data["chart"] = await asyncio.to_thread(
        price_history_svg,
        data["observations"],
        listing.get("msrp"),
        listing.get("msrp_currency"),
        context.config.pricing,
    )
    return await _render(
        request, datasette, "grayhound_listing.html", data, ("listing", listing_id)
    )


async def capture_page(request, datasette):
    """The stored response, sanitised like a bundle's snapshot and served under a policy that
    forbids every script and outside fetch."""
    from reports.evidence.view import capture_snapshot

    await ensure_read(request, datasette)
    capture_id = int(request.url_vars["id"])
    capture = await read(datasette, lambda store: store.capture_by_id(capture_id))
    if capture is None:
        raise NotFound(f"No capture {capture_id}")
    evidence_dir = context_of(datasette).config.storage.evidence_dir
    try:
        body = await asyncio.to_thread(capture_snapshot, evidence_dir, capture)
    except GrayhoundError as exc:
        return Response.text(f"capture #{capture_id} cannot be shown: {exc}", status=404)
    headers = {
        "Content-Security-Policy": CAPTURE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store",
    }
    return Response(body, headers=headers, content_type="text/html; charset=utf-8")


async def prices_page(request, datasette):
    """Competitor pricing: every catalog model's figures, or one model with its chart. The
    report is the one the competitors table was built from (made fresh before this page)."""
    from reports.pricing.build import PriceReport, select_models
    from reports.serve.derived import PRICE_CURRENCY

    await ensure_read(request, datasette)
    context = context_of(datasette)
    report = context.price_report or await read(datasette, partial(_price_report, context))
    wanted = request.args.get("model")
    if wanted:
        try:
            (entry,) = select_models(context.config.catalog, wanted)[:1]
        except GrayhoundError as exc:
            raise NotFound(str(exc)) from None
        models = tuple(m for m in report.models if m.model == entry.model)
        report = PriceReport(report.currency, report.condition, report.data_as_of, models)
    if request.url_vars.get("format") == "json":
        return Response.json(report.to_dict())
    chart = None
    if wanted and report.models and report.models[0].history:
        from reports.pricing.chart import price_chart_svg

        chart = await asyncio.to_thread(price_chart_svg, report.models[0], PRICE_CURRENCY)
    page = {"report": report, "one_model": bool(wanted), "chart": chart}
    return await _render(request, datasette, "grayhound_prices.html", page, None)


def _price_report(context, store):
    from reports.pricing.build import price_report
    from reports.serve.derived import PRICE_CURRENCY

    return price_report(
        store.price_observations(), store.runs(), context.config, currency=PRICE_CURRENCY
    )


async def _render(request, datasette, template: str, data: dict, subject) -> Response:
    from markupsafe import Markup

    context = context_of(datasette)
    page = {
        **data,
        "chart": Markup(data["chart"]) if data.get("chart") else None,  # matplotlib's own SVG
        "states": STATES,
        "subject": subject,
        "can_write": may_write(context, request.actor),
        "anonymous": request.actor is None,
    }
    html = await datasette.render_template(template, page, request=request)
    return Response.html(html)


async def _view(request, datasette, gather):
    await ensure_read(request, datasette)
    return await read(datasette, gather)


def _moved(request, kind: str, to: int) -> Response:
    suffix = ".json" if request.url_vars.get("format") == "json" else ""
    return Response.redirect(f"/-/grayhound/{kind}/{to}{suffix}")
