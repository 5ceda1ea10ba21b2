"""Continuing an unfinished crawl: the same crawl run, and Scrapy's JOBDIR frontier per source.

A crawl that never finished (its run is still `running` after a kill, or `interrupted` after
Ctrl-C/SIGTERM) is continued by the next `grayhound crawl` of the same sources under the same
run id; observations are unique per (listing, run), so re-delivered items change nothing.

What survives depends on how the crawl ended:

* a graceful stop (Ctrl-C, SIGTERM) lets Scrapy finish the requests in flight and save its
  frontier (the pending queue and the seen-requests set) in the job directory; the runner then
  marks it clean and the next crawl continues exactly where this one stopped;
* a hard kill (SIGKILL, power loss) leaves the job directory without the mark. Scrapy writes
  its queue index only on close, while the seen-requests file is appended as it goes: reused,
  it would skip pages whose links were never followed. So the frontier is discarded and the
  run is crawled again from its start URLs, still under the same run id: nothing duplicates,
  nothing stored is lost, only fetching is repeated.

`FrontierScheduler` keeps the pending queue in memory while the crawl runs (Scrapy's JOBDIR
pickles every request to disk as it is queued, a cost paid per request and wasted on a hard
kill, when the frontier is discarded anyway) and writes it to the job directory when the crawl
stops; past `MEMORY_FRONTIER` pending requests it spills to disk, so memory stays bounded.

A finished run deletes its job directories: the next run is a new crawl that fetches all.
One crawl at a time per database: `crawl_lock` is an flock the kernel drops when its holder
dies, so a killed crawl never blocks the next one."""

from __future__ import annotations

import fcntl
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scrapy.core.scheduler import Scheduler

from grayhound.config import Config, Source
from grayhound.errors import LockedError
from grayhound.store import Store, utc_now

logger = logging.getLogger(__name__)

CLEAN_MARK = "grayhound-stopped-cleanly"  # written after Scrapy saved the frontier on close
RESUMABLE_STATUSES = ("running", "interrupted")
MEMORY_FRONTIER = 20_000  # pending requests held in memory (~1 KiB each) before spilling to disk


class FrontierScheduler(Scheduler):
    """Scrapy's scheduler with the JOBDIR queue written on close instead of per request."""

    closing = False

    def _dqpush(self, request) -> bool:
        if not self.closing and len(self.mqs) < MEMORY_FRONTIER:
            return False  # memory queue; saved to the job directory on close
        return super()._dqpush(request)

    def close(self, reason: str):
        if self.dqs is not None:
            self.closing = True
            while (request := self.mqs.pop()) is not None:
                if not self._dqpush(request):
                    logger.warning("could not save %s in the frontier", request.url)
        return super().close(reason)


def jobs_root(config: Config) -> Path:
    from crawler.settings import job_dir

    return job_dir(config, config.sources[0]).parent


@contextmanager
def crawl_lock(config: Config) -> Iterator[None]:
    """Hold the crawl lock of this database for the block; LockedError if another crawl has it."""
    root = jobs_root(config)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "crawl.lock"
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(f"{path}: another crawl of this database is running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_run(store: Store, config: Config, sources: list[Source], config_hash: str, fresh: bool):
    """The run this crawl records into: the unfinished one of these sources, or a new one.

    Returns (run id, the unfinished run's stats to add to, or None for a new run)."""
    previous = store.resumable_run([s.name for s in sources])
    if previous is not None and fresh:
        store.abandon_run(previous["id"], utc_now())
        logger.warning("abandoned unfinished crawl run %s (--fresh)", previous["id"])
        previous = None
    if previous is None:
        for source in sources:
            discard_frontier(config, source)
        return store.start_run([s.name for s in sources], utc_now(), config_hash), None
    store.reopen_run(previous["id"])
    again = set()
    for source in sources:
        if not _stopped_cleanly(config, source):
            logger.warning(
                "%s: the previous crawl was killed or lost items; its frontier cannot be "
                "trusted, crawling again from the start URLs",
                source.name,
            )
            discard_frontier(config, source)
            again.add(source.name)
    logger.warning("continuing unfinished crawl run %s", previous["id"])
    return previous["id"], _without_figures(previous, again)


def _without_figures(previous: dict, names: set[str]) -> dict:
    """The unfinished run without the figures of sources crawled again from the start (they
    would be counted twice)."""
    import json

    if not names or not previous.get("stats"):
        return previous
    stats = json.loads(previous["stats"])
    stats["sources"] = {k: v for k, v in stats.get("sources", {}).items() if k not in names}
    return {**previous, "stats": json.dumps(stats)}


def job_settings(config: Config, source: Source) -> dict:
    """JOBDIR for this source; the clean mark goes until this crawl stops cleanly again."""
    from crawler.settings import job_dir

    directory = job_dir(config, source)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CLEAN_MARK).unlink(missing_ok=True)
    return {"JOBDIR": str(directory), "SCHEDULER": "crawler.resume.FrontierScheduler"}


def close_frontiers(config: Config, sources: list[Source], status: str) -> None:
    """After Scrapy returned: a finished crawl needs no frontier; a stopped one keeps it; one
    that lost items ("lost": the store or the evidence could not be written) leaves it
    unmarked, so the next crawl fetches the run again from its start URLs, as after a kill."""
    from crawler.settings import job_dir

    for source in sources:
        if status == "finished":
            discard_frontier(config, source)
        elif status != "lost" and job_dir(config, source).is_dir():
            try:
                (job_dir(config, source) / CLEAN_MARK).write_text(utc_now() + "\n")
            except OSError as exc:  # a full disk: the next crawl starts over, nothing is lost
                logger.warning("%s: could not mark the frontier as saved: %s", source.name, exc)


def discard_frontier(config: Config, source: Source) -> None:
    from crawler.settings import job_dir

    directory = job_dir(config, source)
    if directory.is_dir():
        shutil.rmtree(directory)


def _stopped_cleanly(config: Config, source: Source) -> bool:
    from crawler.settings import job_dir

    return (job_dir(config, source) / CLEAN_MARK).is_file()


def merge_stats(previous: dict | None, current: dict) -> dict:
    """Per-source figures of a continued run: what the earlier part counted plus this part."""
    import json

    earlier = json.loads(previous["stats"]) if previous and previous.get("stats") else {}
    merged = {name: dict(figures) for name, figures in current.get("sources", {}).items()}
    for name, figures in earlier.get("sources", {}).items():
        into = merged.setdefault(name, {})
        for key, value in figures.items():
            into[key] = into.get(key, 0) + value
    return {**current, "sources": merged}
