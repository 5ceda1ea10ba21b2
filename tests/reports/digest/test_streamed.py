"""The digest streams (issue 19): built in one pass over the store into a spool on disk, it is
the same digest the in-memory build makes from every row at once, and the Python memory it
takes does not grow with the number of cases."""

from __future__ import annotations

import gc
import io
import tracemalloc

from grayhound.pipeline import produce_digest
from grayhound.triage import flagged_rows
from reports.digest.build import DigestInputs, build_digest, iso
from reports.digest.render import render, write
from tests.reports.digest.conftest import World

SELLERS = ("XiaomiWorld", "Mi-Offical-Shop", "GadgetHub")


def many(world, count: int, hours: float = 0, price: float = 449.0) -> None:
    """`count` flagged listings spread over three sellers, all different in price and score."""
    run = world.run(hours, {"bazaar": world.figures(count)})
    findings = []
    for number in range(1, count + 1):
        listing = world.listing(
            run,
            hours,
            number,
            title=f"Xiaomi 14 Pro {number}",
            price=f"{price + number % 97:.2f}",
            seller=SELLERS[number % 3],
        )
        verdict, flags = [
            ("impersonation", ["impersonation", "price_low"]),
            ("suspicious", ["price_low"]),
            ("clean", ["unauthorized_seller"]),
        ][number % 3]
        score = round(0.3 + (number % 50) / 100, 2)
        findings.append(world.finding(listing, verdict, score, flags, msrp=999.0))
    world.judge(run, hours + 0.5, *findings)


def in_memory(store, config, now) -> object:
    """The digest as `build_digest` makes it from every row at once (what it was before)."""
    created_at = iso(now)
    previous = store.previous_digest(created_at)
    rows = flagged_rows(store)
    subjects = {(row["subject_kind"], row["subject_id"]): row for row in rows}
    wanted = {row["subject_id"] for row in rows if row["subject_kind"] == "listing"}
    runs = [run for run in store.runs() if run["status"] != "running"][-2:][::-1]
    return build_digest(
        DigestInputs(
            now=created_at,
            reference=previous["created_at"],
            rows=rows,
            cases=store.ensure_cases(subjects, created_at),
            shown=store.shown_evidence(previous["created_at"]),
            captures=store.latest_listing_captures(wanted),
            runs=runs,
            source_stats={run["id"]: store.source_stats(run["id"]) for run in runs},
            failures=store.failures(runs[0]["id"]) if runs else [],
            previous_digest_at=previous["created_at"],
            sellers={row["id"]: row for row in store.seller_rows()},
            networks=store.networks(),
        )
    )


def test_the_streamed_digest_is_the_in_memory_one_in_every_format(world, example_config):
    many(world, 45)
    produce_digest(world.store, example_config, world.at(1))  # remembered: the next compares
    many(world, 60, hours=24, price=399.0)  # prices moved, 15 listings new
    streamed = produce_digest(world.store, example_config, world.at(25), record=False)
    built = in_memory(world.store, example_config, world.at(25))
    assert {g: len(streamed.items[g]) for g in streamed.items} == {
        "new": 15,
        "changed": 45,
        "still_open": 0,
    }
    for fmt in ("json", "csv", "html", "md"):
        assert render(streamed, fmt) == render(built, fmt), fmt


def python_peak(world, config, count: int) -> int:
    many(world, count)
    # the same collector state at every count: otherwise garbage from earlier tests decides
    # when the collector runs, and a peak held uncollected cycles (a flaky 180 kB, seen)
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        digest = produce_digest(world.store, config, world.at(1))
        for fmt in ("json", "csv", "html"):
            write(digest, fmt, _Sink())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class _Sink(io.TextIOBase):
    """Counts what is written and keeps none of it."""

    written = 0

    def write(self, text: str) -> int:
        self.written += len(text)
        return len(text)


def test_the_digest_holds_no_more_python_memory_for_ten_times_the_cases(
    tmp_path, example_config, monkeypatch
):
    """Measured with tracemalloc (Python's own allocations: deterministic, unlike timing or
    RSS); what a pass holds at most is a batch of rows, made small here so the bound shows."""
    from grayhound.store import digestcases, digestlines, open_store

    monkeypatch.setattr(digestcases, "BATCH", 20)
    monkeypatch.setattr(digestlines, "BATCH", 20)
    monkeypatch.setattr(digestcases, "DECODED", 20)
    peaks = []
    for count in (30, 90, 900):  # the first warms up: templates compiled, modules imported
        with open_store(tmp_path / f"{count}.db") as store:
            peaks.append(python_peak(World(store), example_config, count))
    _, small, large = peaks
    # held as items, 810 more cases took megabytes (~2.5 kB each); streamed, a few rows' worth
    print(small, large)
    assert large - small < 100_000, (small, large)
