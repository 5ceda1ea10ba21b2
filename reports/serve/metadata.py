"""Datasette metadata of the triage UI: titles, descriptions, default sort and facets of the
derived tables, and who may look at anything (`allow`)."""

from __future__ import annotations

from reports.serve.context import DATABASE, DERIVED

QUEUE = {
    "title": "Cases queue",
    "description": (
        "One row per flagged listing or seller, riskiest first. Group: new (never in a digest), "
        "changed (differs from what the last digest showed), still_open, or closed (dismissed "
        "or resolved). Open a subject to decide about it; 'its cases' beside a seller shows "
        "that seller's cases only."
    ),
    "sort_desc": "risk",
    "size": 50,
    "facets": [
        "group",
        "state",
        "brand",
        {"array": "flags"},
        "source",
        "seller_verdict",
        "kind",
    ],
    "columns": {
        "risk": "0–1: how strongly the evidence points at a problem",
        "why": "the strongest reason; the subject's page gives them all",
        "seller_verdict": "the seller's own current verdict (impersonation, suspicious, "
        "unauthorized, authorized, clean): a seller row's, or that of the seller a listing names",
        "network_id": "the seller network the seller belongs to, across sources",
    },
}
CRAWL_HEALTH = {
    "title": "Crawl health",
    "description": (
        "Per crawl run and source: pages fetched, listings found, failures and the share of "
        "listings with a price, a seller and a title, compared with the run before. A warning "
        "means a source stopped yielding or its extraction broke."
    ),
    "sort_desc": "run_id",
    "facets": ["source", "status", "has_warning"],
}
COMPETITORS = {
    "title": "Competitor pricing",
    "description": (
        "Per catalog model, each seller's cheapest current new listing: price, position "
        "against MSRP, the margin against your landed cost, since when. Prices are also shown "
        "in USD for comparison. The chart of a model is on its pricing page."
    ),
    "sort": "price_usd",
    "facets": ["brand", "model", "source", "below_landed"],
}


def metadata(anonymous: str) -> dict:
    """The metadata of one instance; with anonymous = "none" only a signed-in actor sees
    anything (Datasette's own `allow` block)."""
    meta = {
        "title": "grayhound triage",
        "description_html": (
            "Start with the <a href='/triage/queue'>cases queue</a>; "
            "<a href='/triage/crawl_health'>crawl health</a> and "
            "<a href='/-/grayhound/prices'>competitor pricing</a> are beside it."
        ),
        "databases": {
            DERIVED: {
                "title": "Triage",
                "description": "Tables grayhound derives from the store: read-only, rebuilt "
                "whenever the store changes.",
                "tables": {
                    "queue": QUEUE,
                    "crawl_health": CRAWL_HEALTH,
                    "competitors": COMPETITORS,
                    "derived_from": {"hidden": True},  # the queue's marks (store.queue)
                    # the view `queue` shows them as one (store.queue.VIEW)
                    "queue_cases": {"hidden": True},
                    "queue_seen": {"hidden": True},
                },
            },
            DATABASE: {
                "title": "Store (raw tables)",
                "description": "grayhound's database as stored, opened read-only. Decisions "
                "are made on the subject pages, never here.",
            },
        },
    }
    if anonymous == "none":
        meta["allow"] = {"id": "*"}
    return meta
