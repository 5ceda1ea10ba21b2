"""The daily digest's work is what changed (issue 19, round 2): a day on which one listing
moved writes one row of history and compares one case's evidence, whatever the number of open
cases; what the digests showed stays answerable for any earlier point; a store whose record
of what was shown is rebuilt from that history gives the same digest."""

from __future__ import annotations

from grayhound.pipeline import make_daily_book, produce_digest
from grayhound.store import digestcases
from reports.digest import build
from reports.digest.render import render
from tests.reports.digest.test_streamed import SELLERS, many


def history_rows(store) -> int:
    return store.db.execute("SELECT COUNT(*) FROM digest_items").fetchone()[0]


def move_one(world, hours: float, price: str, number: int = 7) -> None:
    """Listing `number` of `many` seen again at another price, judged as before."""
    run = world.run(hours, {"bazaar": world.figures(1)})
    listing = world.listing(
        run, hours, number, title=f"Xiaomi 14 Pro {number}", price=price,
        seller=SELLERS[number % 3],
    )  # fmt: skip
    score = round(0.3 + (number % 50) / 100, 2)
    finding = world.finding(listing, "suspicious", score, ["price_low"], msrp=999.0)
    world.judge(run, hours + 0.5, finding)


def compared(monkeypatch) -> list:
    """Every evidence comparison the digest makes from now on."""
    calls = []
    original = build.evidence_changes

    def counting(old, new, *args):
        calls.append(new)
        return original(old, new, *args)

    monkeypatch.setattr(build, "evidence_changes", counting)
    return calls


def test_a_day_with_one_change_writes_and_compares_one_case(
    config_world, example_config, monkeypatch
):
    # the comparisons counted in this process: the daily digest decides aside where it can
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    world = config_world
    many(world, 45)  # listing 7 is number 7 % 3 == 1: suspicious, price_low
    first = produce_digest(world.store, example_config, world.at(1))
    make_daily_book(example_config, first, lambda _: None)  # as the commands do once it is written
    assert history_rows(world.store) == 45
    move_one(world, 24, "399.00")
    calls = compared(monkeypatch)
    digest = produce_digest(world.store, example_config, world.at(25))
    render(digest, "html")
    # before: every open case was compared and written again each day (45 and 45 more rows)
    assert len(calls) == 1
    assert history_rows(world.store) == 46
    (changed,) = digest.items["changed"]
    assert changed["changes"] == ["price 456.00 → 399.00 USD (-12%)"]
    assert digest.counts["groups"] == {"new": 0, "changed": 1, "still_open": 44}

    calls.clear()  # a day with nothing new: nothing compared, nothing written
    nothing = produce_digest(world.store, example_config, world.at(49))
    assert (len(calls), history_rows(world.store)) == (0, 46)
    assert nothing.counts["groups"] == {"new": 0, "changed": 0, "still_open": 45}


def test_changes_are_against_what_was_last_shown_and_history_answers_any_point(
    world, example_config
):
    many(world, 45)
    produce_digest(world.store, example_config, world.at(1))
    move_one(world, 24, "399.00")
    produce_digest(world.store, example_config, world.at(25))
    produce_digest(world.store, example_config, world.at(49))  # unchanged: not written again
    move_one(world, 72, "350.00")
    digest = produce_digest(world.store, example_config, world.at(73), record=False)
    (changed,) = digest.items["changed"]
    assert changed["changes"] == ["price 399.00 → 350.00 USD (-12%)"]
    # against the first digest (history, not the record of the last), the move is from 456
    week = produce_digest(world.store, example_config, world.at(73), since="3d", record=False)
    (changed,) = week.items["changed"]
    assert changed["changes"] == ["price 456.00 → 350.00 USD (-23%)"]
    assert week.counts["groups"] == {"new": 0, "changed": 1, "still_open": 44}


def test_the_record_rebuilt_from_history_gives_the_same_digest(world, example_config):
    """What migration 0012 does on a store of earlier digests: `digest_shown` from the
    newest `digest_items` row of each case."""
    many(world, 45)
    produce_digest(world.store, example_config, world.at(1))
    move_one(world, 24, "399.00")
    produce_digest(world.store, example_config, world.at(25))
    move_one(world, 48, "350.00", number=8)
    expected = render(
        produce_digest(world.store, example_config, world.at(49), record=False), "json"
    )
    world.store.db.execute("DELETE FROM digest_shown")
    digestcases.create_schema(world.store.db)
    digestcases.create_schema(world.store.db)  # again: idempotent
    assert world.store.db.execute("SELECT COUNT(*) FROM digest_shown").fetchone()[0] == 45
    again = render(produce_digest(world.store, example_config, world.at(49), record=False), "json")
    assert again == expected


def test_a_digest_recorded_after_a_newer_one_keeps_what_it_showed(world, example_config):
    """`grayhound run` dates its digest when the run started; a digest made by hand during its
    crawl is dated later but recorded first. The run's digest is then recorded in full as
    history (what it showed stays answerable) and the newer digest's record stays current."""
    many(world, 45)
    produce_digest(world.store, example_config, world.at(1))
    move_one(world, 24, "399.00")
    produce_digest(world.store, example_config, world.at(30))  # by hand, during the crawl
    current = world.store.db.execute("SELECT case_id, digest_id FROM digest_shown").fetchall()
    late = produce_digest(world.store, example_config, world.at(25))  # the run's, recorded later
    assert late.counts["groups"] == {"new": 0, "changed": 1, "still_open": 44}
    assert history_rows(world.store) == 45 + 1 + 45  # before: 45 + 1 + 0, its showing lost
    after = world.store.db.execute("SELECT case_id, digest_id FROM digest_shown").fetchall()
    assert after == current
    # against the moment just after the run's digest, the moved price was already shown
    since = world.at(26).isoformat()
    digest = produce_digest(world.store, example_config, world.at(49), since=since, record=False)
    assert digest.counts["groups"] == {"new": 0, "changed": 0, "still_open": 45}


def test_a_store_in_a_folder_named_with_uri_characters_is_read(tmp_path, example_config):
    """The digest reads the store attached by URI: a `#`, `?` or `%` in the path stays part of
    the path (before, SQLite cut the URI there and attached an empty database)."""
    from grayhound.store import open_store

    folder = tmp_path / "shop #1?%20"
    folder.mkdir()
    with open_store(folder / "grayhound.db") as store:
        digest = produce_digest(
            store, example_config, build.datetime(2026, 11, 2, tzinfo=build.UTC)
        )
    assert digest.counts["total"] == 0
