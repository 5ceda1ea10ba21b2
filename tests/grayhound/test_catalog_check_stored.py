"""`grayhound catalog check` over a stored catalog at scale (issue 19): a title whose reading
`grayhound detect` kept for the same title, brand, config and code is not read again, and
the report is what reading every title gives."""

from __future__ import annotations

import json
import sqlite3

import pytest

from benchmarks import store_scale
from detectors import BrandBook
from detectors.catalogcheck import check_titles
from grayhound.cli import main
from grayhound.config import load_config

LISTINGS = 400


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    directory = tmp_path_factory.mktemp("catalog-check")
    built = store_scale.build(directory, LISTINGS)
    assert main(["--config", str(built["config"]), "detect"]) == 0
    return directory, built["config"]


def _check(config, tmp_path, monkeypatch, fmt="json", keys=None) -> tuple[str, int]:
    """The report `catalog check` writes, and how many titles it read; the reading keys it
    checked are appended to `keys`."""
    import detectors.catalog
    import grayhound.commands.catalog

    real, reads = detectors.catalog.read_title, []
    real_key = grayhound.commands.catalog._key_of

    def counted(*args, **kwargs):
        reads.append(args[1])
        return real(*args, **kwargs)

    def counted_key(key_text):
        if keys is not None:
            keys.append(key_text)
        return real_key(key_text)

    monkeypatch.setattr(detectors.catalog, "read_title", counted)
    monkeypatch.setattr(grayhound.commands.catalog, "_key_of", counted_key)
    out = tmp_path / f"check.{fmt}"
    args = ["--config", str(config), "catalog", "check", "--format", fmt, "--out", str(out)]
    assert main([*args, "--force"]) == 0
    monkeypatch.undo()
    return out.read_text(encoding="utf-8"), len(reads)


def _every_title_read(config) -> dict:
    """What reading every stored title gives (attributes in key order, as the report has)."""
    settings = load_config(config)
    conn = sqlite3.connect(settings.storage.database)
    rows = conn.execute("SELECT id, title, brand FROM listings WHERE title != '' ORDER BY id")
    titles = [(str(i), title, brand) for i, title, brand in rows]
    data = check_titles(titles, BrandBook.from_config(settings)).to_dict()
    for title in data["titles"]:
        title["attributes"] = dict(sorted(title["attributes"].items()))
    return data


def test_titles_detect_read_are_not_read_again(judged, tmp_path, monkeypatch):
    directory, config = judged
    assert main(["--config", str(config), "detect"]) == 0
    keys = []
    text, reads = _check(config, tmp_path, monkeypatch, keys=keys)
    assert reads == 0  # every title's reading was kept by the detection
    assert keys == []  # trusted: nothing queued since, and the config is the detection's
    assert json.loads(text) == _every_title_read(config)
    # the same bytes json.dumps(indent=2) writes: the titles are written by hand
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n"


def test_a_title_changed_since_detect_is_read_again(judged, tmp_path, monkeypatch):
    directory, config = judged
    database = directory / "grayhound.db"
    with sqlite3.connect(database) as conn:  # judged with a category: its kind is read again
        conn.execute("UPDATE listings SET category = 'Phone cases' WHERE id IN (3, 9)")
    assert main(["--config", str(config), "detect"]) == 0
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE listings SET title = 'Google Pixel 8a 128GB' WHERE id = 7")
    text, reads = _check(config, tmp_path, monkeypatch)
    assert reads == 1  # the title changed since the detection
    data = json.loads(text)
    assert data == _every_title_read(config)
    assert {t["id"]: t["title"] for t in data["titles"]}["7"] == "Google Pixel 8a 128GB"
    table, reads = _check(config, tmp_path, monkeypatch, fmt="table")
    assert reads == 1 and f"{LISTINGS} titles: " in table


def test_a_listing_queued_by_a_price_alone_keeps_its_reading(judged, tmp_path, monkeypatch):
    """A change the title's reading does not depend on queues the listing for detection too:
    its kept reading is then checked against its key, and holds."""
    directory, config = judged
    assert main(["--config", str(config), "detect"]) == 0
    with sqlite3.connect(directory / "grayhound.db") as conn:
        conn.execute("UPDATE listings SET price = price + 1 WHERE id IN (2, 5)")
        queued = conn.execute("SELECT COUNT(*) FROM pending_listings").fetchone()[0]
    assert queued == 2
    keys = []
    text, reads = _check(config, tmp_path, monkeypatch, keys=keys)
    assert reads == 0
    assert len(keys) == 2  # the two queued listings' readings, checked against their keys
    assert json.loads(text) == _every_title_read(config)


def test_a_config_changed_since_detect_is_read_with_the_new_config(judged, tmp_path, monkeypatch):
    """Edited and checked before the next detection: every kept reading was made with the old
    catalog, so none is used, and the report is what the new catalog reads."""
    directory, config = judged
    assert main(["--config", str(config), "detect"]) == 0
    before, _ = _check(config, tmp_path, monkeypatch)
    text = config.read_text(encoding="utf-8")
    assert 'model = "Xiaomi 14 Pro"' in text
    edited = directory / "edited.toml"
    edited.write_text(text.replace('model = "Xiaomi 14 Pro"', 'model = "Xiaomi 14 Ultra"'))
    keys = []
    after, reads = _check(edited, tmp_path, monkeypatch, keys=keys)
    assert len(keys) == LISTINGS  # no reading trusted: each checked against its key
    assert reads == LISTINGS  # and none held: every title read again, with the edited catalog
    data = json.loads(after)
    assert data == _every_title_read(edited)
    assert data != json.loads(before)


def _peak(count: int, fmt: str) -> int:
    """Python's peak memory while `write_check` writes `count` matched titles."""
    import os
    import tracemalloc

    from reports.catalogcheck import write_check

    titles = (
        {"id": str(n), "title": f"Poco F6 {n} 256GB", "model": "Poco F6", "reason": "r" * 80,
         "kind": "device", "attributes": {"storage": "256GB", "colour": "black"}}
        for n in range(count)
    )  # fmt: skip
    with open(os.devnull, "w", encoding="utf-8") as nowhere:
        tracemalloc.start()
        write_check(titles, ["Poco F6", "Xiaomi 14"], lambda unmatched: [], fmt, nowhere)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_the_titles_are_not_held(fmt):
    # JSON titles wait in a temporary file, copied out in chunks of a fixed size (both
    # files here are larger than one): ten times the titles, about the same memory
    assert _peak(60_000, fmt) < _peak(6_000, fmt) + 256 * 1024


TEXTS = [
    None, "", "plain", 'quote " and \\ backslash', "tab\tline\nbreak\rcr", "nul\x00here",
    "\x01\x1f\x7f controls", "Müller — ünïcode ✓ 日本語", "\u2028\u2029 separators",
    "emoji 📱", "unknown", " · ",
]  # fmt: skip


def test_the_key_written_in_sql_is_the_key_detection_keeps(store):
    """`Store.title_readings` writes the text of detection's reading key in SQL: on hostile
    titles, conditions, descriptions, summaries, brands and categories, its SHA-256 is the key
    `grayhound detect` computes (else every such title would be read again)."""
    import random

    from grayhound.commands.catalog import _key_of
    from grayhound.detection.listings import _reading_key, facts_of

    rng = random.Random(19)
    store.db.execute("INSERT INTO crawl_runs (id, started_at, status) VALUES (1, 't', 'done')")
    rows = {}
    for listing_id in range(1, 400):
        row = {
            "id": listing_id, "title": rng.choice(TEXTS[2:]), "price": "1", "currency": "USD",
            "condition": rng.choice(TEXTS), "description": rng.choice(TEXTS),
            "summary": rng.choice(TEXTS), "brand": rng.choice(TEXTS),
            "category": rng.choice(TEXTS), "seller_id": None, "seller_name": None,
            "seller_domain": None, "source": "s",
        }  # fmt: skip
        rows[listing_id] = row
        store.db.execute(
            "INSERT INTO listings (id, source, canonical_url, url, title, condition, description,"
            " summary, brand, category, first_seen, last_seen)"
            " VALUES (?, 's', ?, 'u', ?, ?, ?, ?, ?, ?, 't', 't')",
            [listing_id, f"u{listing_id}", row["title"], row["condition"], row["description"],
             row["summary"], row["brand"], row["category"]],
        )  # fmt: skip
        store.db.execute(
            "INSERT INTO listing_state (listing_id, reading_key, reading) VALUES (?, 'k', '[]')",
            [listing_id],
        )
    judged_with = 'brands|"catalog"|détecteurs'
    seen = 0
    for listing_id, *_, key_text in store.title_readings(judged_with):
        expected = _reading_key(facts_of(rows[listing_id]), judged_with)
        assert _key_of(key_text) == expected, rows[listing_id]
        seen += 1
    assert seen == 399
