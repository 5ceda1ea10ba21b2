"""`grayhound run` stopped while its crawl runs (Ctrl-C, SIGTERM from `kill`, a service manager
or the schedule): the signal reaches the crawl, which stops as a crawl stopped by it does (its
run `interrupted`, continued by the next crawl), the command waits for it and stops there: no
detection, no digest, and no crawl left running on its own."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grayhound.demo.faults import delayed
from grayhound.demo.sites import SITES, serve_sites
from tests.e2e.conftest import count_in, write_config_for

pytestmark = pytest.mark.slow

LATENCY = 0.05  # seconds per request: the crawl is still running when the signal comes
DEADLINE = 60  # seconds to wait for the first stored observations, then for the command


def _crawls_of(config_path: Path) -> list[int]:
    """The processes running `grayhound crawl` with this config (Linux: /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # ended meanwhile
            continue
        if str(config_path).encode() in words and b"crawl" in words:
            found.append(int(entry.name))
    return found


def _stopped_midway(directory: Path, signum: int, group: bool = False, settle: float = 0) -> dict:
    """`grayhound run` signalled once its crawl has stored observations: this process only
    (as `kill` or the schedule sends it), or (`group`) its process group (as a terminal's
    Ctrl-C, or a service manager stopping every process of a service); what it said and
    left, `settle` seconds later at most for its crawl to end."""
    slow = {name: router.wrap(delayed(LATENCY)) for name, router in SITES.items()}
    with serve_sites({name: 0 for name in slow}, sites=slow) as served:
        config_path = write_config_for(served, directory)
        database = directory / "grayhound.db"
        command = [sys.executable, "-m", "grayhound", "--config", str(config_path), "run"]
        out, err = directory / "run.out", directory / "run.err"
        with out.open("w") as stdout, err.open("w") as stderr:  # files: a pipe would be held
            run = subprocess.Popen(  # open by the crawl; a group of its own, as a terminal's job
                command, stdout=stdout, stderr=stderr, process_group=0
            )
        try:
            deadline = time.monotonic() + DEADLINE
            while run.poll() is None and time.monotonic() < deadline:
                if count_in(database, "SELECT count(*) FROM observations"):
                    break
                time.sleep(0.02)  # polling the store, not waiting for a server
            assert run.poll() is None, "the run ended before it was stopped"
            assert _crawls_of(config_path), "no crawl running"
            (os.killpg if group else os.kill)(run.pid, signum)
            run.wait(timeout=DEADLINE)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        deadline = time.monotonic() + settle
        while (left := _crawls_of(config_path)) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in left:  # not to outlive the test whatever it found
            os.kill(pid, signal.SIGKILL)
    with sqlite3.connect(database) as conn:
        runs = conn.execute("SELECT id, status FROM crawl_runs").fetchall()
        findings = conn.execute("SELECT count(*) FROM findings").fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return {
        "code": run.returncode,
        "stdout": out.read_text(),
        "stderr": err.read_text(),
        "left": left,
        "runs": runs,
        "findings": findings,
        "integrity": integrity,
    }


needs_proc = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="Linux's /proc")


@needs_proc
@pytest.mark.parametrize(
    ("signum", "group", "code", "said"),
    [
        (signal.SIGTERM, False, 143, "grayhound: terminated (SIGTERM)"),  # kill, the schedule
        (signal.SIGINT, True, 130, "grayhound: interrupted"),  # a terminal's Ctrl-C
    ],
)
def test_a_run_stopped_while_it_crawls_stops_its_crawl_gracefully(
    tmp_path, signum, group, code, said
):
    stopped = _stopped_midway(tmp_path, signum, group)
    assert stopped["left"] == [], "the crawl ran on after its run was stopped"
    assert stopped["code"] == code, stopped["stderr"][-3000:]
    assert said in stopped["stderr"]
    # the crawl's own summary: it stopped gracefully, and the run stopped there
    assert "crawl run 1 interrupted" in stopped["stdout"]
    assert stopped["runs"] == [(1, "interrupted")]
    assert stopped["findings"] == 0  # no detection
    assert stopped["integrity"] == "ok"
    assert not (tmp_path / "digests").exists() or not any((tmp_path / "digests").iterdir())


@needs_proc
def test_a_crawl_signalled_twice_stops_and_its_run_stays_interrupted(tmp_path):
    """SIGTERM to every process of `run` (a service manager's stop): the crawl gets it and,
    passed on, again (unless the two came as one, before its handler ran), which makes
    Scrapy stop at once without closing its spiders. The run is `interrupted` either way."""
    stopped = _stopped_midway(tmp_path, signal.SIGTERM, group=True)
    assert stopped["left"] == []
    assert stopped["code"] == 143, stopped["stderr"][-3000:]
    assert stopped["runs"] == [(1, "interrupted")]
    assert stopped["findings"] == 0
    assert stopped["integrity"] == "ok"


class _Crawler:
    def __init__(self, reason: str | None) -> None:
        self.stats = type("Stats", (), {"get_value": lambda _self, key: reason})()


def test_a_spider_never_closed_makes_its_run_interrupted():
    """Stopped at once by a second signal, a spider keeps no finish reason: its run was
    recorded `finished` and its frontier thrown away; now `interrupted` (and its frontier
    left unmarked by `run_crawl`: the next crawl fetches from the start pages, as after a
    kill)."""
    from crawler import runner

    assert runner._status([_Crawler("finished"), _Crawler("finished")]) == "finished"
    assert runner._status([_Crawler("finished"), _Crawler("shutdown")]) == "interrupted"
    assert runner._status([_Crawler("finished"), _Crawler(None)]) == "interrupted"
    assert runner._unclosed([_Crawler("shutdown"), _Crawler(None)])
    assert not runner._unclosed([_Crawler("shutdown"), _Crawler("finished")])


@needs_proc
def test_a_run_killed_while_it_crawls_leaves_no_crawl_behind(tmp_path):
    """SIGKILL leaves `grayhound run` no time to pass anything on: its crawl gets SIGTERM from
    the kernel as it dies, and stops as a SIGTERM stops it."""
    stopped = _stopped_midway(tmp_path, signal.SIGKILL, settle=DEADLINE)
    assert stopped["code"] == -signal.SIGKILL
    assert stopped["left"] == [], "the crawl ran on after its run was killed"
    assert stopped["runs"] == [(1, "interrupted")]
    assert stopped["integrity"] == "ok"
