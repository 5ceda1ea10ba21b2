"""The tables grayhound derives for Datasette to facet: the cases queue, crawl health per run and
source, competitor pricing per model. They live in an in-memory database and are rebuilt, by
the same functions the digest and `grayhound prices` use, whenever the store's figures behind
them move (`Store.change_stamp`)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter

import sqlite_utils

from grayhound.errors import GrayhoundError
from grayhound.store import utc_now
from grayhound.triage import SHOWN_STATES, flagged_rows, reopen_changed
from reports.digest.build import DigestInputs, digest_item
from reports.digest.health import run_warnings, source_figures, source_warnings
from reports.serve.context import DERIVED, context_of, read, write

LOG = logging.getLogger(__name__)
NO_SOURCE = "(no figures)"  # a run that recorded no per-source figures (failed early)
PRICE_CURRENCY = "USD"  # competitor prices are also shown in one currency, to compare them

QUEUE_COLUMNS = {  # in reading order: what a reviewer scans first comes first
    "case_id": int, "subject": str, "risk": float, "verdict": str, "why": str,
    "price_text": str, "seller": str, "seller_verdict": str, "network_id": int,
    "flagged_listings": int, "flags": str, "brand": str, "state": str, "group": str,
    "changes": str, "kind": str, "source": str, "model": str, "severity": str,
    "first_seen": str, "last_seen": str, "case_updated_at": str, "url": str, "subject_id": int,
    "seller_id": int, "reasons": str,
}  # fmt: skip
HEALTH_COLUMNS = {
    "run_id": int, "started_at": str, "finished_at": str, "status": str, "source": str,
    "pages_fetched": int, "listings": int, "failures": int, "price_share": float,
    "seller_share": float, "title_share": float, "previous_listings": int, "warnings": str,
    "has_warning": int,
}  # fmt: skip
COMPETITOR_COLUMNS = {
    "listing_id": int, "model": str, "seller": str, "price": float, "currency": str,
    "price_usd": float, "msrp_position": float, "margin": float, "below_landed": int,
    "title": str, "source": str, "brand": str, "listings": int, "first_seen": str,
    "price_since": str, "url": str,
}  # fmt: skip


def queue_rows(store, context) -> list[dict]:
    """One row per flagged subject with its case, grouped as the digest groups them against
    what the latest digest showed; every row names its seller, that seller's own verdict and
    network, and a seller's row how many of its listings are flagged (as the digest's seller
    cards). Opens missing cases and reopens dismissed ones whose evidence moved first,
    exactly as `grayhound review list` does."""
    now = utc_now()
    rows = flagged_rows(store)
    subjects = {(row["subject_kind"], row["subject_id"]): row for row in rows}
    reopen_changed(store, subjects, context.config.digest.reopen_price_change, now)
    cases = store.ensure_cases(subjects, now)
    inputs = DigestInputs(now=now, reference=now, rows=rows, cases=cases)
    inputs.shown = store.shown_evidence(now)
    seller_of, verdicts = store.listing_sellers(), store.seller_verdicts()
    networks = store.network_ids()
    flagged = Counter(
        seller_of.get(row["subject_id"]) for row in rows if row["subject_kind"] == "listing"
    )
    out = []
    for row in rows:
        case = cases[row["subject_kind"], row["subject_id"]]
        item = digest_item(row.as_dict(), case, inputs)
        is_seller = item["kind"] == "seller"
        seller_id = item["subject_id"] if is_seller else seller_of.get(item["subject_id"])
        out.append(
            {
                "case_id": item["case_id"],
                "group": item["group"] if case["state"] in SHOWN_STATES else "closed",
                "state": item["state"],
                "kind": item["kind"],
                "subject": (item["seller"] if is_seller else item["title"]) or "(no title)",
                "subject_id": item["subject_id"],
                "risk": item["score"],
                "severity": item["severity"],
                "verdict": item["verdict"],
                "brand": item["brand"],
                "flags": json.dumps(item["flags"]),
                "why": _why(item["reasons"]),
                "reasons": json.dumps(item["reasons"], ensure_ascii=False),
                "source": item["source"],
                "seller": item["seller"],
                "seller_id": seller_id,
                "seller_verdict": verdicts.get(seller_id),
                "network_id": networks.get(seller_id),
                "flagged_listings": flagged.get(seller_id, 0) if is_seller else None,
                "price_text": item["price_text"],
                "model": item["model"],
                "changes": "; ".join(item["changes"]) or None,
                "url": item["url"],
                "first_seen": item["first_seen"],
                "last_seen": item["last_seen"],
                "case_updated_at": case["updated_at"],
            }
        )
    return out


def _why(reasons: list[str]) -> str | None:
    """The strongest reason, and how many more the subject's page gives."""
    if not reasons:
        return None
    more = len(reasons) - 1
    return reasons[0] + (f" (+{more} more)" if more else "")


def health_rows(store, context) -> list[dict]:
    """Per crawl run and source, its figures beside that source's previous run, and the
    warnings the digest would give."""
    out, previous = [], {}
    for run in store.runs():
        stats = sorted(store.source_stats(run["id"]), key=lambda row: row["source"])
        base = {k: run[k] for k in ("started_at", "finished_at", "status")}
        if not stats:
            warnings = run_warnings(run)
            out.append(
                {"run_id": run["id"], **base, "source": NO_SOURCE}
                | {"warnings": " ".join(warnings) or None, "has_warning": int(bool(warnings))}
            )
        for row in stats:
            figures = source_figures(row)
            figures["previous"] = previous.get(row["source"])
            warnings = run_warnings(run) + source_warnings(figures)
            shares = figures["shares"]
            out.append(
                {
                    "run_id": run["id"],
                    **base,
                    "source": row["source"],
                    "pages_fetched": figures["pages_fetched"],
                    "listings": figures["listings"],
                    "failures": figures["failures"],
                    "price_share": shares["price"],
                    "seller_share": shares["seller"],
                    "title_share": shares["title"],
                    "previous_listings": (figures["previous"] or {}).get("listings"),
                    "warnings": " ".join(warnings) or None,
                    "has_warning": int(bool(warnings)),
                }
            )
            previous[row["source"]] = figures
    return out


def competitor_rows(store, context) -> list[dict]:
    """Per catalog model, each seller's cheapest current new listing (`grayhound prices`).
    The report itself is kept for the pricing pages (their charts need each model's history)."""
    from reports.pricing.build import price_report

    report = price_report(
        store.price_observations(), store.runs(), context.config, currency=PRICE_CURRENCY
    )
    context.price_report = report
    out = []
    for model in report.models:
        for rival in model.competitors:
            out.append(
                {
                    "brand": model.brand,
                    "model": model.model,
                    "seller": rival.seller,
                    "source": rival.source,
                    "listing_id": rival.listing_id,
                    "title": rival.title,
                    "price": rival.price.amount,
                    "currency": rival.price.currency,
                    "price_usd": rival.price.converted,
                    "msrp_position": rival.msrp_position,
                    "margin": rival.margin,
                    "below_landed": int(rival.below_landed),
                    "listings": rival.listings,
                    "first_seen": rival.first_seen,
                    "price_since": rival.price_since,
                    "url": rival.url,
                }
            )
    return out


# derived table -> (how it is built, its columns, its primary key); `Store.change_stamp` of
# the same name says when it is stale
TABLES = {
    "queue": (queue_rows, QUEUE_COLUMNS, "case_id"),
    "crawl_health": (health_rows, HEALTH_COLUMNS, ("run_id", "source")),
    "competitors": (competitor_rows, COMPETITOR_COLUMNS, "listing_id"),
}


async def refresh(datasette, names: tuple[str, ...] = tuple(TABLES)) -> None:
    """Rebuild each of these derived tables whose data moved since it was built."""
    context = context_of(datasette)
    async with context.refresh_lock:
        stamps = await read(datasette, lambda store: {n: store.change_stamp(n) for n in names})
        stale = [name for name in names if context.stamps.get(name) != stamps[name]]
        if not stale:
            return
        built = await write(context, lambda store: _build(store, context, stale))
        await datasette.get_database(DERIVED).execute_write_fn(
            lambda conn: _replace(conn, built), block=True
        )
        context.stamps.update({name: stamp for name, (stamp, _) in built.items()})


async def refresh_or_warn(datasette, names: tuple[str, ...] = tuple(TABLES)) -> None:
    """`refresh`, or, when the store cannot be read or written just now (a crawl holding a
    write lock past the busy timeout), keep showing the tables as last built and say so."""
    try:
        await refresh(datasette, names)
    except (sqlite3.OperationalError, GrayhoundError) as exc:
        LOG.warning("grayhound serve: derived tables not refreshed: %s", exc)


def _build(store, context, names: list[str]) -> dict[str, tuple[tuple, list[dict]]]:
    """Each table with the stamp of the data it was built from, taken first: anything written
    meanwhile (the queue's own case bookkeeping included) makes the next request rebuild."""
    built = {}
    for name in names:
        stamp = store.change_stamp(name)
        built[name] = (stamp, TABLES[name][0](store, context))
    return built


def _replace(conn, built: dict) -> None:
    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    with db.atomic():
        for name, (_, rows) in built.items():
            db[name].drop(ignore=True)
            db[name].create(TABLES[name][1], pk=TABLES[name][2])
            db[name].insert_all(rows)
