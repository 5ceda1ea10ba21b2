"""`grayhound schedule`: APScheduler wiring, nothing more. Its one job runs `grayhound run` (the
same command a person types) in a child process, because Twisted's reactor cannot restart
inside a long-lived process; every run is logged to stderr and to the `schedule_runs` table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from grayhound.config import Config
from grayhound.store import open_store, utc_now

JOB_ID = "grayhound-run"
_children: set[subprocess.Popen] = set()  # running child runs, stopped with the schedule
# reentrant: a signal's handler takes it, and a second signal can land inside the first one's
_children_lock = threading.RLock()


def run_command(config_path: Path) -> list[str]:
    return [sys.executable, "-m", "grayhound", "--config", str(config_path), "run"]


def scheduled_run(
    config: Config,
    now: datetime,
    *,
    command: Sequence[str] | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Run `grayhound run` once in a child process as of `now`; log and record it."""
    from reports.digest.build import iso

    command = list(command or run_command(config.path))
    # a process group of its own: a terminal's Ctrl-C stops the schedule, which stops its run
    # with one SIGTERM (`run_schedule`), not the run and its crawl besides (twice: at once)
    child = subprocess.Popen(command, **({"process_group": 0} if os.name == "posix" else {}))
    with _children_lock:
        _children.add(child)
    with open_store(config.storage.database) as store:
        record_id = store.start_schedule_run(iso(now), utc_now(), child.pid)
    log(f"schedule: run started (pid {child.pid}, scheduled for {iso(now)})")
    try:
        status = child.wait()
    finally:
        with _children_lock:
            _children.discard(child)
    with open_store(config.storage.database) as store:
        store.finish_schedule_run(record_id, utc_now(), status)
    log(f"schedule: run finished with exit status {status} (pid {child.pid})")
    return status


def build_scheduler(
    config: Config,
    *,
    trigger=None,
    command: Sequence[str] | None = None,
    log: Callable[[str], None] = print,
) -> BlockingScheduler:
    """A scheduler whose one job is `scheduled_run` on the configured cron (or `trigger`)."""
    timezone = config.schedule.timezone
    scheduler = BlockingScheduler(timezone=timezone)
    scheduler.add_job(
        lambda: scheduled_run(config, datetime.now(UTC), command=command, log=log),
        trigger or CronTrigger.from_crontab(config.schedule.cron, timezone=timezone),
        id=JOB_ID,
        name="crawl → detect → digest",
        coalesce=True,  # after downtime, one catch-up run rather than a burst
        max_instances=1,
        misfire_grace_time=config.schedule.misfire_grace_seconds,
    )
    return scheduler


def run_schedule(config: Config, log: Callable[[str], None] = print) -> None:
    """Run the schedule in the foreground until SIGINT or SIGTERM."""
    scheduler = build_scheduler(config, log=log)

    def started(_event) -> None:
        upcoming = scheduler.get_job(JOB_ID).next_run_time
        log(
            f"schedule: {config.schedule.cron!r} ({config.schedule.timezone}); "
            f"next run at {upcoming.isoformat()}; stop with Ctrl-C or SIGTERM"
        )

    stopping = threading.Event()
    told: set[subprocess.Popen] = set()  # the runs sent their SIGTERM

    def tell_runs() -> list[int]:
        """SIGTERM to each run not yet sent one; the pids of the runs still running."""
        with _children_lock:
            for child in list(_children):
                if child not in told:  # checked each time: a nested call may have told it
                    told.add(child)
                    child.terminate()
            return sorted(child.pid for child in _children)

    def stop(signum, _frame) -> None:
        name = signal.Signals(signum).name
        if stopping.is_set():
            # a later signal while the runs stop (this handler waits for them, below): a run
            # told once is not told again (another SIGTERM could cut its stop short), one that
            # began since is told now; before, the nested handler found the scheduler no
            # longer running and ended the schedule (SystemExit) before its run had stopped
            pids = " ".join(map(str, tell_runs()))
            waiting = f": waiting for run {pids} to stop (kill -9 {pids}: at once)" if pids else ""
            log(f"schedule: {name} received, already stopping{waiting}")
            return
        stopping.set()
        tell_runs()  # first: a log that fails (its pipe closed by the same Ctrl-C) stops no run
        log(f"schedule: {name} received, stopping")
        if not scheduler.running:  # the signal came before the scheduler started
            log("schedule: stopped")
            raise SystemExit(0)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
    scheduler.start()  # blocks until stop() shuts the scheduler down
    log("schedule: stopped")
