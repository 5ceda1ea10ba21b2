"""The schema, in order. Each step runs once and is recorded in `_migrations`.

Append new steps at the end; never edit or reorder a step that has shipped."""

from __future__ import annotations

import sys
from collections.abc import Callable

import sqlite_utils

from grayhound.store import (
    captures,
    changes,
    crawlschema,
    detectstate,
    digestbook,
    digestcases,
    digestlines,
    digests,
    findings,
    networks,
    pricing,
    queue,
    queuelog,
    reviews,
    sellers,
)
from grayhound.store.timestamps import utc_now

Migration = tuple[str, Callable[[sqlite_utils.Database], None]]


def say_upgrading(what: str) -> None:
    """Said on stderr by a step that takes a while on a large store, before it runs (it holds
    the store's write lock, as every step does)."""
    try:
        print(f"upgrading the store (once): {what}…", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # no stderr to tell (closed, a broken pipe): upgrade anyway
        pass


def requeue_triggers(db: sqlite_utils.Database) -> None:
    """Every queue trigger made again with `changes.requeue` (a DELETE and a plain INSERT, not
    `INSERT OR REPLACE`, which an upsert firing the trigger turns into a UNIQUE failure)."""
    changes.requeue_triggers(db)
    queuelog.create_schema(db)
    digestbook.create_triggers(db)


def queue_once_per_finding(db: sqlite_utils.Database) -> None:
    """Migration 0015_issue19_finding_triggers: serve's change log and the digest's book queue
    take a listing's new finding once (its insert), not also the close of the one it replaces
    once that is written (`changes.SUPERSEDED`): the same queues, two queue writes fewer per
    changed finding."""
    queuelog.create_schema(db)
    digestbook.create_triggers(db)


def count_flag_differences(db: sqlite_utils.Database) -> None:
    """Migration 0018_issue19_flag_counts: the per-seller flag counts' triggers made again; a
    listing's new finding counts the difference with the one it replaces, whose close then
    counts nothing (`digestbook.FLAG_TRIGGERS`). The counts themselves are unchanged."""
    changes.replace_triggers(db, digestbook.FLAG_TRIGGERS)


def findings_triggers_never_abort(db: sqlite_utils.Database) -> None:
    """Migration 0019_issue19_findings_triggers_never_abort: the triggers on `findings` made
    again so that none may abort the statement that fires them (their queue INSERTs `OR FAIL`,
    the flag counts' lists without `NULLIF`): a replaced finding's close keeps no statement
    journal (`changes`). The same queues and counts, row for row."""
    queuelog.create_schema(db)
    digestbook.create_triggers(db)


MIGRATIONS: list[Migration] = [
    ("0001_crawl_data", crawlschema.create_schema),
    ("0002_findings", findings.create_schema),
    ("0003_captures", captures.create_schema),
    ("0004_reviews", reviews.create_schema),
    ("0005_digests", digests.create_schema),
    ("0006_listing_summary", crawlschema.add_listing_summary),
    ("0007_issue17_offer_key", crawlschema.add_offer_key),
    ("0007_issue15_cut_text_and_run_errors", crawlschema.add_cut_text_and_run_errors),
    ("0007_issue13_seller_identity", sellers.create_schema),
    ("0008_issue13_seller_networks", networks.create_schema),
    ("0007_issue21_currency_source", crawlschema.add_currency_source_and_category),
    ("0008_issue21_model_reason", findings.add_model_reason),
    ("0009_issue17_listings_per_source", crawlschema.key_listings_by_source),
    ("0010_issue19_change_queues", changes.create_schema),
    ("0010_issue19_detection_state", detectstate.create_schema),
    ("0010_issue19_ended_findings", findings.add_ended),
    ("0011_issue19_prices_model_index", pricing.add_model_index),
    ("0012_issue19_digest_shown", digestcases.create_schema),
    ("0012_issue19_detect", detectstate.add_kept_sums),
    ("0012_issue19_ended_index", queue.add_ended_index),
    ("0013_issue19_serve", queuelog.create_schema),
    ("0013_issue19_digest", digestbook.create_schema),
    ("0013_issue19_detect", detectstate.add_title_words),
    ("0013_issue19_prices", pricing.add_price_indexes),
    ("0013_issue19_trigger_conflicts", requeue_triggers),
    ("0014_issue19_digest", digestbook.open_from_queue),
    ("0015_issue19_finding_triggers", queue_once_per_finding),
    ("0016_lines_risk_index", digestlines.cover_lines),
    ("0017_digest_record_in_place", digestbook.create_triggers),
    ("0018_issue19_flag_counts", count_flag_differences),
    ("0018_issue19_one_model_index", pricing.drop_model_index),
    ("0019_issue19_findings_triggers_never_abort", findings_triggers_never_abort),
    ("0020_issue19_append_only_change_log", queuelog.append_only),
    ("0021_issue19_price_history_index", pricing.add_history_index),
    ("0022_issue19_peer_table", detectstate.keep_peers_apart),
    ("0023_issue19_staged_sales", detectstate.stage_sales),
    ("0024_issue19_capture_moments", captures.keep_link_moments),
]


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Apply every step not yet recorded; return the names applied."""
    db["_migrations"].create({"name": str, "applied_at": str}, pk="name", if_not_exists=True)
    done = {row["name"] for row in db["_migrations"].rows}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        with db.atomic():
            step(db)
            db["_migrations"].insert({"name": name, "applied_at": utc_now()})
        applied.append(name)
    return applied
