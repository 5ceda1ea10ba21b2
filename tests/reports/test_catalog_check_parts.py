"""`grayhound catalog check` over a large store in parts on every CPU (issue 19, round 15):
ranges of listing ids read by forked workers give the same bytes as one process, and every
part reads the store as it was when the check began."""

from __future__ import annotations

import json
import sqlite3

import pytest

from benchmarks import store_scale
from grayhound.cli import main
from tests.grayhound.test_catalog_check_stored import _every_title_read
from tests.reports.conftest import crawl_commits_first, parts_counted

LISTINGS = 400


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    return _judged(tmp_path_factory.mktemp("catalog-check-parts"))


def _judged(directory):
    """A judged store whose unmatched titles (devices and other goods, read again since the
    detection kept no reading of them) lie on both sides of every part's boundary."""
    built = store_scale.build(directory, LISTINGS)
    assert main(["--config", str(built["config"]), "detect"]) == 0
    with sqlite3.connect(directory / "grayhound.db") as conn:
        conn.execute(
            "UPDATE listings SET title = 'Zorblax Nova 9 Ultra 256GB lot ' || id WHERE id % 37 = 0"
        )
        conn.execute("UPDATE listings SET title = 'Zorblax Nova 12 Phone' WHERE id % 41 = 0")
        conn.execute("UPDATE listings SET title = 'USB-C charging cable 2m' WHERE id % 43 = 0")
    return directory, built["config"]


def _check(config, tmp_path, fmt: str) -> str:
    out = tmp_path / f"check.{fmt}"
    args = ["--config", str(config), "catalog", "check", "--format", fmt, "--out", str(out)]
    assert main([*args, "--force"]) == 0
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["table", "json"])
@pytest.mark.usefixtures("own_threads_only")
def test_a_check_written_in_parts_on_several_cpus_is_the_same_bytes(
    judged, tmp_path, monkeypatch, fmt
):
    import reports.catalogcheck
    import reports.parallel

    directory, config = judged
    monkeypatch.setattr(reports.parallel, "PARALLEL_MIN_IDS", 10)
    parts_written = parts_counted(monkeypatch, reports.catalogcheck)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    whole = _check(config, tmp_path, fmt)
    for workers in ("2", "3"):
        monkeypatch.setenv("GRAYHOUND_WORKERS", workers)
        assert _check(config, tmp_path, fmt) == whole
    assert parts_written == [1, 2, 3]
    if fmt == "json":
        data = json.loads(whole)
        assert data == _every_title_read(config)
        assert data["counts"]["unmatched_devices"] > 0 and data["unmatched_groups"]
        assert data["counts"]["unmatched_other"] > 0
        assert whole == json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    else:  # the table's first rows cross the parts' boundaries: the first 200 titles
        assert f"{LISTINGS} titles: " in whole and "… 200 more (all in --format json)" in whole
        assert "Zorblax Nova" in whole.split("grouped by the tokens they share:")[1]


@pytest.mark.usefixtures("own_threads_only")
def test_a_crawl_committing_during_a_check_in_parts_is_not_in_it(tmp_path, monkeypatch):
    """Every part reads the store as it was when the check began, and a crawl that commits
    while the check is written is not kept waiting for it."""
    import grayhound.commands.catalog as command
    import reports.catalogcheck
    import reports.parallel

    (tmp_path / "store").mkdir()
    directory, config = _judged(tmp_path / "store")  # its own: the crawl moves every title
    monkeypatch.setattr(reports.parallel, "PARALLEL_MIN_IDS", 10)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    parts_written = parts_counted(monkeypatch, reports.catalogcheck)
    before = _check(config, tmp_path, "json")
    moved = ["UPDATE listings SET title = 'Moved Gadget 77 Max'"]
    real = command._stored_checks
    crawl = crawl_commits_first(real, directory / "grayhound.db", moved, tmp_path / "committed")
    monkeypatch.setattr(command, "_stored_checks", crawl)
    assert _check(config, tmp_path, "json") == before
    assert crawl.commits == [1] and parts_written == [2, 2]  # a worker read the other part
    monkeypatch.setattr(command, "_stored_checks", real)
    after = json.loads(_check(config, tmp_path, "json"))
    assert {title["title"] for title in after["titles"]} == {"Moved Gadget 77 Max"}
