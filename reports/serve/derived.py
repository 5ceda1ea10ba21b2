"""The tables grayhound derives for Datasette to facet: the cases queue, crawl health per run and
source, competitor pricing per model. They live in an in-memory database and are rebuilt, by
the same functions the digest and `grayhound prices` use, whenever the store's figures behind
them move (`Store.change_stamp`)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import inspect
import json
import logging
import sqlite3
import sys
from pathlib import Path

import sqlite_utils

from grayhound.errors import GrayhoundError
from grayhound.store import utc_now
from grayhound.triage import evidence_changes, judgement_changes, reopen_changed
from reports.digest.build import price_text
from reports.digest.health import run_warnings, source_figures, source_warnings
from reports.serve.context import context_of, read, write

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


def refresh_queue(context, stamp=lambda: None):
    """Bring the cases queue up to date with the store, as `grayhound review list` sees it.
    The queue is kept beside the store across runs (`grayhound.store.queue`): when it was
    derived from this store before, cases are opened and dismissed ones reopened only among
    the subjects logged since (`grayhound.store.queuelog`), and only their cases' rows (a
    seller's: with its listings') are derived again; otherwise every flagged subject's case is
    opened, dismissed ones whose evidence moved reopened, and every row derived.
    Each row names its seller, that seller's own verdict and network, and a seller's row how
    many of its listings are flagged (as the digest's seller cards); its group says how it
    stands against what the latest digest showed (new, changed, still_open; closed when
    dismissed or resolved)."""
    from grayhound.store.queue import LastSeen, changed_cases, fill_queue, queue_marks, queue_source

    conn = _queue_connection(context)
    source = queue_source(conn, functions_version())
    early = None if source is None else queue_marks(conn)
    last_seen = None
    if source is None or _more_rows_than(conn, early["log"] - source["log"]):
        _reopen(context, None)
        taken, marks, cases = stamp(), queue_marks(conn), None
    else:
        if source.get("crawl") != early["crawl"]:  # a crawl ran since: every row's last_seen
            last_seen = LastSeen(conn)  # taken over while cases are (re)opened
        try:
            _reopen(context, source["log"])
            taken, marks = stamp(), queue_marks(conn)
            cases = changed_cases(conn, source["log"], marks["log"])
        except BaseException:
            if last_seen is not None:  # the queue's write lock is free again when this raises
                last_seen.join(quiet=True)
            raise
    crawled = source is not None and source.get("crawl") != marks["crawl"]
    after = None if source is None else source["log"]
    context.queue_written = fill_queue(
        conn, cases, marks, crawled, after, functions_version(), last_seen
    )
    context.queue_marks = marks
    _forget_changes(context, marks["log"])
    return taken


def _more_rows_than(conn, entries: int) -> bool:
    """Whether the change log's new entries outnumber the queue's rows (deriving every row is
    then cheaper): at most `entries` rows counted, not the whole queue."""
    sql = "SELECT COUNT(*) FROM (SELECT 1 FROM queue_cases LIMIT ?)"
    return conn.execute(sql, [entries]).fetchone()[0] < entries


def _reopen(context, after: int | None) -> None:
    """Open a case for every flagged subject and reopen dismissed ones whose evidence moved
    (`grayhound.triage.reopen_changed`, over the flagged subjects read as it asks for them);
    with `after`, only among the subjects logged since that change log entry."""
    from grayhound.store import open_store
    from grayhound.store.queuelog import changed_flagged

    threshold = context.config.digest.reopen_price_change
    with open_store(context.config.storage.database, create=False) as store:
        changed = None if after is None else changed_flagged(store.db, after)
        reopen_changed(store, store.flagged_subjects(), threshold, utc_now(), changed)


def _forget_changes(context, upto: int) -> None:
    """The change log entries the queue has taken in are dropped (the queue beside the store
    is their only reader), and the store remembers up to which entry the queue took them
    (`queue_taken`: a store restored from a backup, or another store, does not match)."""
    from grayhound.store import open_store
    from grayhound.store.queuelog import taken_in

    with open_store(context.config.storage.database, create=False) as store:
        with store.db.atomic():
            taken_in(store.db, upto)
            store.db.execute("DELETE FROM queue_taken")
            store.db.execute("INSERT INTO queue_taken (log) VALUES (?)", [upto])


@functools.cache
def functions_version() -> str:
    """The code of the Python functions that word two of the queue's columns (`_price_text`,
    `_changes` and what they call): a grayhound that words them otherwise derives the kept
    queue again whole. The rest of this module (how the queue is refreshed) is not part of
    it: changing that derives nothing again."""
    import grayhound.triage
    import reports.currency
    import reports.digest.build

    digest = hashlib.sha256()
    for module in (reports.digest.build, reports.currency, grayhound.triage):
        digest.update(Path(module.__file__).read_bytes())
    try:  # not the rest of this module (how the queue is refreshed)
        for function in (_price_text, _changes):
            digest.update(inspect.getsource(function).encode())
    except (OSError, TypeError):  # installed without its .py files: the whole compiled module
        digest.update(Path(sys.modules[__name__].__file__).read_bytes())
    return digest.hexdigest()[:16]


def _queue_connection(context):
    """grayhound's connection to the derived tables' file, the store attached read-only and
    the two columns only Python says registered."""
    if context.derived_conn is None:
        from grayhound.store.queue import CHANGES, PRICE_TEXT, open_queue

        conn = open_queue(context.derived_path, str(context.config.storage.database))
        conn.create_function(PRICE_TEXT, 5, _price_text, deterministic=True)
        conn.create_function(CHANGES, 2, _changes, deterministic=True)
        context.derived_conn = conn
    return context.derived_conn


def _price_text(price, currency, msrp, msrp_currency, ratio) -> str:
    row = {"price": price, "currency": currency, "msrp": msrp, "msrp_currency": msrp_currency}
    return price_text(row | {"price_ratio": ratio})


def _changes(shown: str, evidence: str) -> str:
    """What differs between the evidence a digest showed and the current one ("" if nothing),
    as the digest says it."""
    old, new = json.loads(shown), json.loads(evidence)
    return "; ".join(evidence_changes(old, new) + judgement_changes(old, new))


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
# the same name says when it is stale. The queue is kept in SQL by `refresh_queue`.
TABLES = {
    "queue": (None, QUEUE_COLUMNS, "case_id"),  # a view keyed by its cases (store.queue.VIEW)
    "crawl_health": (health_rows, HEALTH_COLUMNS, ("run_id", "source")),
    "competitors": (competitor_rows, COMPETITOR_COLUMNS, "listing_id"),
}


async def refresh(datasette, names: tuple[str, ...] = tuple(TABLES)) -> None:
    """Bring each of these derived tables whose data moved since it was built up to date."""
    from grayhound.store.queue import checkpoint_behind

    context = context_of(datasette)
    async with context.refresh_lock:
        stamps = await read(datasette, lambda store: {n: store.change_stamp(n) for n in names})
        stale = [name for name in names if context.stamps.get(name) != stamps[name]]
        if "queue" in stale:
            stale.remove("queue")
            context.stamps["queue"] = await asyncio.to_thread(_refresh_queue, context)
        if not stale:
            return
        built = await write(context, lambda store: _build(store, context, stale))
        await asyncio.to_thread(_replace, _queue_connection(context), built)
        checkpoint_behind(context.derived_path)
        context.stamps.update({name: stamp for name, (stamp, _) in built.items()})


def _refresh_queue(context) -> tuple:
    """`refresh_queue`; returns the queue's change stamp taken after the cases it opened or
    reopened itself and before its rows were read: what moves after makes the next request
    refresh again."""
    from grayhound.store.queue import checkpoint_behind
    from grayhound.store.subjects import reader

    conn = _queue_connection(context)
    try:
        return refresh_queue(context, stamp=lambda: reader(conn).change_stamp("queue"))
    finally:  # what it committed before an error is copied back too
        checkpoint_behind(context.derived_path)


async def refresh_or_warn(datasette, names: tuple[str, ...] = tuple(TABLES)) -> None:
    """`refresh`, or, when the store cannot be read or written just now (a crawl holding a
    write lock past the busy timeout), keep showing the tables as last built and say so."""
    try:
        await refresh(datasette, names)
    except (sqlite3.OperationalError, GrayhoundError) as exc:
        LOG.warning("grayhound serve: derived tables not refreshed: %s", exc)


def _build(store, context, names: list[str]) -> dict[str, tuple[tuple, list[dict]]]:
    """Each table with the stamp of the data it was built from, taken first: anything written
    meanwhile makes the next request rebuild."""
    built = {}
    for name in names:
        stamp = store.change_stamp(name)
        built[name] = (stamp, TABLES[name][0](store, context))
    return built


def _replace(conn, built: dict) -> None:
    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    conn.execute("BEGIN")
    try:
        for name, (_, rows) in built.items():
            db[name].drop(ignore=True)
            db[name].create(TABLES[name][1], pk=TABLES[name][2])
            db[name].insert_all(rows)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
