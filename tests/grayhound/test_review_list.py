"""`grayhound review list` at scale (issue 19): it streams cases from one sorted SQL read, so
the memory it holds does not grow with the number of cases, and prints what it printed when it
held them all."""

from __future__ import annotations

import json
import sys
import tracemalloc

import pytest

from benchmarks import store_scale
from grayhound.cli import main
from grayhound.config import load_config
from grayhound.store import open_store, utc_now
from grayhound.triage import SHOWN_STATES, STATES, flagged_rows, reopen_changed


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    directory = tmp_path_factory.mktemp("review-list")
    config = str(store_scale.build(directory, 2000)["config"])
    assert main(["--config", config, "detect"]) == 0
    return config


def test_review_list_holds_no_more_than_a_few_cases(store, capsys, monkeypatch, tmp_path):
    """Python's peak while listing ~1,400 cases stays under half of what it prints (the
    whole listing held as one text, as it was before, is all of it; as dicts, more)."""
    assert main(["--config", store, "review", "list", "--format", "json"]) == 0  # cases opened
    listed = json.loads(capsys.readouterr().out)
    with open(tmp_path / "out.json", "w", encoding="utf-8") as out:
        monkeypatch.setattr(sys, "stdout", out)  # printed to a file, not held by the test
        tracemalloc.start()
        try:
            assert main(["--config", store, "review", "list", "--format", "json"]) == 0
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    printed = (tmp_path / "out.json").read_text(encoding="utf-8")
    assert json.loads(printed) == listed and len(listed) > 1000
    assert peak < len(printed) / 2, (peak, len(printed))


def test_the_table_holds_no_more_for_more_cases(store, capsys, monkeypatch, tmp_path):
    """The default table spools its cells and reads them back: Python's peak for every case is
    within a few kilobytes of its peak for a third of them (held as rows, the other two thirds'
    cells alone would be ~150 kB more). In one process: in parts, the parent copies a worker's
    part a megabyte at a time, so a part this small counts whole."""
    from reports import caselist

    monkeypatch.setattr(caselist, "CHUNK", 2048)  # what is written at a time, made small
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    assert main(["--config", store, "review", "list", "--format", "json"]) == 0  # cases opened
    brand = json.loads(capsys.readouterr().out)[0]["brand"]

    def peak(*args: str) -> int:
        with open(tmp_path / "out.txt", "w", encoding="utf-8") as out:
            with monkeypatch.context() as patched:
                patched.setattr(sys, "stdout", out)  # printed to a file, not held by the test
                tracemalloc.start()
                try:
                    assert main(["--config", store, "review", "list", *args]) == 0
                    return tracemalloc.get_traced_memory()[1]
                finally:
                    tracemalloc.stop()

    peak("--brand", brand)  # warmed up: modules imported, statements prepared
    small = peak("--brand", brand)
    third = len((tmp_path / "out.txt").read_text(encoding="utf-8"))
    large = peak()
    printed = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert len(printed.splitlines()) > 1000 and len(printed) > 2 * third
    assert large - small < 40_000, (small, large)


def test_the_listing_is_what_sorting_every_case_gives(store, capsys):
    """Riskiest first, then by case id; --brand and --flag keep exactly the matching rows."""
    assert main(["--config", store, "review", "list", "--state", "all", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == sorted(rows, key=lambda row: (-(row["risk"] or 0), row["case_id"]))
    flag = rows[0]["flags"][0]
    args = ["--state", "all", "--brand", rows[0]["brand"], "--flag", flag, "--format", "json"]
    assert main(["--config", store, "review", "list", *args]) == 0
    narrowed = json.loads(capsys.readouterr().out)
    assert narrowed == [r for r in rows if r["brand"] == rows[0]["brand"] and flag in r["flags"]]
    assert main(["--config", store, "review", "list", "--state", "all"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["CASE", "STATE", "VERDICT"] and len(table) == len(rows) + 1
    assert [line.split()[0] for line in table[1:]] == [f"#{row['case_id']}" for row in rows]


@pytest.mark.parametrize("state", ["active", "all", "open", "dismissed"])
def test_the_listing_is_what_holding_every_case_gave(store, capsys, state):
    """Row for row and field for field what the command printed when it held every case."""
    assert main(["--config", store, "review", "list", "--state", state, "--format", "json"]) == 0
    streamed = json.loads(capsys.readouterr().out)
    config = load_config(store)
    with open_store(config.storage.database) as opened:
        held = held_rows(opened, config, utc_now(), state=state)
    assert streamed == json.loads(json.dumps(held))


def held_rows(
    store,
    config,
    now: str,
    *,
    state: str = "active",
    brand: str | None = None,
    flag: str | None = None,
) -> list[dict]:
    """What `review list` printed before it streamed (grayhound.triage.case_rows until issue
    19's second round): every flagged row and case held, sorted in Python."""
    subjects = {(row["subject_kind"], row["subject_id"]): row for row in flagged_rows(store)}
    reopen_changed(store, subjects, config.digest.reopen_price_change, now)
    wanted = SHOWN_STATES if state == "active" else STATES if state == "all" else (state,)
    rows = []
    for case in store.cases():
        row = subjects.get((case["subject_kind"], case["subject_id"]), {})
        if case["state"] not in wanted or (brand and row.get("brand") != brand):
            continue
        if flag and flag not in (row.get("flags") or ()):
            continue
        rows.append(
            {
                "case_id": case["id"],
                "state": case["state"],
                "kind": case["subject_kind"],
                "subject_id": case["subject_id"],
                "verdict": row.get("verdict"),
                "risk": row.get("score"),
                "brand": row.get("brand"),
                "flags": list(row.get("flags") or ()),
                "subject": row.get("title") or row.get("seller_name") or row.get("subject"),
                "seller": row.get("seller_name"),
                "price": row.get("price"),
                "currency": row.get("currency"),
                "url": row.get("url"),
                "updated_at": case["updated_at"],
            }
        )
    rows.sort(key=lambda r: (-(r["risk"] or 0), r["case_id"]))
    return rows


def test_review_list_json_is_made_terminal_safe_a_chunk_at_a_time():
    """`review list --format json` escapes what `terminal_json` escapes, a chunk at a time,
    with ASCII text (DEL aside) passed through untouched."""
    from grayhound.text import terminal_json
    from reports.caselist import terminal_safe

    texts = ['{"a": "plain"}', '"del\x7fhere"', '"c1\x85 and \u2028 and \u200b"', "ünïcode ✓"]
    for text in [*texts, "".join(texts)]:
        assert terminal_safe(text) == terminal_json(text)
    assert terminal_safe(texts[0]) is texts[0]
