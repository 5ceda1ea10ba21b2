"""The store at scale: how long the daily work and every report takes, and how much memory.

For each size (100,000 and 1,000,000 listings by default) a store is built the way the crawler
builds one (`benchmarks/store_scale.py`), judged once (`detect`, the first digest), then crawled
again for `--days` days with a realistic daily change (about 5 % of prices move, 1 % new
listings, 0.5 % gone). After each day's crawl the daily run is timed: `detect` then
`digest --format html` (what `grayhound run` does after the crawl), and `detect` again with
nothing changed, and `prices --format csv` and `--format json` as a distributor runs them
each day (their past crawl runs' history kept from the day before). After the last day every
report command is timed (`prices` as csv and json with the whole history rendered:
`--no-cache`), and `detect --full`.
`grayhound serve` is started twice: after the first detection (its queue derived whole, kept
beside the store) and after the last day (it takes in only what the days changed).
Each command runs in its own process; its wall time and peak memory (the proportional set size
of grayhound's processes; with a browser it drives, the whole tree too) are printed as a table,
with the machine. A report written in parts on several CPUs (`reports/parallel.py`) forks
workers: its peak is the largest sum of the proportional set sizes of the command and its
workers (a page they share counted once, in shares), sampled twenty times a second, or the
kernel's ru_maxrss of the largest process, whichever is larger (that one only where it is above
this process's own peak, which every child inherits). `evidence export` drives a headless
browser for page images: the browser's processes are shown apart ("+ browser").
Before the first store and after the last command, the machine's speed is measured at fixed
work (`host.reference`: random page reads, scattered writes with their commits and checkpoint,
JSON encoding in Python) and printed under the table: this VM's speed moves from day to day,
and the reference shows how fast it was at each end of a run.

    python -m benchmarks.scale [--sizes 100000,1000000] [--days 3] [--keep DIR] [--quick]
        [--reports "prices (json),export listings (csv)"] [--no-full] [--start-from DIR]

`--start-from DIR` starts from a copy of a store this benchmark built before (a `store-N`
folder, left by `--keep`): no build, and its "first detect" is whatever the current code must
do on that store (everything again when the detectors changed since it was judged).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import store_scale  # noqa: E402
from benchmarks.host import (  # noqa: E402
    compile_packages,
    machine,
    own_peak_kib,
    reference,
    reference_text,
)

COMMAND_TIMEOUT = 1800  # seconds: a slower command is reported as timed out
GOALS = {  # seconds and MiB at 1,000,000 listings (issue 19); at 100,000 every figure under 3 s
    "daily": 20.0,
    "unchanged": 3.0,
    "report": 10.0,
    "memory": 400.0,
}
DAILY = {
    "detect": ("detect",),
    "digest (html)": ("digest", "--format", "html", "--out", "{out}/daily-{day}.html"),
}
UNCHANGED = {"detect, nothing changed": ("detect",)}
REPORTS = {
    "digest (html)": ("digest", "--format", "html", "--no-record", "--out", "{out}/d.html"),
    "digest (md)": ("digest", "--format", "md", "--no-record", "--out", "{out}/d.md"),
    "digest (json)": ("digest", "--format", "json", "--no-record", "--out", "{out}/d.json"),
    "digest (csv)": ("digest", "--format", "csv", "--no-record", "--out", "{out}/d.csv"),
    "prices (table)": ("prices", "--out", "{out}/p.txt"),
    "prices (html)": ("prices", "--format", "html", "--out", "{out}/p.html"),
    "prices (json)": ("prices", "--format", "json", "--no-cache", "--out", "{out}/p.json"),
    "prices (csv)": ("prices", "--format", "csv", "--no-cache", "--out", "{out}/p.csv"),
    "export listings (csv)": ("export", "listings", "--format", "csv", "--out", "{out}/l.csv"),
    "export listings (jsonl)": ("export", "listings", "--out", "{out}/l.jsonl"),
    "export sellers (csv)": ("export", "sellers", "--format", "csv", "--out", "{out}/s.csv"),
    "evidence export --listing": (
        "evidence",
        "export",
        "--listing",
        "1",
        "--out",
        "{out}/listing.zip",
        "--force",
    ),  # fmt: skip
    "evidence export --seller": (
        "evidence",
        "export",
        "--seller",
        "1",
        "--out",
        "{out}/seller.zip",
        "--force",
    ),  # fmt: skip
    "catalog check": ("catalog", "check", "--out", "{out}/catalog.txt"),
    "review list (table)": ("review", "list"),
    "review list (json)": ("review", "list", "--format", "json"),
}
FULL = {"detect --full": ("detect", "--full")}
# A distributor's daily CSV and JSON: after each day's run, their past crawl runs' history kept
# from the day before in the store's cache (`reports/pricing/historycache.py`); the first day
# writes it.
PRICES_DAILY = {
    f"prices ({fmt}) daily": ("prices", "--format", fmt, "--out", f"{{out}}/daily-{{day}}.{fmt}")
    for fmt in ("csv", "json")
}
_WHOLE = ("prices (csv)", "prices (json)")  # rendered with --no-cache


def time_command(config: Path, args: tuple[str, ...], **names) -> dict:
    """Run one grayhound command in a child process: wall seconds, peak RSS, exit status."""
    command = [sys.executable, "-m", "grayhound", "--config", str(config)]
    command += [a.format(**names) for a in args]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, stdout=out, stderr=err, cwd=config.parent)
        timer = threading.Timer(COMMAND_TIMEOUT, child.kill)
        timer.start()
        tree = _TreePeak(child.pid)
        _, status, usage = os.wait4(child.pid, 0)
        tree.stop()
        timed_out = not timer.is_alive()
        timer.cancel()
        err.seek(0)
        out.seek(0)
        message = err.read().decode(errors="replace")
        said = out.read().decode(errors="replace")
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if timed_out:
        return {"skipped": f"timed out after {COMMAND_TIMEOUT} s"}
    if code == 2 and "No such" in message:
        return {"skipped": "not available"}
    # grayhound's processes (the command, its forked workers); the largest child's RSS as a
    # floor, unless a program it drives (a browser) is among the children it counts, or it is
    # no more than what every child inherits from this process (`own_peak_kib`)
    floor = 0.0 if tree.others_mib else own_peak_kib(usage.ru_maxrss) / 1024
    result = {
        "seconds": round(seconds, 2),
        "peak_mib": round(max(floor, tree.peak_mib), 1),
        "cpu": round(usage.ru_utime + usage.ru_stime, 2),
        "exit": code,
        "said": (said.strip().splitlines() or [""])[-1][:300],
    }
    if tree.others_mib:  # with the programs it drives (a headless browser)
        result["tree_mib"] = round(tree.tree_mib, 1)
    if code not in (0, 1):
        result["error"] = (message.strip().splitlines() or ["?"])[-1][:300]
    return result


def time_serve(config: Path) -> dict:
    """`grayhound serve`: from start to the first page of the cases queue (its derived tables
    built), then a seller's page; the server's peak RSS."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "grayhound", "--config", str(config), "serve"]
    started = time.perf_counter()
    child = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _get(f"{base}/triage/queue.json?_size=50", deadline=started + COMMAND_TIMEOUT)
        first = time.perf_counter() - started
        before = time.perf_counter()
        _get(f"{base}/-/grayhound/seller/1", deadline=before + COMMAND_TIMEOUT)
        seller = time.perf_counter() - before
        peak = _peak_rss(child.pid)
    finally:
        child.terminate()
        child.wait(30)
    return {"seconds": round(first, 2), "seller_page": round(seller, 2), "peak_mib": peak}


def _get(url: str, deadline: float) -> bytes:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=COMMAND_TIMEOUT) as response:
                return response.read()
        except OSError:
            if time.perf_counter() > deadline:
                raise
            time.sleep(0.2)


class _TreePeak:
    """The largest memory of a process and its descendants, sampled in a thread until
    `stop()`: `peak_mib`, the proportional set sizes (a page shared by several processes
    counted once, in shares) of those running its own program (grayhound and its forked
    workers); `tree_mib`, that and the others' (a headless browser it drives). Cheap enough
    not to slow what it measures: the tree is read through each process's `children` list,
    not by walking /proc, twenty times a second; the other programs' memory only every
    `OTHERS_EVERY`th time (a headless browser's ten processes read twenty times a second cost
    `evidence export --seller` at 100k 0.3-0.5 s of its 3.4 s on two cores)."""

    INTERVAL = 0.05
    OTHERS_EVERY = 5

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mib, self.tree_mib, self.others_mib = pid, 0.0, 0.0, 0.0
        try:
            self.program = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            self.program = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        samples, others = 0, 0.0  # the others' memory as last read
        while not self._done.wait(self.INTERVAL):
            own, with_others = 0.0, samples % self.OTHERS_EVERY == 0
            samples += 1
            if with_others:
                others = 0.0
            for pid in _descendants(self.pid):
                try:
                    if os.readlink(f"/proc/{pid}/exe") == self.program:
                        own += _pss_mib(pid)
                    elif with_others:
                        others += _pss_mib(pid)
                except (OSError, IndexError, ValueError, StopIteration):
                    continue
            self.peak_mib = max(self.peak_mib, own)
            self.others_mib = max(self.others_mib, others)
            self.tree_mib = max(self.tree_mib, own + others)


def _descendants(root: int) -> list[int]:
    """`root` and every process below it, by the kernel's lists of each thread's children."""
    found, waiting = [], [root]
    while waiting:
        pid = waiting.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    waiting.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return found


def _pss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        line = next(line for line in rollup if line.startswith("Pss:"))
    return int(line.split()[1]) / 1024


def _peak_rss(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def run_size(
    listings: int,
    days: int,
    directory: Path,
    echo=print,
    reports=None,
    full: bool = True,
    start: Path | None = None,
) -> dict:
    """Build (or copy `start`), judge, crawl `days` days and time everything, at one size
    (`reports`: the names of the report commands to time, all by default; `full`: time
    detect --full)."""
    if start is not None:
        built = _copy_store(start, directory)
        echo(f"  copied {built['listings']:,} listings ({built['sellers']:,} sellers) from {start}")
    else:
        built = store_scale.build(directory, listings)
        echo(
            f"  built {listings:,} listings ({built['sellers']:,} sellers)"
            f" in {built['seconds']:.0f} s"
        )
    out = directory / "out"
    out.mkdir(parents=True, exist_ok=True)
    config = built["config"]
    listings = built.get("listings", listings)
    result: dict = {"listings": listings, "sellers": built["sellers"], "days": []}
    result["first"] = {
        name: time_command(config, args, out=out, day=0) for name, args in DAILY.items()
    }
    echo(f"  first detect + digest: {_brief(result['first'])}")
    serve = reports is None or "serve (queue page)" in reports
    if serve:  # the queue derived whole, kept beside the store: the last start takes in days
        result["first"]["serve (first start)"] = time_serve(config)
        echo(f"  serve, first start: {result['first']['serve (first start)']}")
    for _ in range(days):
        crawl = store_scale.crawl_day(directory)
        day = {"crawl": {k: crawl[k] for k in ("moved", "new", "gone", "listings")}}
        day["daily"] = {
            name: time_command(config, args, out=out, day=crawl["day"])
            for name, args in DAILY.items()
        }
        day["unchanged"] = {name: time_command(config, args) for name, args in UNCHANGED.items()}
        day["prices"] = {
            name: time_command(config, args, out=out, day=crawl["day"])
            for name, args in PRICES_DAILY.items()
            if reports is None or name in reports
        }
        result["days"].append(day)
        echo(f"  day {crawl['day']}: {_brief(day['daily'])}; unchanged {_brief(day['unchanged'])}")
        if day["prices"]:
            echo(f"  day {crawl['day']}: {_brief(day['prices'])}")
    result["reports"] = {}
    for name, args in REPORTS.items():
        if reports is not None and name not in reports:
            continue
        result["reports"][name] = time_command(config, args, out=out)
        echo(f"  {name}: {_brief({name: result['reports'][name]})}")
    if serve:
        result["reports"]["serve (queue page)"] = time_serve(config)
        echo(f"  serve: {result['reports']['serve (queue page)']}")
    result["full"] = {
        name: time_command(config, args) if full else {"skipped": "not run"}
        for name, args in FULL.items()
    }
    database = directory / "grayhound.db"
    result["db_mib"] = round(database.stat().st_size / 2**20, 1)
    return result


def _copy_store(start: Path, directory: Path) -> dict:
    """A copy of a store this benchmark built (its database, config, day state and
    evidence), to go on from."""
    state_file = start / store_scale.STATE
    if not state_file.is_file() or not (start / "grayhound.db").is_file():
        raise SystemExit(f"{start}: not a store this benchmark built (no {store_scale.STATE})")
    shutil.copytree(start, directory, ignore=shutil.ignore_patterns("out", "*-shm", "cache"))
    state = json.loads(state_file.read_text())
    return {
        "config": directory / "grayhound.toml",
        "sellers": state["sellers"],
        "listings": state["listings"],
    }


def _brief(timings: dict) -> str:
    return ", ".join(
        f"{name} {t['seconds']} s {t['peak_mib']} MiB" if "seconds" in t else f"{name} {t}"
        for name, t in timings.items()
    )


def table(results: list[dict]) -> str:
    """One row per figure, one column per size (median of the days for the daily figures),
    and whether the figure meets issue 19's goal at every size measured."""
    sizes = [r["listings"] for r in results]
    header = "| figure | " + " | ".join(f"{s:,} listings" for s in sizes) + " | goal |"
    lines = [header, "|---|" + "---|" * (len(sizes) + 1)]

    def cell(timing: dict | None) -> str:
        if not timing or "seconds" not in timing:
            return (timing or {}).get("skipped", "—")
        extra = f" (exit {timing['exit']})" if timing.get("exit") not in (0, None) else ""
        cpu = f" (cpu {timing['cpu']:.1f} s)" if "cpu" in timing else ""
        driven = f" (+ browser: {timing['tree_mib']:.0f} MiB)" if "tree_mib" in timing else ""
        return f"{timing['seconds']:.1f} s{cpu}, {timing['peak_mib']:.0f} MiB{driven}{extra}"

    def row(label: str, pick, kind: str | None) -> None:
        cells = " | ".join(cell(pick(r)) for r in results)
        goal = verdict([(r["listings"], pick(r)) for r in results], kind) if kind else "—"
        lines.append(f"| {label} | {cells} | {goal} |")

    row("first detect (every listing)", lambda r: r["first"]["detect"], None)
    row("first digest (html)", lambda r: r["first"]["digest (html)"], None)
    row("serve, first start (every case derived)", lambda r: r["first"].get("serve (first start)"),
        None)  # fmt: skip
    row("daily detect + digest (median day)", lambda r: _median_daily(r), "daily")
    row("detect, nothing changed (median day)", lambda r: _median(r, "unchanged", None),
        "unchanged")  # fmt: skip
    for name in [*REPORTS, "serve (queue page)"]:
        label = f"{name}, whole history rendered (--no-cache)" if name in _WHOLE else name
        row(label, lambda r, name=name: r["reports"].get(name), "report")
    for name in PRICES_DAILY:
        row(f"{name}: the first day (writes the cache)", lambda r, n=name: _prices_day(r, 0, n),
            None)  # fmt: skip
        row(f"{name}: the last day (the cache of the day before)",
            lambda r, n=name: _prices_day(r, -1, n) if len(r["days"]) > 1 else None,
            "report")  # fmt: skip
    row("detect --full", lambda r: r["full"]["detect --full"], None)
    lines.append(
        "| database | " + " | ".join(f"{r['db_mib']:,.0f} MiB" for r in results) + " | — |"
    )
    return "\n".join(lines)


def verdict(figures: list[tuple[int, dict | None]], kind: str) -> str:
    """Whether every size's figure is within issue 19's goal: at 1,000,000 listings (or more)
    the goal of its kind, below that 3 s for each command (each of the daily row's two), and
    peak memory under 400 MiB everywhere; "not met" names the first bound missed."""
    measured = [(n, t) for n, t in figures if t and "seconds" in t]
    if not measured:
        return "—"
    for listings, timing in measured:
        seconds = timing["seconds"]
        if listings >= 1_000_000:
            bound = GOALS[kind]
        else:
            bound, seconds = 3.0, timing.get("slowest", seconds)
        if seconds >= bound:
            return f"not met (< {bound:g} s at {listings:,})"
        if timing["peak_mib"] >= GOALS["memory"]:
            return f"not met (< {GOALS['memory']:g} MiB at {listings:,})"
    return "met"


def _median(result: dict, part: str, name: str | None) -> dict | None:
    timings = [next(iter(d[part].values())) if name is None else d[part][name]
               for d in result["days"]]  # fmt: skip
    timings = sorted((t for t in timings if "seconds" in t), key=lambda t: t["seconds"])
    return timings[(len(timings) - 1) // 2] if timings else None


def _prices_day(result: dict, at: int, name: str) -> dict | None:
    days = [day["prices"][name] for day in result["days"] if name in day.get("prices", {})]
    return days[at] if days else None


def _median_daily(result: dict) -> dict | None:
    """detect + digest of each day summed, peak the larger; the median day."""
    days = []
    for day in result["days"]:
        parts = list(day["daily"].values())
        if all("seconds" in p for p in parts):
            days.append(
                {
                    "seconds": round(sum(p["seconds"] for p in parts), 2),
                    "cpu": round(sum(p.get("cpu", 0.0) for p in parts), 2),
                    "slowest": max(p["seconds"] for p in parts),
                    "peak_mib": max(p["peak_mib"] for p in parts),
                    "exit": max(p["exit"] for p in parts),
                }
            )
    days.sort(key=lambda d: d["seconds"])
    return days[(len(days) - 1) // 2] if days else None


def _reference(directory: Path) -> dict:
    """`host.reference`, or what stopped it (a full disk): the run's figures come first."""
    try:
        return reference(directory)
    except (OSError, sqlite3.Error) as error:
        return {"error": f"not measured: {error}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="listings, comma-separated")
    parser.add_argument("--days", type=int, default=3, help="daily crawls after the first")
    parser.add_argument("--keep", type=Path, help="build the stores under this directory")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON here")
    parser.add_argument("--quick", action="store_true", help="10,000 listings, one day")
    parser.add_argument(
        "--reports", help="only these report commands (names as in the table, comma-separated)"
    )
    parser.add_argument("--no-full", action="store_true", help="do not time detect --full")
    parser.add_argument(
        "--start-from",
        type=Path,
        help="go on from a copy of this store (a store-N folder left by --keep); one size",
    )
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.start_from:
        sizes = [json.loads((args.start_from / store_scale.STATE).read_text())["listings"]]
    days = 1 if args.quick else args.days
    print(f"machine: {machine()}", flush=True)
    compile_packages()
    scratch = Path(tempfile.mkdtemp(prefix="grayhound-scale-")) if not args.keep else None
    results = []
    root = args.keep or scratch
    speed = {}  # the machine's reference figures before and after (`host.reference`)
    try:
        speed["start"] = _reference(root)
        print(f"machine reference at the start: {reference_text(speed['start'])}", flush=True)
        for size in sizes:
            print(f"store of {size:,} listings, {days} daily crawls", flush=True)
            directory = root / f"store-{size}"
            if directory.exists():
                shutil.rmtree(directory)
            reports = [r.strip() for r in args.reports.split(",")] if args.reports else None
            echo = lambda s: print(s, flush=True)  # noqa: E731
            results.append(
                run_size(
                    size,
                    days,
                    directory,
                    echo,
                    reports=reports,
                    full=not args.no_full,
                    start=args.start_from,
                )
            )
        speed["end"] = _reference(root)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    print(table(results))
    print(f"machine: {machine()}")
    for when, figures in speed.items():
        print(f"machine reference at the {when}: {reference_text(figures)}")
    if args.json:
        figures = {"machine": machine(), "reference": speed, "results": results}
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
