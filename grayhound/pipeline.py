"""What follows a crawl: detect, then the digest. The demo, `grayhound run` and the schedule
all call these same functions."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from grayhound.config import Config
from grayhound.errors import DamagedStoreError, GrayhoundError
from grayhound.store import Store, open_store

DEFAULT_SINCE = "24h"  # the reference point of the very first digest
# Allocations between two young collections during a detection (Python's default is 700): a
# detection makes millions of short-lived rows and few cycles, and each collection that
# reaches the old generation walks every object the process holds.
DETECT_COLLECT_EVERY = 20_000


def detect(config: Config, run_id: int | None = None, *, full: bool = False) -> dict:
    """`detect_findings` with the garbage collector's work kept small (`fewer_collections`):
    at 1,000,000 listings it spent ~0.5 s of a daily detect's ~17 s CPU, 7 % at 100,000.
    Then serve's change log is compacted when it is far over its allowance
    (`queuelog.compact_when_due`: a store judged again and again, never crawled nor served,
    keeps a bounded log). One detection of a store at a time (`lock.detection_lock`: a second
    one waits). Here, not in `grayhound.detection`, whose code is part of what a detection
    judged with (a change there judges every listing again)."""
    from grayhound.detection import detect_findings
    from grayhound.lock import detection_lock
    from grayhound.store.queuelog import DETECT_ALLOWANCE, compact_when_due

    with detection_lock(config.storage.database), fewer_collections():
        counts = detect_findings(config, run_id, full=full)
    with open_store(config.storage.database) as store:
        compact_when_due(store.db, DETECT_ALLOWANCE)  # the findings are committed already
    return counts


@contextmanager
def fewer_collections() -> Iterator[None]:
    """What the process holds so far (imports, config) is set aside from collection and the
    young generation collected less often; both as they were afterwards (a long-lived process,
    the schedule, collects as before)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(DETECT_COLLECT_EVERY, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def after_crawl(
    config: Config,
    run_id: int,
    echo: Callable[[str], None] = print,
    now: datetime | None = None,
) -> dict:
    """Run the stages that follow a crawl; return {label: path} of what was written."""
    outputs: dict = {}
    counts = detect(config, run_id)
    echo(
        f"detect: {counts['flagged_listings']} of {counts['listings']} listings flagged, "
        f"{counts['risky_sellers']} of {counts['sellers']} sellers impersonating or suspicious, "
        f"{counts['networks']} seller networks"
    )
    # -- digest step (reports/digest.py): files in [digest] out_dir, email when configured --
    outputs.update(deliver_digest(config, now or datetime.now(UTC), echo=echo))
    return outputs


def produce_digest(
    store: Store, config: Config, now: datetime, since: str | None = None, *, record: bool = True
):
    """Build the digest as of `now` and, with `record`, remember what it showed.

    The reference point is `now - since` when given, else the previous digest (so "new"
    means new since the last one), else 24 hours. Dismissed cases whose evidence moved are
    reopened first, so they come back in this very digest."""
    from grayhound.triage import reopen_changed
    from reports.digest.build import DigestInputs, iso, parse_since
    from reports.digest.spool import stream_digest

    created_at = iso(now)
    previous = store.previous_digest(created_at)
    if since:
        reference = parse_since(since, now)
    else:
        reference = previous["created_at"] if previous else parse_since(DEFAULT_SINCE, now)
    # every flagged subject gets a case; dismissed ones whose evidence moved reopen
    reopen_changed(store, store.flagged_subjects(), config.digest.reopen_price_change, created_at)
    runs = [run for run in store.runs() if run["status"] != "running"][-2:][::-1]
    inputs = DigestInputs(
        now=created_at,
        reference=reference,
        rows=[],  # streamed from the store by `stream_digest`, with cases, evidence, captures
        cases={},
        runs=runs,
        source_stats={run["id"]: store.source_stats(run["id"]) for run in runs},
        failures=store.failures(runs[0]["id"]) if runs else [],
        previous_digest_at=previous["created_at"] if previous else None,
        sellers={row["id"]: row for row in store.seller_rows()},
        networks=store.networks(),
    )
    # compared with the last digest (the default), its record says what is new or changed
    last = store.last_digest_at()
    since_last = reference == last
    # a digest older than one already recorded (a run's digest is dated when the run started,
    # a manual one made during its crawl is dated later) records every case it shows, as
    # history, and leaves the newer digest's record of each case as it is
    late = record and last is not None and created_at < last
    digest = stream_digest(
        store, inputs, since_last=since_last, record_all=late, in_parts=not record
    )
    if record:
        store.record_digest(
            created_at,
            reference,
            digest.counts,
            digest.recorded(),
            runs[0]["id"] if runs else None,
            newest=not late,
            in_book=digest.book.kept,
        )
    return digest


def make_daily_book(config: Config, digest, say: Callable[[str], None]) -> None:
    """After a recorded digest not made on the store's kept case book (a store's first,
    compared with 24 hours ago; a `--since` or late one) is written: the kept book made whole
    now, once, if it still waits to be (`reports.digest.spool.make_kept_book`), not by the
    next daily digest. A failure loses nothing (the fill is rolled back, and the next digest
    makes the book itself): it is said, not raised, but for a damaged store."""
    if digest.book.kept:
        return
    from grayhound.store.core import _damaged
    from reports.digest.spool import make_kept_book

    def said(exc: Exception) -> None:  # raised again if the store is damaged
        if isinstance(exc, DamagedStoreError) or (
            isinstance(exc, sqlite3.DatabaseError) and _damaged(exc)
        ):
            raise exc
        say(
            f"digest: the case book later digests keep was not made ({exc}); the next digest makes it"
        )

    try:
        with open_store(config.storage.database, create=False) as store:
            try:
                make_kept_book(store, say)
            except sqlite3.OperationalError as exc:  # locked, full: rolled back, and the
                said(exc)  # store closes as it stands, its clean stamp kept
    except (GrayhoundError, sqlite3.Error, OSError) as exc:  # opening it, or closing it
        said(exc)


def deliver_digest(config: Config, now: datetime, echo: Callable[[str], None] = print) -> dict:
    """Write the configured formats into out_dir and email the digest when SMTP is set."""
    with open_store(config.storage.database) as store:
        digest = produce_digest(store, config, now)
    try:
        delivered = _deliver(config, digest, echo)
    finally:
        digest.close()  # a scheduled digest keeps no snapshot of the store until the next one
    make_daily_book(config, digest, echo)
    return delivered


def _deliver(config: Config, digest, echo: Callable[[str], None]) -> dict:
    from reports.digest.deliver import send_digest, write_digest_files

    paths = write_digest_files(
        digest, config.digest.formats, config.digest.out_dir, config.storage.evidence_dir
    )
    counts = digest.counts["groups"]
    echo(
        f"digest: {counts['new']} new, {counts['changed']} changed, "
        f"{counts['still_open']} still open; {len(digest.health['warnings'])} crawl warnings"
    )
    smtp = config.digest.smtp
    if smtp:
        import smtplib  # only when the digest is mailed (~0.07 s of detect's and triage's start)

        try:
            send_digest(digest, smtp, config.storage.evidence_dir)
        except (OSError, smtplib.SMTPException) as exc:
            raise GrayhoundError(
                f"{smtp['host']}:{smtp['port']}: could not send the digest: {exc}"
            ) from None
        echo(f"digest: emailed to {', '.join(smtp['to'])}")
    return {f"digest ({fmt})": path for fmt, path in paths.items()}


def run_pipeline(config: Config, now: datetime, echo: Callable[[str], None] = print) -> dict:
    """`grayhound run`: crawl (in a child process: a fresh reactor) → detect → digest, holding
    the run lock so a manual and a scheduled run never overlap."""
    from crawler.runner import crawl_in_subprocess
    from grayhound.lock import run_lock

    with run_lock(config.storage.database):
        open_store(config.storage.database).close()  # an empty or damaged store: said once, here
        code = crawl_in_subprocess(config.path)
        if code == 2:
            raise GrayhoundError(f"{config.path}: the crawl refused the configuration")
        with open_store(config.storage.database) as store:
            latest = store.latest_run()
        if latest is None:
            raise GrayhoundError(f"{config.storage.database}: the crawl recorded no run")
        outputs = after_crawl(config, latest["id"], echo=echo, now=now)
    return {"crawl_exit": code, "run_id": latest["id"], "outputs": outputs}
