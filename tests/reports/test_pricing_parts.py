"""`grayhound prices` written in parts by forked workers (issue 19, round 7) is the same bytes as
one process in every format: no model dropped, repeated or out of order at a boundary, the JSON
list's separators, the CSV header once, the HTML overview and sections in order, the table's
overview over every part's models; hostile seller names on both sides of every boundary."""

from __future__ import annotations

import io
import itertools
import random

import pytest

from grayhound.cli import main
from grayhound.models import Listing, Seller
from grayhound.store import open_store
from tests.reports.conftest import crawl_commits_first, listing_judgement, parts_counted

SELLERS = (
    "<script>alert(1)</script>", '=HYPERLINK("http://evil.example")', 'say "cheap", now',
    "line\nbreak", "+1-2", "@SUM(A1)", "naïve «seller»", "", None, "Plain Shop",
    "\x1b]0;owned\x07\x1b[2JClear Screen",
)  # fmt: skip
PRICES = ("699.00", "549", " 12.5 ", "abc", None, "1e3")
CURRENCIES = ("USD", "EUR", "GBP", "CHF", None)
CONDITIONS = ("new", "used", "unknown", None)


def _populate(store, models: list[str], rng: random.Random) -> None:
    """Three crawl runs of listings of every catalog model (one model with none), sellers with
    hostile names, judged once at the end."""
    ids: dict[int, int] = {}
    for day in range(3):
        seen_at = f"2026-02-{day + 1:02d}T06:00:00.000Z"
        run_id = store.start_run(["bazaar", "=souk"], seen_at)
        for key in range(120):
            if key in ids and rng.random() < 0.2:
                continue
            source = rng.choice(["bazaar", "=souk"])
            seller_key = f"https://{source}.example/seller/{key % 9}"
            seller = rng.choice(SELLERS)
            store.record_seller(run_id, source, seller_key, Seller(seller, url=seller_key), seen_at)
            listing = Listing(
                url=f"https://{source}.example/item/{key}",
                is_product=True,
                title=f"Phone {key}",
                price=rng.choice(PRICES) if rng.random() < 0.3 else f"{rng.randint(300, 900)}.00",
                currency=rng.choice(CURRENCIES),
                condition=rng.choice(CONDITIONS),
                seller=seller,
                seller_url=seller_key,
            )
            ids[key], _ = store.record_listing(run_id, source, listing, seller_key, seen_at)
        store.finish_run(run_id, seen_at, "finished", {"sources": {}})
    judged = [name for name in models if name != models[2]]  # a model with no listing
    findings = [
        listing_judgement(
            listing_id,
            judged[key % len(judged)],
            is_accessory=1 if key % 17 == 0 else 0,
            condition=rng.choice(CONDITIONS),
        )
        for key, listing_id in sorted(ids.items())
    ]
    store.record_findings(findings, None, "2026-03-01T00:00:00.000Z")


@pytest.mark.parametrize("fmt", ["json", "csv", "html", "table"])
def test_a_report_written_in_parts_is_the_same_bytes(
    example_config_path, example_config, monkeypatch, tmp_path, fmt, own_threads_only
):
    from reports.pricing import parts

    with open_store(example_config.storage.database) as store:
        _populate(store, [entry.model for entry in example_config.catalog], random.Random(7))
    monkeypatch.setattr(parts, "PARALLEL_MIN_LISTINGS", 1)
    parts_written = parts_counted(monkeypatch, parts)

    def written(workers: str, *options: str) -> bytes:
        monkeypatch.setenv("GRAYHOUND_WORKERS", workers)
        out = tmp_path / f"prices-{workers}.{fmt}"
        argv = ["--config", str(example_config_path), "prices", "--format", fmt, *options]
        assert main([*argv, "--out", str(out), "--force"]) == 0
        return out.read_bytes()

    for options in ((), ("--condition", "any", "--currency", "EUR")):
        whole = written("1", *options)
        assert b"&lt;script&gt;" in whole or fmt != "html"
        for workers in ("2", "3"):
            assert written(workers, *options) == whole, (workers, options)
    assert parts_written == [1, 2, 3] * 2


@pytest.mark.parametrize(
    ("weights", "count", "cuts"),
    [
        ([5, 1, 1, 5, 5, 5, 5, 1, 5, 5, 1], 2, [6]),  # 4 models of 5 against 3: no better cut
        ([1, 1, 1, 1], 2, [2]),
        ([9, 1, 1, 1], 2, [1]),
        ([1, 1, 1, 9], 3, [3]),  # two runs are as good as three
        ([4], 3, []),
        ([1, 2, 3, 4], 4, [2, 3]),  # 3 runs already keep the heaviest at 4
    ],
)
def test_models_are_cut_into_contiguous_runs_of_balanced_weight(weights, count, cuts):
    from reports.pricing.parts import balanced_cuts

    assert balanced_cuts(weights, count) == cuts


def _lightest_cuts(weights: list[int], parts: int) -> list[int]:
    """Every limit a run can weigh, lightest first, until the greedy cut fits (the first
    implementation: right, and cubic in the number of models)."""
    totals = [0, *itertools.accumulate(weights)]
    spans = sorted({totals[end] - totals[start] for start in range(len(weights))
                    for end in range(start + 1, len(weights) + 1)})  # fmt: skip
    for limit in spans:
        cuts, start = [], 0
        for end in range(1, len(weights) + 1):
            if totals[end] - totals[start] > limit:
                cuts.append(end - 1)
                start = end - 1
        if len(cuts) < parts and all(w <= limit for w in weights):
            return cuts
    return []


@pytest.mark.parametrize("seed", range(40))
def test_the_cuts_are_those_of_the_lightest_limit(seed):
    from reports.pricing.parts import balanced_cuts

    chance = random.Random(seed)
    weights = [chance.choice([1, 2, 50, 900, 20_000]) for _ in range(chance.randint(1, 60))]
    for parts in (1, 2, 3, 4):
        assert balanced_cuts(weights, parts) == _lightest_cuts(weights, parts)


def test_a_catalog_of_thousands_of_models_is_cut_at_once():
    """The limit is searched, not every run's weight tried (a 2,000-model catalog took more
    than a minute)."""
    from reports.pricing.parts import balanced_cuts

    weights = [random.Random(3).randint(1, 5000) for _ in range(100_000)]
    cuts = balanced_cuts(weights, 4)
    assert len(cuts) == 3
    runs = [sum(run) for run in _runs(weights, cuts)]
    assert max(runs) <= sum(weights) / 4 + max(weights)  # within one model of an even cut


def _runs(weights, cuts):
    bounds = [0, *cuts, len(weights)]
    return [weights[a:b] for a, b in itertools.pairwise(bounds)]


def test_a_report_to_a_terminal_is_cleaned_whole(example_config, monkeypatch, own_threads_only):
    """Text to a terminal loses escape sequences as it is written (`TerminalStream`), the
    parts workers wrote included (they reach it through its `write`, not as bytes)."""
    from grayhound.commands.outputs import TerminalStream
    from reports.pricing import parts

    class Terminal(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    with open_store(example_config.storage.database) as store:
        _populate(store, [entry.model for entry in example_config.catalog], random.Random(7))
    monkeypatch.setattr(parts, "PARALLEL_MIN_LISTINGS", 1)

    def shown(workers: str) -> str:
        monkeypatch.setenv("GRAYHOUND_WORKERS", workers)
        screen = io.BytesIO()
        terminal = Terminal(screen, encoding="utf-8", newline="")
        with open_store(example_config.storage.database, create=False) as store:
            job = parts.price_job(store, example_config, "USD", "any", history=True)
            catalog = example_config.catalog
            parts.write_prices(store, job, catalog, "csv", TerminalStream(terminal))
        terminal.flush()
        return screen.getvalue().decode()

    text = shown("2")
    assert "\x1b" not in text and "\x07" not in text
    assert any("Clear Screen" in line for line in text.splitlines() if ",iPhone 15" in line)
    assert text == shown("1")


@pytest.mark.usefixtures("own_threads_only")
@pytest.mark.parametrize(
    ("writer", "options"),
    [
        ("_write_part_pieces", ["--no-cache"]),  # the history in pieces
        ("_write_kept_pieces", []),  # through the history cache
    ],
)
def test_a_crawl_committing_during_a_report_in_parts_is_not_in_it(
    example_config_path, example_config, monkeypatch, tmp_path, writer, options
):
    """Every part read by forked workers is the store as it was when the report began, and
    a crawl committing meanwhile is not kept waiting for it."""
    from reports.pricing import parts

    with open_store(example_config.storage.database) as store:
        _populate(store, [entry.model for entry in example_config.catalog], random.Random(5))
    monkeypatch.setattr(parts, "PARALLEL_MIN_LISTINGS", 1)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    argv = ["--config", str(example_config_path), "prices", "--format", "csv", *options]
    argv.append("--force")
    assert main([*argv, "--out", str(tmp_path / "before.csv")]) == 0
    committed = tmp_path / "committed"
    real = getattr(parts, writer)
    moved = ["UPDATE observations SET price = '1.00'"]
    crawl = crawl_commits_first(real, example_config.storage.database, moved, committed)
    monkeypatch.setattr(parts, writer, crawl)
    assert main([*argv, "--out", str(tmp_path / "during.csv")]) == 0
    assert crawl.commits  # the crawl committed while the report was written in parts
    before = (tmp_path / "before.csv").read_bytes()
    assert (tmp_path / "during.csv").read_bytes() == before
    monkeypatch.setattr(parts, writer, real)
    assert main([*argv, "--out", str(tmp_path / "after.csv")]) == 0
    assert (tmp_path / "after.csv").read_bytes() != before


# -- CSV and JSON: the history in pieces (issue 19, round 33) ------------------------------------
CUTS = (
    [(0, 0)],  # this process writes no history: every model's figures, set aside
    [(0, 1)],  # the first model's first run
    [(2, 1)],  # inside the model with no listing
    [(3, 2)],
    [(5, 0)],  # between two models
    [(10, 1)],  # inside the last model
    [(1, 1), (1, 2)],  # three processes, two cuts in one model
    [(0, 0), (6, 1)],
    [(4, 2), (9, 0)],
)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_history_cut_anywhere_is_the_same_bytes(
    example_config_path, example_config, monkeypatch, tmp_path, fmt, own_threads_only
):
    """Wherever the history is cut between the processes (between models, inside a model at
    any crawl run, inside one with no listing, nothing for this process), the report is the
    bytes one process writes: each model's figures once, its history's pieces in order and
    joined (JSON's ", " only between points), the JSON list's separators."""
    from reports.pricing import parts

    with open_store(example_config.storage.database) as store:
        _populate(store, [entry.model for entry in example_config.catalog], random.Random(11))
    monkeypatch.setattr(parts, "PARALLEL_MIN_LISTINGS", 1)
    parts_written = parts_counted(monkeypatch, parts)
    argv = ["--config", str(example_config_path), "prices", "--format", fmt, "--force"]

    def written(name: str) -> bytes:
        out = tmp_path / f"{name}.{fmt}"
        assert main([*argv, "--condition", "any", "--out", str(out)]) == 0
        return out.read_bytes()

    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    whole = written("whole")
    for at, cuts in enumerate(CUTS):
        monkeypatch.setattr(parts, "history_cuts", lambda *args, cuts=cuts: cuts)
        monkeypatch.setenv("GRAYHOUND_WORKERS", str(len(cuts) + 1))
        assert written(f"cut-{at}") == whole, cuts
    assert parts_written == [1] + [len(cuts) + 1 for cuts in CUTS]  # one process, then each cut


def test_a_models_history_is_its_runs_pieces_one_after_the_other(example_config):
    """`model_price_history` of the runs after one and up to another: the history's rows of
    those runs, so the pieces cut at any run are the whole history in order."""
    from reports.pricing.build import _newest_runs, stored_names

    with open_store(example_config.storage.database) as store:
        _populate(store, [entry.model for entry in example_config.catalog], random.Random(3))
        newest = _newest_runs(store.runs())
        runs = [run["id"] for run in store.runs()]
        stored = store.price_model_names()
        for entry in example_config.catalog:
            names = stored_names(stored, entry)
            whole = list(store.model_price_history(names, "any", newest))
            for cut in runs:
                first = list(store.model_price_history(names, "any", newest, (None, cut)))
                rest = list(store.model_price_history(names, "any", newest, (cut, None)))
                assert first + rest == whole
                assert all(row[0] <= cut for row in first) and all(row[0] > cut for row in rest)
            assert whole or entry.model == example_config.catalog[2].model


@pytest.mark.parametrize(
    ("costs", "first", "runs", "processes", "cuts"),
    [
        ([10] * 7, 0, [1, 1, 1, 1], 2, [(3, 2)]),  # three and a half models each
        ([10] * 7, 7, [1, 1, 1, 1], 2, [(3, 1)]),  # the figures first: less history here
        ([10] * 7, 80, [1, 1, 1, 1], 2, [(0, 0)]),  # figures past a half: no history here
        ([10] * 7, 0, [], 2, [(4, 0)]),  # no run to cut at: between two models
        ([10] * 7, 0, [1, 3], 2, [(3, 1)]),  # the share of the run before the cut, nearest
        ([10, 0, 0, 10], 0, [1, 1], 2, [(3, 0)]),  # empty models go with the one before
        ([10] * 6, 0, [1, 1], 3, [(2, 0), (4, 0)]),
        ([0, 0], 5, [1], 2, [(2, 0)]),  # no history at all
    ],
)
def test_the_history_is_cut_where_the_work_is_even(costs, first, runs, processes, cuts):
    from reports.pricing.parts import history_cuts

    assert history_cuts(costs, first, runs, processes) == cuts


@pytest.mark.parametrize("seed", range(30))
def test_the_pieces_of_any_cuts_hold_each_models_history_once_in_order(seed):
    """Whatever the costs and processes, the parts' pieces, one after the other, are each
    model's runs from the first to the last, once, models in order."""
    from reports.pricing.parts import _pieces, _spans, history_cuts

    chance = random.Random(seed)
    count = chance.randint(1, 12)
    costs = [chance.choice([0, 1, 5, 40]) * 1.0 for _ in range(count)]
    runs = [chance.choice([0, 1, 3]) for _ in range(chance.randint(0, 5))]
    run_ids = [10 + 3 * at for at in range(len(runs))]  # ids need not be dense
    processes = chance.randint(2, 4)
    cuts = history_cuts(costs, chance.choice([0.0, 3.0, 100.0]), runs, processes)
    assert cuts == sorted(cuts) and len(cuts) == processes - 1
    pieces = [
        piece
        for start, end in _spans(cuts, tuple(range(count)))
        for piece in _pieces(start, end, count, run_ids)
    ]
    assert [piece.model for piece in pieces] == sorted(piece.model for piece in pieces)
    for model in range(count):
        mine = [piece for piece in pieces if piece.model == model]
        assert mine and mine[0].after is None and mine[-1].upto is None
        for before, after in itertools.pairwise(mine):
            assert before.upto == after.after is not None


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_history_kept_between_reports_is_cut_only_before_its_newest_run(
    example_config_path, example_config, monkeypatch, fmt, own_threads_only
):
    """With the history kept between reports (`historycache`), each part begins and ends
    whole models but for one cut before its newest crawl run: the part that begins a model
    makes its figures from the copy of its kept listings its history reads too. A model is
    weighed at what the cache leaves to do (kept before: its past runs copied, its newest
    rendered). Without the cache, a history may be cut at any crawl run."""
    from reports.pricing import parts

    models = [entry.model for entry in example_config.catalog]
    with open_store(example_config.storage.database) as store:
        _populate(store, models, random.Random(5))
        run_ids = [run for run, _ in store.price_history_shape()[2]]
    assert len(run_ids) >= 3
    monkeypatch.setattr(parts, "PARALLEL_MIN_LISTINGS", 1)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    weighed: list[list] = []
    real = parts.kept_costs

    def costs(*args):
        weighed.append(real(*args))
        return weighed[-1]

    monkeypatch.setattr(parts, "kept_costs", costs)
    catalog = tuple(example_config.catalog)

    def plan(cached: bool) -> parts.HistoryPlan:
        with open_store(example_config.storage.database) as store:
            job = parts.price_job(store, example_config, "USD", "any", True, cached)
            made = parts.history_plan(store, job, catalog, fmt)
        assert made is not None and len(made.parts) == 2 and made.kept is cached
        pieces = [piece for part in made.parts for piece in part]
        assert sorted({piece.model for piece in pieces}) == list(range(len(catalog)))
        return made

    plan(False)
    assert not weighed  # without the cache, no model is weighed as the cache leaves it
    seen = []
    for _ in range(2):  # before any report, then after one kept every model's history
        weighed.clear()
        made = plan(True)
        seen.append([sum(pair) for pair in weighed[0]])
        for part in made.parts:
            for piece in part:
                assert (piece.after, piece.upto) in [(None, None), (None, run_ids[-2])] or (
                    piece.after == run_ids[-2] and piece.upto is None and piece is part[0]
                ), made.parts
        argv = ["--config", str(example_config_path), "prices", "--format", fmt]
        assert (
            main([*argv, "--condition", "any", "--out", str(example_config_path.parent / "p")]) == 0
        )
    whole, kept = seen
    assert kept != whole  # each model with a history weighed anew once kept
    assert [bool(cost) for cost in kept] == [bool(cost) for cost in whole]


# -- SIGTERM (round 37) --------------------------------------------------------------------------
_STOPPED_MID_REPORT = """
import os, sys, time
from grayhound.cli import main
from reports.pricing import parts

parts.PARALLEL_MIN_LISTINGS = 1
parent = os.getpid()


def stop_here():  # this process, its worker started and writing a part's file
    if os.getpid() == parent:
        print("writing", file=sys.stderr, flush=True)
        time.sleep(120)


real_pieces, real_writer = parts._write_part_pieces, parts._history_writer


def pieces(*args):  # the history in pieces (--no-cache)
    stop_here()
    return real_pieces(*args)


def writer(job, fmt):  # through the cache: a model's kept listings copied, its history next
    write = real_writer(job, fmt)

    def stopped(*args):
        stop_here()
        return write(*args)

    return stopped


parts._write_part_pieces, parts._history_writer = pieces, writer
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("options", [["--no-cache"], []])
def test_a_report_stopped_by_sigterm_leaves_no_temporary_file(
    example_config_path, example_config, tmp_path, options
):
    """SIGTERM (`kill`, `timeout`, the schedule stopping its runs) while a report's workers
    write its parts ends it as Ctrl-C does: the workers ended, their folder and the report's
    unfinished output removed, `terminated (SIGTERM)` said, exit 143. Its default ended the
    process at once and left the workers' folder (195 MB at 1,000,000 listings)."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    with open_store(example_config.storage.database) as store:
        _populate(store, [entry.model for entry in example_config.catalog], random.Random(3))
    out = tmp_path / "out"
    out.mkdir()
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    (out / "prices.csv").write_text("the report of the day before\n")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "TMPDIR": str(temporary)}
    env["GRAYHOUND_WORKERS"] = "2"
    argv = ["--config", str(example_config_path), "prices", "--format", "csv", *options]
    argv += ["--out", str(out / "prices.csv"), "--force"]
    child = subprocess.Popen(
        [sys.executable, "-c", _STOPPED_MID_REPORT, *argv],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=root,
    )
    try:
        assert child.stderr.readline().strip() == "writing"
        left = [path.name for path in (*out.iterdir(), *temporary.iterdir())]
        assert any("grayhound-parts-" in name for name in left), left  # the workers' folder
        child.send_signal(signal.SIGTERM)
        said = child.communicate(timeout=60)[1]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 143, said
    assert said.strip() == "grayhound: terminated (SIGTERM)"  # no traceback, nothing else
    assert sorted(path.name for path in out.iterdir()) == ["prices.csv"]
    assert (out / "prices.csv").read_text() == "the report of the day before\n"
    assert list(temporary.iterdir()) == []


@pytest.mark.usefixtures("own_threads_only")
def test_sigterm_keeps_its_handler_outside_a_report_in_parts(
    example_config_path, example_config, monkeypatch
):
    """SIGTERM raises only while a report's workers write its parts: before and after, the
    process's own handler (the default, or a server's or the schedule's) is as it was."""
    import signal

    from reports.pricing import parts

    with open_store(example_config.storage.database) as store:
        _populate(store, [entry.model for entry in example_config.catalog], random.Random(4))
    monkeypatch.setattr(parts, "PARALLEL_MIN_LISTINGS", 1)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    during = []
    real = parts._write_kept_pieces

    def seen(*args):
        during.append(signal.getsignal(signal.SIGTERM))
        return real(*args)

    monkeypatch.setattr(parts, "_write_kept_pieces", seen)
    before = signal.getsignal(signal.SIGTERM)
    argv = ["--config", str(example_config_path), "prices", "--format", "json"]
    assert main([*argv, "--out", str(example_config_path.parent / "p.json")]) == 0
    assert signal.getsignal(signal.SIGTERM) is before
    assert during and during[0] is not before  # this process, while the worker wrote

    def own(*_):  # a handler of the process's own
        pass

    signal.signal(signal.SIGTERM, own)
    try:
        during.clear()
        assert main([*argv, "--out", str(example_config_path.parent / "p.json"), "--force"]) == 0
        assert during[0] is own and signal.getsignal(signal.SIGTERM) is own
    finally:
        signal.signal(signal.SIGTERM, before)
