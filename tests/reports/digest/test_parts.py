"""The digest's JSON and CSV written in parts on several cores (issue 19, rounds 7 and 9) are
the bytes one process writes: all the groups cut at once, at risk keys, anywhere in a group or
between two, on hostile text (quotes, commas, line breaks, formulas), and a store that moved
after the digest was decided is not read by the workers."""

from __future__ import annotations

import json
import sqlite3

import pytest

from grayhound.pipeline import produce_digest
from reports import parallel
from reports.digest import parts
from reports.digest.build import GROUPS
from reports.digest.render import render, write
from tests.reports.conftest import crawl_commits_first
from tests.reports.digest.test_lines import hostile_day


@pytest.fixture
def split_everything(monkeypatch, own_threads_only):
    """Every group of two cases or more written in parts; the parts each call asked for."""
    monkeypatch.setattr(parts, "PARALLEL_MIN_ROWS", 2)
    asked: list[int] = []

    def counted(stream, chunks, write, **options):
        asked.append(len(chunks))
        results = parallel.write_parts(stream, chunks, write, **options)
        assert len(results) == len(chunks)
        return results

    monkeypatch.setattr(parts, "write_parts", counted)
    return asked


def three_days(world, example_config) -> None:
    """Hostile listings and sellers over three days: new, changed and still open cases."""
    hostile_day(world, 0)
    produce_digest(world.store, example_config, world.at(1))
    hostile_day(world, 24, shift=1)
    produce_digest(world.store, example_config, world.at(25))
    hostile_day(world, 48, shift=2)
    world.store.db.conn.commit()


def written(world, example_config, fmt: str, workers: int, monkeypatch) -> str:
    monkeypatch.setenv(parallel.WORKERS_ENV, str(workers))
    digest = produce_digest(world.store, example_config, world.at(49), record=False)
    try:
        return render(digest, fmt).replace(digest.created_at, "")
    finally:
        digest.close()


@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize("workers", [2, 3])
def test_a_digest_written_in_parts_is_the_one_process_digest(
    world, example_config, monkeypatch, split_everything, fmt, workers
):
    three_days(world, example_config)
    alone = written(world, example_config, fmt, 1, monkeypatch)
    assert split_everything == []
    in_parts = written(world, example_config, fmt, workers, monkeypatch)
    assert split_everything == [workers]  # one fork for all the groups, every worker used
    assert in_parts == alone
    hostile = {"json": '"Xiaomi \\"14\\" Pro, 256GB"', "csv": '"Xiaomi ""14"" Pro, 256GB"'}
    assert hostile[fmt] in alone  # the world's hostile text is in the parts compared


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_workers_do_not_read_a_store_that_moved_after_the_digest_was_decided(
    world, example_config, monkeypatch, split_everything, fmt
):
    """A crawl committing between the digest's decision and its writing (titles moved):
    the digest still shows what it decided on, written by this process alone."""
    three_days(world, example_config)
    monkeypatch.setenv(parallel.WORKERS_ENV, "2")
    digest = produce_digest(world.store, example_config, world.at(49), record=False)
    try:
        before = render(digest, fmt)
        assert split_everything == [2]
        crawl = sqlite3.connect(world.store.db.execute("PRAGMA database_list").fetchone()[2])
        crawl.execute("UPDATE listings SET title = 'moved ' || title")
        crawl.commit()
        crawl.close()
        assert render(digest, fmt) == before
        assert "moved " not in before
        assert split_everything == [2]  # no parts the second time
    finally:
        digest.close()


@pytest.mark.parametrize("record", [True, False])
def test_a_crawl_may_commit_while_a_digest_is_written(
    world, example_config, monkeypatch, split_everything, record, tmp_path
):
    """Writing a digest takes the store's write lock only until its workers have begun to
    read: a crawl (a detection, a triage in serve) commits meanwhile without waiting. A
    recorded digest (its record commits first) is written by this process alone, from its
    snapshot; one not recorded in parts."""
    three_days(world, example_config)
    monkeypatch.setenv(parallel.WORKERS_ENV, "2")
    path = world.store.db.execute("PRAGMA database_list").fetchone()[2]
    note = ["CREATE TABLE side_note (said TEXT)", "INSERT INTO side_note VALUES ('a crawl')"]
    crawl = crawl_commits_first(parts._json_part, path, note, tmp_path / "committed")
    monkeypatch.setattr(parts, "_json_part", crawl)
    digest = produce_digest(world.store, example_config, world.at(49), record=record)
    try:
        text = render(digest, "json")
    finally:
        digest.close()
    assert crawl.commits == [1]
    assert split_everything == ([] if record else [2])  # the store moved: then one process
    assert json.loads(text)["counts"] == digest.counts


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_cut_anywhere_in_the_groups_writes_the_one_process_digest(
    world, example_config, monkeypatch, split_everything, fmt
):
    """The parts cut at each case of every group in turn (its first included: between two
    groups), and at two cases at once: joined, the one-process text. Written here one part
    after the other (the forks are tested above)."""
    three_days(world, example_config)
    alone = written(world, example_config, fmt, 1, monkeypatch)
    cuts: list[list[int]] = []

    def in_order(stream, chunks, write, started=None):
        started()
        cuts.append(len(chunks))
        return [write(chunk, stream) for chunk in chunks]

    monkeypatch.setattr(parts, "write_parts", in_order)
    digest = produce_digest(world.store, example_config, world.at(49), record=False)
    total = sum(digest.counts["groups"].values())
    digest.close()
    assert total > 4 and min(digest.counts["groups"].values()) > 0
    for points in [[point] for point in range(1, total)] + [[1, total - 1], [2, 3]]:
        monkeypatch.setattr(parts, "cut_points", lambda _total, _parts, p=points: p)
        assert written(world, example_config, fmt, 2, monkeypatch) == alone, points
        assert cuts[-1] == len(points) + 1, points
    assert len(cuts) == total + 1


def test_the_first_part_is_the_smaller():
    """This process's part, the riskiest cases (dearer a case), holds fewer cases than a
    worker's; every case is in one part, no part is empty."""
    assert parts.cut_points(1900, 2) == [900]
    assert parts.cut_points(2900, 3) == [900, 1900]
    assert parts.cut_points(1, 2) == [] and parts.cut_points(3, 4) == [1, 2]


def test_a_cut_at_any_case_leaves_every_case_on_exactly_one_side(world, example_config):
    """Cut at each case's risk key in turn (cases tie in severity, score and ratio: SQLite
    seeks by those and filters by the case id), the two spans hold the group's cases in order,
    each once."""
    from grayhound.store import digestlines

    three_days(world, example_config)
    digest = produce_digest(world.store, example_config, world.at(49), record=False)
    try:
        book, ties = digest.book, 0
        for group, name in enumerate(GROUPS):

            def ids(span, group=group, name=name):
                batches = digestlines.csv_row_pieces(book, group, name, span)
                return [row[0] for batch in batches for row in batch]

            whole = ids(digestlines.WHOLE)
            keys = book.execute(
                "SELECT sev, nscore, rkey, case_id FROM cases_now WHERE grp = ?"
                " ORDER BY sev, nscore, rkey, case_id",
                [group],
            ).fetchall()
            assert [key[3] for key in keys] == whole and len(whole) > 2
            ties += sum(a[:3] == b[:3] for a, b in zip(keys, keys[1:], strict=False))
            for key in keys:
                assert ids((None, tuple(key))) + ids((tuple(key), None)) == whole, key
        assert ties > 0
    finally:
        digest.close()


@pytest.mark.parametrize("record", [True, False])
def test_a_digest_leaves_the_store_as_its_clean_stamp_says(
    example_config, monkeypatch, split_everything, record
):
    """The next command does not check a store grayhound itself left (a 7 GB store's
    `quick_check` costs ~30 s of CPU): the pin's connection, which may write, is closed
    before the book's read-only one, so that the last connection to close (which folds the
    WAL into the database) is not one opened after the store's stamp was written."""
    from pathlib import Path

    from grayhound.store import core, open_store
    from tests.reports.digest.conftest import World

    path = Path(example_config.storage.database)
    with open_store(path) as store:
        three_days(World(store), example_config)
    monkeypatch.setenv(parallel.WORKERS_ENV, "2")
    store = open_store(path)
    digest = produce_digest(store, example_config, World(store).at(49), record=record)
    store.close()  # as `grayhound digest` does: the digest is written after the store is closed
    try:
        assert json.loads(render(digest, "json"))["counts"] == digest.counts
    finally:
        digest.close()
    assert bool(split_everything) is not record  # a digest not recorded: in parts
    assert core._clean_stamp_holds(path)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_json_digest_in_a_file_is_the_text_of_the_digest(
    world, example_config, monkeypatch, split_everything, tmp_path, workers, encoding
):
    """The items go into a UTF-8 file as the bytes SQLite made (`parallel.utf8_buffer`),
    between the text written around them; a file of another encoding gets their text: both
    hold the text the digest renders to a string (hostile text, non-ASCII included)."""
    three_days(world, example_config)
    alone = written(world, example_config, "json", 1, monkeypatch)
    monkeypatch.setenv(parallel.WORKERS_ENV, str(workers))
    digest = produce_digest(world.store, example_config, world.at(49), record=False)
    path = tmp_path / "digest.json"
    try:
        with path.open("w", encoding=encoding, newline="") as stream:
            write(digest, "json", stream)
        text = path.read_text(encoding=encoding).replace(digest.created_at, "")
    finally:
        digest.close()
    assert text == alone
    assert "日本 😀" in alone and '"Xiaomi \\"14\\" Pro, 256GB"' in alone
    assert split_everything == ([] if workers == 1 else [workers])
