"""The schedule fires runs in child processes and logs them; the run lock keeps a manual and
a scheduled run from overlapping; SIGTERM stops the schedule cleanly."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.date import DateTrigger

from grayhound.cli import main
from grayhound.lock import detection_lock, detection_lock_path, lock_path, run_lock
from grayhound.schedule import build_scheduler, scheduled_run
from grayhound.store import open_store

QUICK_CHILD = [sys.executable, "-c", "raise SystemExit(0)"]


def wait_for(predicate, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("condition not met before the deadline")


def finished_runs(config) -> list[dict]:
    with open_store(config.storage.database) as store:
        return [r for r in store.schedule_runs() if r["finished_at"]]


def test_the_scheduler_fires_a_run_and_records_it(example_config):
    logged: list[str] = []
    fire_at = datetime.now(UTC) + timedelta(milliseconds=300)
    scheduler = build_scheduler(
        example_config,
        trigger=DateTrigger(run_date=fire_at),
        command=QUICK_CHILD,
        log=logged.append,
    )
    thread = threading.Thread(target=scheduler.start, daemon=True)
    thread.start()
    try:
        (row,) = wait_for(lambda: finished_runs(example_config))
    finally:
        scheduler.shutdown(wait=True)
        thread.join(timeout=10)
    assert row["exit_status"] == 0
    assert logged[0].startswith("schedule: run started")
    assert logged[-1].startswith("schedule: run finished with exit status 0")


def test_a_scheduled_run_is_logged_with_its_exit_status(example_config):
    now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    assert scheduled_run(example_config, now, command=failing, log=lambda _: None) == 3
    (row,) = finished_runs(example_config)
    assert (row["scheduled_for"], row["exit_status"]) == ("2026-11-23T06:00:00.000Z", 3)


def test_the_lock_refuses_an_overlapping_run(example_config, example_config_path, capsys):
    database = example_config.storage.database
    with run_lock(database):
        assert "pid " in lock_path(database).read_text()
        code = main(["--config", str(example_config_path), "run"])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert "another grayhound run is in progress (pid" in err
    assert len(err.splitlines()) == 1
    with run_lock(database):  # released: the next run may start
        pass


def test_a_second_detection_waits_for_the_first(example_config, example_config_path):
    """Two detections never judge one store at once: a second one says it waits, waits, and
    goes on once the first has ended."""
    database = example_config.storage.database
    with detection_lock(database):
        assert "pid " in detection_lock_path(database).read_text()
        child = subprocess.Popen(
            [sys.executable, "-m", "grayhound", "--config", str(example_config_path), "detect"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=lambda: [lines.put(line) for line in child.stderr], daemon=True
        ).start()
        try:
            first = lines.get(timeout=60)
            assert "waiting for another detection of this store to end (pid" in first
            assert child.poll() is None  # still waiting while the lock is held
        except BaseException:
            child.kill()
            raise
    assert child.wait(timeout=120) == 0
    assert "judged" in child.stdout.read()
    assert detection_lock_path(database).read_text() == ""  # the note goes with the lock


def test_sigterm_stops_the_schedule_cleanly(example_config_path):
    child = subprocess.Popen(
        [sys.executable, "-m", "grayhound", "--config", str(example_config_path), "schedule"],
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in child.stderr], daemon=True).start()
    try:
        first = lines.get(timeout=20)
        assert "next run at" in first and "'0 6 * * *' (UTC)" in first
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=15) == 0
    finally:
        if child.poll() is None:
            child.kill()
    rest = []
    while not lines.empty():
        rest.append(lines.get())
    assert any("SIGTERM received, stopping" in line for line in rest)
    assert rest[-1].rstrip().endswith("schedule: stopped")


# A run that takes a while to stop: it notes each SIGTERM it gets, then exits 143 a second
# after the first (as `grayhound run` does once its crawl has stopped).
SLOW_TO_STOP = """
import signal, sys, time
from pathlib import Path
notes = Path(sys.argv[1])
stopping = []
def noted(signum, frame):
    with notes.open("a") as out:
        out.write("SIGTERM\\n")
    stopping.append(time.monotonic())
signal.signal(signal.SIGTERM, noted)
notes.write_text("")
Path(sys.argv[2]).write_text("ready")
while not stopping or time.monotonic() - stopping[0] < 1.0:
    time.sleep(0.02)
raise SystemExit(143)
"""


def test_a_second_signal_while_the_run_stops_is_not_passed_on(
    example_config, tmp_path, monkeypatch
):
    """The schedule stopping waits for its run; a second Ctrl-C or SIGTERM meanwhile neither
    signals the run again nor ends the schedule before its run has stopped."""
    from grayhound import schedule

    notes, ready = tmp_path / "signals", tmp_path / "ready"
    command = [sys.executable, "-c", SLOW_TO_STOP, str(notes), str(ready)]
    made = schedule.build_scheduler

    def soon(config, **kwargs):
        trigger = DateTrigger(run_date=datetime.now(UTC) + timedelta(milliseconds=200))
        return made(config, trigger=trigger, command=command, **kwargs)

    monkeypatch.setattr(schedule, "build_scheduler", soon)
    logged: list[str] = []

    def signal_twice() -> None:
        wait_for(ready.exists)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.3)  # the schedule is waiting for its run to stop
        os.kill(os.getpid(), signal.SIGINT)

    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    threading.Thread(target=signal_twice, daemon=True).start()
    try:
        schedule.run_schedule(example_config, log=logged.append)  # returns once stopped
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    assert notes.read_text() == "SIGTERM\n"  # the run was told once
    finished = next(i for i, line in enumerate(logged) if "run finished" in line)
    assert "exit status 143" in logged[finished]
    assert any("SIGINT received, already stopping" in line for line in logged)
    assert logged[-1] == "schedule: stopped" and finished < len(logged) - 1
