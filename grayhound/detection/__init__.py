"""`grayhound detect`: judge what changed since the last detection, and what depends on it.

The spine's glue between the store and the pure detectors. The store's triggers queue every
listing and seller whose facts a write changed (`grayhound.store.changes`); a detection
works through those queues in passes (`sellers`: identities, network keys, description
samples; `listings`: titles read, peer groups scored, listings judged; `networks`; seller
verdicts), each queueing what depends on what it changed. A listing whose page answered 404
or 410 in a crawl after the one that last saw it is gone (delisted): its current finding ends
(kept as history, with why), it leaves its peer group and no longer counts in its seller's
verdict or the digest; seen again, it is judged again. A config section the detectors read
that changed since the last detection (or the detectors themselves) queues everything it
affects (`scope`); `full=True` (`detect --full`) judges everything. The findings are the same
either way: tests/grayhound/test_incremental.py compares them field by field.

Findings are stored with history (`grayhound.store.findings`), networks with stable ids.
May import: the store, the config, the models and the pure detectors (it is the only place
that hands store rows to them)."""

from __future__ import annotations

from grayhound.config import Config
from grayhound.store import open_store, utc_now

PAGE_CACHE_KIB = 64 * 1024  # SQLite's page cache for one detection (its default is 2 MiB)


def detect_findings(config: Config, run_id: int | None = None, *, full: bool = False) -> dict:
    """Judge what changed (everything with `full`); return counts for the command's output."""
    from collections import Counter

    from grayhound.detection.scope import plan
    from grayhound.workers import worker_count

    worker_count()  # a bad GRAYHOUND_WORKERS is named before any work, not between passes
    with open_store(config.storage.database) as store:
        # the judged listings' findings, states and sales lie all over a large store: pages
        # kept in memory between chunks are not read again (~15 % less CPU at 1M)
        store.db.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
        if run_id is None:
            latest = store.latest_run()
            run_id = latest["id"] if latest else None
        scope = plan(config, store.detection_marks(), full)
        with store.db.atomic():
            if scope.redo:
                store.queue_everything(sellers="sellers" in scope.redo)
                store.mark_dirt(texts=True)
            if "titles" in scope.redo:
                store.forget_title_words()
            store.queue_gone()
            store.set_detection_marks(scope.marks)
        if store.detection_queued():
            counts, networks = _passes(config, store, scope, run_id)
        else:  # nothing changed: neither the detectors nor the brand book are loaded
            counts, networks = Counter(), store.networks_held(utc_now())
        totals = store.judged_totals()
    return {
        **{key: counts[key] for key in ("new", "changed", "unchanged")},
        **totals,
        "run_id": run_id,
        "networks": networks,
        "said": scope.said(),
        "work": dict(counts),
    }


def _passes(config: Config, store, scope, run_id: int | None) -> tuple:
    """Each pass over what is queued, in order; (what was done, how many networks)."""
    from detectors import BrandBook
    from grayhound.detection.listings import judge_pass, peers_pass, read_pass
    from grayhound.detection.networks import networks_pass
    from grayhound.detection.sellers import facts_pass, verdicts_pass
    from grayhound.detection.work import Work

    work = Work(store, BrandBook.from_config(config), scope, run_id, utc_now())
    listings_upto, sellers_upto = store.queue_high_water()
    facts_pass(work, sellers_upto)
    read_pass(work, listings_upto)
    peers_pass(work)
    judge_pass(work)
    networks = networks_pass(work)
    verdicts_pass(work)
    return work.counts, networks
