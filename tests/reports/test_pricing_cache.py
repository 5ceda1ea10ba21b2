"""The CSV and JSON price history of past crawl runs kept rendered between reports
(`reports.pricing.historycache`, issue 19): a report through the cache is the same bytes as one
rendered afresh (`--no-cache`) after every kind of change its segments are made from, renders
only the runs whose segment it has not kept, and never lets the cache cost the report anything
but time: a file cut short is not used, a cache it cannot write leaves the report whole."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import sqlite3
import time

import pytest

from grayhound.cli import main
from grayhound.models import Listing, Seller
from grayhound.store import open_store
from reports.pricing import historycache
from tests.reports.conftest import listing_judgement

SELLERS = ('=HYPERLINK("http://evil.example")', 'say "cheap", now', "line\nbreak", "", None, "Shop")
PRICES = ("699.00", "549", " 12.5 ", "abc", None)
CURRENCIES = ("USD", "EUR", "GBP", None)
CONDITIONS = ("new", "used", "unknown", None)


def _crawl(store, day: int, rng: random.Random, keys: range, finish: bool = True) -> int:
    """A crawl run of listings `keys` (each seen with a chance of 4 in 5, at a random price),
    each with its own seller and condition: sellers with hostile names, some without a name on
    the listing (their records fall back on the seller's row)."""
    seen_at = f"2026-02-{day:02d}T06:00:00.000Z"
    run_id = store.start_run(["bazaar", "=souk"], seen_at)
    for key in keys:
        if rng.random() < 0.2:
            continue
        source = ("bazaar", "=souk")[key % 2]
        seller_key = f"https://{source}.example/seller/{key % 7}"
        seller = SELLERS[key % len(SELLERS)]
        store.record_seller(run_id, source, seller_key, Seller(f"row {key % 7}"), seen_at)
        listing = Listing(
            url=f"https://{source}.example/item/{key}",
            is_product=True,
            title=f"Phone {key}",
            price=rng.choice(PRICES) if rng.random() < 0.3 else f"{rng.randint(300, 900)}.00",
            currency=rng.choice(CURRENCIES),
            condition=CONDITIONS[key % 3 % len(CONDITIONS)],
            seller=seller,
            seller_url=seller_key,
        )
        store.record_listing(run_id, source, listing, seller_key, seen_at)
    if finish:
        store.finish_run(run_id, seen_at, "finished", {"sources": {}})
    return run_id


def _judge(store, models: list[str]) -> None:
    ids = [row[0] for row in store.db.execute("SELECT id FROM listings ORDER BY id")]
    findings = [
        listing_judgement(
            listing_id,
            models[listing_id % len(models)],
            is_accessory=1 if listing_id % 13 == 0 else 0,
            condition=CONDITIONS[listing_id % 5 % len(CONDITIONS)],
        )
        for listing_id in ids
    ]
    store.record_findings(findings, None, "2026-03-01T00:00:00.000Z")


@pytest.fixture(params=["csv", "json"])
def fmt(request) -> str:
    return request.param


@pytest.fixture
def report(example_config_path, tmp_path, monkeypatch, fmt):
    """`report(*options)`: the report's bytes in `fmt`, and the crawl runs whose history was
    rendered (not copied from the cache) while it was written."""
    rendered: list[int] = []
    real_csv = historycache.render.write_csv_history_rows
    real_json = historycache.render.write_json_history_rows

    def counted_csv(currency, model, rows, *args):
        rows = list(rows)
        rendered.extend({row[0] for row in rows})
        return real_csv(currency, model, rows, *args)

    def counted_json(rows, *args):
        rows = list(rows)
        rendered.extend({row[0] for row in rows})
        return real_json(rows, *args)

    monkeypatch.setattr(historycache.render, "write_csv_history_rows", counted_csv)
    monkeypatch.setattr(historycache.render, "write_json_history_rows", counted_json)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")

    def written(*options: str) -> tuple[bytes, set[int]]:
        rendered.clear()
        out = tmp_path / f"prices.{fmt}"
        argv = ["--config", str(example_config_path), "prices", "--format", fmt, *options]
        assert main([*argv, "--out", str(out), "--force"]) == 0
        return out.read_bytes(), set(rendered)

    return written


def _models(config) -> list[str]:
    return [entry.model for entry in config.catalog]


def _history_records(text: bytes, fmt: str) -> list[dict]:
    """The report's history records: each one's model, listing and (JSON) flag."""
    if fmt == "csv":
        records = csv.DictReader(io.StringIO(text.decode()))
        return [record for record in records if record["record"] == "history"]
    return [
        {"model": model["model"], **point}
        for model in json.loads(text)["models"]
        for point in model["history"]
    ]


def _same(report) -> set[int]:
    """The cached report equals the one rendered afresh; the runs it rendered."""
    fresh, _ = report("--no-cache")
    cached, rendered = report()
    assert cached == fresh
    return rendered


def test_the_cached_history_is_the_history_after_every_change(
    example_config_path, example_config, report, fmt
):
    rng = random.Random(11)
    database = example_config.storage.database
    models = _models(example_config)
    with open_store(database) as store:
        runs = [_crawl(store, day, rng, range(60)) for day in (1, 2, 3)]
        _judge(store, models)
    fresh, _ = report("--no-cache")
    assert _history_records(fresh, fmt) and b"=HYPERLINK" in fresh
    assert not (example_config_path.parent / "cache").exists()  # --no-cache wrote nothing

    cold, rendered = report()
    assert cold == fresh and rendered == set(runs)
    warm, rendered = report()
    assert warm == fresh and rendered == set()  # every finished run's segment copied

    # a day's crawl: new listings, prices moved, some gone, some not seen (no longer current:
    # their JSON points say so); only the new run is rendered
    with open_store(database) as store:
        runs.append(_crawl(store, 4, rng, range(10, 75)))
        _judge(store, models)
    assert _same(report) == {runs[-1]}
    if fmt == "json":
        text, rendered = report()
        assert rendered == set()  # the segments with points written anew were kept so
        now = _history_records(text, fmt)
        flags = {(p["listing_id"], p["crawl_run_id"]): p["is_current"] for p in now}
        before = _history_records(warm, fmt)
        flipped = [
            p
            for p in before
            if flags.get((p["listing_id"], p["crawl_run_id"]), p["is_current"]) != p["is_current"]
        ]
        assert {p["is_current"] for p in flipped} == {True, False}  # both ways, in kept runs

    def changed(*statements: str) -> set[int]:
        conn = sqlite3.connect(database)
        with conn:
            for sql in statements:
                conn.execute(sql)
        conn.close()
        return _same(report)

    # the seller a record falls back on when its observation names none
    unnamed = (
        sqlite3.connect(database)
        .execute(
            "SELECT o.listing_id, o.crawl_run_id FROM observations o"
            " WHERE o.seller_name IS NULL OR o.seller_name = '' ORDER BY o.id LIMIT 1"
        )
        .fetchone()
    )
    assert unnamed is not None
    assert unnamed[1] in changed(
        f"UPDATE listings SET seller_name = 'Renamed' WHERE id = {unnamed[0]}"
    )
    assert changed("UPDATE sellers SET name = '@SUM(A1)', domain = 'x.example'")
    # a listing judged another model, or an accessory: it leaves one model's history
    history = _history_records(report("--no-cache")[0], fmt)[0]
    other = next(name for name in models if name != history["model"])
    assert changed(
        f"UPDATE findings SET model = '{other}' WHERE subject_id = {history['listing_id']}"
    )
    # (the model it joins renders its runs again; leaving is a cut: nothing rendered)
    assert (
        changed(
            "UPDATE findings SET is_accessory = 1 WHERE subject_kind = 'listing'"
            " AND subject_id % 5 = 0 AND is_current = 1"
        )
        == set()
    )
    # listings whose judgements were retired (delisted) leave every run's history: their
    # records are cut out of the segments kept, nothing rendered again
    assert (
        changed(
            "UPDATE findings SET is_current = 0 WHERE subject_kind = 'listing'"
            " AND subject_id IN (SELECT listing_id FROM observations WHERE crawl_run_id = 1)"
            " AND subject_id % 4 = 1"
        )
        == set()
    )
    assert _same(report) == set()
    # an observation added to a finished run (a crawl resumed): that run's segment again
    assert runs[0] in changed(
        "INSERT INTO observations (listing_id, crawl_run_id, observed_at, price, currency)"
        " SELECT MAX(id), 1, '2026-02-01T07:00:00.000Z', '321.00', 'USD' FROM listings"
    )
    assert _same(report) == set()  # and nothing else changed since


def test_a_changed_config_or_run_is_rendered_afresh(example_config_path, example_config, report):
    rng = random.Random(5)
    with open_store(example_config.storage.database) as store:
        runs = [_crawl(store, day, rng, range(40)) for day in (1, 2)]
        running = _crawl(store, 3, rng, range(40), finish=False)
        _judge(store, _models(example_config))
    assert _same(report) == {*runs, running}
    assert _same(report) == {running}  # a run still running is never kept
    for options in (("--currency", "EUR"), ("--condition", "any")):
        fresh, _ = report("--no-cache", *options)
        cached, rendered = report(*options)
        assert cached == fresh and rendered == {*runs, running}
    text = example_config_path.read_text()
    example_config_path.write_text(text.replace("EUR = 1.08", "EUR = 1.11"))
    assert _same(report) == {*runs, running}  # the rates a price is converted with


def test_a_segment_cut_short_is_not_used(example_config_path, example_config, report, fmt):
    rng = random.Random(3)
    with open_store(example_config.storage.database) as store:
        runs = [_crawl(store, day, rng, range(40)) for day in (1, 2)]
        _judge(store, _models(example_config))
    fresh, _ = report("--no-cache")
    assert report()[0] == fresh
    kept = sorted((example_config_path.parent / "cache" / "prices").glob(f"*.{fmt}"))
    assert kept and {path.with_suffix(".idx").is_file() for path in kept} == {True}
    biggest = max(kept, key=lambda path: path.stat().st_size)
    biggest.write_bytes(biggest.read_bytes()[:-7])  # a write cut short
    cached, rendered = report()
    assert cached == fresh and len(rendered) == 1 and rendered <= set(runs)


def test_a_cache_that_cannot_be_written_leaves_the_report_whole(
    example_config_path, example_config, report, capsys
):
    rng = random.Random(4)
    with open_store(example_config.storage.database) as store:
        runs = [_crawl(store, day, rng, range(40)) for day in (1, 2)]
        _judge(store, _models(example_config))
    (example_config_path.parent / "cache").write_text("a file where the cache would go\n")
    fresh, _ = report("--no-cache")
    capsys.readouterr()
    cached, rendered = report()
    assert cached == fresh and rendered == set(runs)
    error = capsys.readouterr().err
    assert "price history cache" in error and "the report is whole" in error
    assert error.count("price history cache") == 1  # said once


def test_the_history_cut_between_processes_goes_through_the_cache(
    example_config_path, example_config, tmp_path, monkeypatch, own_threads_only, fmt
):
    from reports.pricing import parts

    rng = random.Random(9)
    with open_store(example_config.storage.database) as store:
        for day in (1, 2, 3):
            _crawl(store, day, rng, range(90))
        _judge(store, _models(example_config))
    monkeypatch.setattr(parts, "PARALLEL_MIN_LISTINGS", 1)

    def written(workers: str, *options: str) -> bytes:
        monkeypatch.setenv("GRAYHOUND_WORKERS", workers)
        out = tmp_path / f"prices-{workers}.{fmt}"
        argv = ["--config", str(example_config_path), "prices", "--format", fmt, *options]
        assert main([*argv, "--out", str(out), "--force"]) == 0
        return out.read_bytes()

    whole = written("1", "--no-cache")
    for _ in range(2):  # the cache written by two processes, then read by them
        assert written("2") == whole
    assert written("1") == whole
    for _ in range(2):  # four: the text after a model's history joined after three parts
        assert written("4") == whole


def test_a_model_cut_before_its_newest_run_goes_through_the_cache(
    example_config_path, example_config, monkeypatch, own_threads_only, report
):
    """A model whose history two processes write through the cache (its figures and past
    runs in one, its newest run in the other): the same bytes as rendered afresh, before and
    after a day's crawl, and the cache they leave, read by one process, renders nothing (the
    snapshot saved once, by the first piece; each piece's segments kept)."""
    from reports.pricing import parts

    rng = random.Random(13)
    models = _models(example_config)
    with open_store(example_config.storage.database) as store:
        runs = [_crawl(store, day, rng, range(80)) for day in (1, 2)]
        _judge(store, models)
    assert report()[1] == set(runs)  # the cache written by one process
    monkeypatch.setattr(parts, "PARALLEL_MIN_LISTINGS", 1)
    cut: list[int] = []  # the model to cut: all the work is its own, half before its newest run
    real_costs, real_plan = parts.kept_costs, parts._kept_plan

    def costs(*args):
        return [(1.0, 1.0) if at == cut[-1] else (0.0, 0.0) for at in range(len(real_costs(*args)))]

    plans = []
    monkeypatch.setattr(parts, "kept_costs", costs)
    monkeypatch.setattr(
        parts, "_kept_plan", lambda *args: plans.append(real_plan(*args)) or plans[-1]
    )

    def in_two(*options: str) -> tuple[bytes, set[int]]:
        monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
        try:
            return report(*options)
        finally:
            monkeypatch.setenv("GRAYHOUND_WORKERS", "1")

    for day, model in enumerate((0, 5, len(models) - 1), start=3):
        cut.append(model)
        with open_store(example_config.storage.database) as store:
            runs.append(_crawl(store, day, rng, range(day, 80 + day)))
            _judge(store, models)
        fresh, _ = report("--no-cache")
        plans.clear()
        cached, rendered = in_two()  # the cache written by the processes of the day before
        (plan,) = plans
        first, second = plan.parts
        assert first[-1] == parts.Piece(model, None, runs[-2]), plan.parts
        assert second[0] == parts.Piece(model, runs[-2], None), plan.parts
        # this process (the first part) rendered the newest run of the models before, and
        # copied the cut model's past runs (the other process had not replaced its snapshot)
        assert cached == fresh and rendered == ({runs[-1]} if model else set())
        assert in_two() == (fresh, set())
        assert report() == (fresh, set())  # every run's segment kept, the snapshot saved


def test_segments_unused_for_a_week_are_removed(tmp_path):
    cache = historycache.HistoryCache(tmp_path, "USD", {}, "new", [])
    old, recent = tmp_path / f"{'a' * 64}.csv", tmp_path / f"{'b' * 64}.idx"
    half, other = tmp_path / f".part-{'c' * 64}.1", tmp_path / "notes.txt"
    for path in (old, recent, half, other):
        path.write_text("x")
    week = time.time() - 8 * 86_400
    for path in (old, half, other):
        os.utime(path, (week, week))
    cache.prune()
    assert sorted(path.name for path in tmp_path.iterdir()) == [recent.name, other.name]
