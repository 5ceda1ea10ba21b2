"""The schedule fires runs in child processes and logs them; the run lock keeps a manual and
a scheduled run from overlapping; SIGTERM stops the schedule cleanly."""

from __future__ import annotations

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


# A run that takes a while to stop. Once the schedule has logged it started (`go`), it sends
# the schedule SIGTERM; it notes each SIGTERM it gets, sends the schedule SIGINT after the
# first (a second signal, landing as the first one's handler signals the run), and exits 143
# a second later (as `grayhound run` does once its crawl has stopped). With no `go` or no
# SIGTERM in 20 s it exits 0. It signals its schedule only while that is still its parent.
SLOW_TO_STOP = """
import os, signal, sys, time
from pathlib import Path
notes, go, schedule = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
told = []
def tell(signum):
    if os.getppid() == schedule:
        os.kill(schedule, signum)
def noted(signum, frame):
    with notes.open("a") as out:
        out.write("SIGTERM\\n")
    if not told:
        told.append(time.monotonic())
        tell(signal.SIGINT)
signal.signal(signal.SIGTERM, noted)
notes.write_text("")
deadline = time.monotonic() + 20
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.02)
tell(signal.SIGTERM)
while time.monotonic() < deadline and not (told and time.monotonic() - told[0] > 1.0):
    time.sleep(0.02)
raise SystemExit(143 if told else 0)
"""

# The schedule, in a process of its own, its one run `SLOW_TO_STOP` 0.2 s after it starts.
SCHEDULE = """
import os, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from apscheduler.triggers.date import DateTrigger
from grayhound import schedule
from grayhound.config import load_config
config_path, run, notes, go = sys.argv[1:]
made = schedule.build_scheduler
def soon(config, **kwargs):
    trigger = DateTrigger(run_date=datetime.now(UTC) + timedelta(milliseconds=200))
    command = [sys.executable, "-c", Path(run).read_text(), notes, go, str(os.getpid())]
    return made(config, trigger=trigger, command=command, **kwargs)
schedule.build_scheduler = soon
def log(line):
    print(line, flush=True)
    if line.startswith("schedule: run started"):  # the run is known to the schedule
        Path(go).write_text("go")
schedule.run_schedule(load_config(config_path), log=log)
"""


def test_a_second_signal_while_the_run_stops_is_not_passed_on(example_config_path, tmp_path):
    """The schedule stopping waits for its run; a second Ctrl-C or SIGTERM meanwhile neither
    signals the run again nor ends the schedule before its run has stopped. The old code
    hung here: the second signal's handler waited for a lock the first one's held."""
    run, notes, go = tmp_path / "run.py", tmp_path / "signals", tmp_path / "go"
    run.write_text(SLOW_TO_STOP)
    arguments = [str(example_config_path), str(run), str(notes), str(go)]
    child = subprocess.Popen(
        [sys.executable, "-c", SCHEDULE, *arguments], stdout=subprocess.PIPE, text=True
    )
    try:
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, out
    logged = out.splitlines()
    assert notes.read_text() == "SIGTERM\n"  # the run was told once
    finished = next(i for i, line in enumerate(logged) if "run finished" in line)
    assert "exit status 143" in logged[finished]
    (again,) = [line for line in logged if "SIGINT received" in line]
    assert "already stopping: waiting for run " in again and "kill -9" in again
    assert logged[-1] == "schedule: stopped" and finished < len(logged) - 1
