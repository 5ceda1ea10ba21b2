"""`review list --format json` written in parts of its risk order by forked workers (issue 19,
round 9): the same bytes as one process, whatever the text of the cases (quotes, line breaks,
control characters, escape sequences, `</script>`, emoji, formulas) and wherever the cuts
fall (ties of risk, cases no longer flagged, several states)."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from pathlib import Path

import pytest

from benchmarks import store_scale
from grayhound.cli import main
from tests.reports.conftest import crawl_commits_first, parts_counted

HOSTILE = [
    'quote " and \\ backslash', "line\nbreak\r\ttab", "nul\x00 bell\x07 del\x7f c1\x85",
    "\x1b[2J\x1b]0;title\x07 escape", "</script><script>alert(1)</script>", "emoji 📱🔥",
    "=HYPERLINK(\"http://evil.example\")", "\u2028separator\u200binvisible\u202e", "",
    "Müller — ünïcode ✓", "%s %d %% {0} {}", "unit\x1fseparator", "lone\rreturn",
]  # fmt: skip


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    directory = tmp_path_factory.mktemp("caselist")
    config = str(store_scale.build(directory, 2000)["config"])
    assert main(["--config", config, "detect"]) == 0
    assert main(["--config", config, "review", "list", "--format", "json"]) == 0  # opened
    db = sqlite3.connect(directory / "grayhound.db")
    listings = [row[0] for row in db.execute("SELECT id FROM listings ORDER BY id")]
    for index, listing_id in enumerate(listings[::3]):
        text = HOSTILE[index % len(HOSTILE)]
        db.execute(
            "UPDATE listings SET title = ?, seller_name = ? WHERE id = ?",
            [text, HOSTILE[(index + 3) % len(HOSTILE)], listing_id],
        )
    db.execute("UPDATE sellers SET name = ? WHERE id % 2 = 0", [HOSTILE[3]])
    db.execute("UPDATE findings SET score = 0.5 WHERE id % 4 = 0 AND is_current = 1")  # ties
    db.execute(  # no longer flagged: risk 0, at the end, by case id
        "UPDATE findings SET verdict = 'clean', flags = '[]' WHERE id % 11 = 0 AND is_current = 1"
    )
    db.execute("UPDATE cases SET state = 'confirmed' WHERE id % 5 = 0")
    db.execute("UPDATE cases SET state = 'dismissed' WHERE id % 7 = 0")
    db.execute("UPDATE cases SET state = 'takedown-requested' WHERE id % 13 = 0")
    db.commit()
    db.close()
    return config


def _listed(config: str, capsys, args: list[str]) -> str:
    assert main(["--config", config, "review", "list", "--format", "json", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.usefixtures("own_threads_only")
@pytest.mark.parametrize("state", ["active", "all", "dismissed"])
def test_a_list_written_in_parts_is_the_same_bytes(config, capsys, monkeypatch, state):
    from reports import caselist

    monkeypatch.setattr(caselist, "PARALLEL_MIN_CASES", 10)
    cuts = parts_counted(monkeypatch, caselist)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    whole = _listed(config, capsys, ["--state", state])
    rows = json.loads(whole)
    assert len(rows) > 100
    assert rows == sorted(rows, key=lambda row: (-(row["risk"] or 0), row["case_id"]))
    assert "\x1b" not in whole and "\\u001b" in whole and "📱" in whole
    assert {row["subject"] for row in rows} & set(HOSTILE)
    for workers in ("2", "3"):
        monkeypatch.setenv("GRAYHOUND_WORKERS", workers)
        assert _listed(config, capsys, ["--state", state]) == whole
    assert cuts == [2, 3]  # really cut: two parts, then three


@pytest.mark.usefixtures("own_threads_only")
def test_a_list_in_parts_into_a_file_is_the_same_bytes(config, capsys, monkeypatch, tmp_path):
    """Into a file (the parts copied inside the kernel) as into a pipe; --brand and --flag
    keep exactly the matching rows."""
    from reports import caselist

    monkeypatch.setattr(caselist, "PARALLEL_MIN_CASES", 10)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    whole = _listed(config, capsys, ["--state", "all"])
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    path = tmp_path / "cases.json"
    with open(path, "w", encoding="utf-8") as out:
        monkeypatch.setattr(sys, "stdout", out)
        assert (
            main(["--config", config, "review", "list", "--state", "all", "--format", "json"]) == 0
        )
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == whole
    rows = json.loads(whole)
    brand, flag = rows[0]["brand"], rows[0]["flags"][0]
    narrowed = json.loads(
        _listed(config, capsys, ["--state", "all", "--brand", brand, "--flag", flag])
    )
    assert narrowed == [r for r in rows if r["brand"] == brand and flag in r["flags"]]


@pytest.mark.usefixtures("own_threads_only")
def test_a_crawl_committing_during_a_list_in_parts_is_not_in_it(
    config, capsys, monkeypatch, tmp_path
):
    """Every part is the store as it was when the list began (as one statement read it
    before), and a crawl that commits meanwhile is not kept waiting for it."""
    from reports import caselist

    monkeypatch.setattr(caselist, "PARALLEL_MIN_CASES", 10)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    before = _listed(config, capsys, ["--state", "all"])
    real, database = caselist._write_rows, str(Path(config).parent / "grayhound.db")
    moved = ["UPDATE listings SET title = 'moved'"]
    crawl = crawl_commits_first(real, database, moved, tmp_path / "committed")
    monkeypatch.setattr(caselist, "_write_rows", crawl)
    assert _listed(config, capsys, ["--state", "all"]) == before
    assert crawl.commits == [1]
    monkeypatch.setattr(caselist, "_write_rows", real)
    assert '"moved"' in _listed(config, capsys, ["--state", "all"])


def _table_of(rows: list[dict]) -> str:
    """The table `review list` printed before it was read once and spooled (two passes over
    the cases as dicts): each column as wide as its widest cell, three cut to a width."""
    from grayhound.text import terminal_text

    columns = ("case", "state", "verdict", "risk", "kind", "brand", "flags", "subject", "seller")
    widths = {"subject": 44, "seller": 22, "flags": 34}

    def cell(row: dict, column: str) -> str:
        value = f"#{row['case_id']}" if column == "case" else row[column]
        if column == "risk":
            value = "—" if value is None else f"{value:.2f}"
        elif isinstance(value, list):
            value = ",".join(value)
        return terminal_text("—" if value is None else value, widths.get(column))

    lines = [[column.upper() for column in columns]]
    lines += [[cell(row, column) for column in columns] for row in rows]
    sizes = [max(len(line[at]) for line in lines) for at in range(len(columns))]
    return "".join(
        "  ".join(text.ljust(size) for text, size in zip(line, sizes, strict=True)).rstrip() + "\n"
        for line in lines
    )


@pytest.mark.usefixtures("own_threads_only")
@pytest.mark.parametrize("state", ["active", "all", "dismissed"])
def test_the_table_is_read_once_in_parts_and_is_what_two_passes_printed(
    config, capsys, monkeypatch, state
):
    """The default table, read in parts on every CPU and spooled, is the same bytes in one
    process or several, and what sizing every cell then printing them again gave; its cells
    carry no control character of the hostile titles and names."""
    from reports import caselist

    monkeypatch.setattr(caselist, "PARALLEL_MIN_CASES", 10)
    cuts = parts_counted(monkeypatch, caselist)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "1")
    rows = json.loads(_listed(config, capsys, ["--state", state]))
    assert main(["--config", config, "review", "list", "--state", state]) == 0
    table = capsys.readouterr().out
    assert table == _table_of(rows) and len(table.splitlines()) == len(rows) + 1 > 100
    assert "\x1b" not in table and "\x07" not in table and "…" in table
    for workers in ("2", "3"):
        monkeypatch.setenv("GRAYHOUND_WORKERS", workers)
        assert main(["--config", config, "review", "list", "--state", state]) == 0
        assert capsys.readouterr().out == table
    assert cuts == [1, 2, 2, 3, 3]  # padded in one range, then read and padded in parts
    brand, flag = rows[0]["brand"], rows[0]["flags"][0]
    args = ["--state", state, "--brand", brand, "--flag", flag]
    assert main(["--config", config, "review", "list", *args]) == 0
    narrowed = [r for r in rows if r["brand"] == brand and flag in r["flags"]]
    assert capsys.readouterr().out == _table_of(narrowed)
    assert main(["--config", config, "review", "list", "--state", "all", "--brand", "none"]) == 0
    assert capsys.readouterr().out == "no cases\n"


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 16])
def test_the_spool_is_padded_in_whole_lines_whatever_the_parts(tmp_path, monkeypatch, chunk):
    """The table's spool cut into byte ranges: every range begins at a line's start, together
    they are the file, and padding them one by one gives what padding the whole file gives;
    with lines longer than what is read at a time, multi-byte characters across the reads,
    fewer lines than parts, and an empty spool."""
    from reports import caselist

    monkeypatch.setattr(caselist, "CHUNK", chunk)
    cells = ["#12", "ünïcode ✓", "📱🔥" * 30, "", "x" * 300, "a b", "—", "日本語テキスト"]
    for count in (0, 1, 2, 5, 200):
        lines = [
            caselist._CELL.join([cells[(i + k) % len(cells)] for k in range(3)]) + "\n"
            for i in range(count)
        ]
        path = tmp_path / f"spool-{count}"
        path.write_bytes("".join(lines).encode())
        line = "{:<5}  {:<301}  {:<60}"
        want = "".join(
            line.format(*text[:-1].split(caselist._CELL)).rstrip() + "\n" for text in lines
        )
        data = path.read_bytes()
        with path.open("rb") as spool:
            for parts in (1, 2, 3, 7):
                bounds = caselist._line_bounds(spool.fileno(), parts)
                assert len(bounds) == parts and bounds[0][0] == 0
                assert bounds[-1][1] == len(data)
                for (_, end), (start, _) in zip(bounds, bounds[1:], strict=False):
                    assert end == start and (start == 0 or data[start - 1 : start] == b"\n")
                out = io.StringIO()
                for bound in bounds:
                    caselist._pad_lines(spool.fileno(), line, bound, out)
                assert out.getvalue() == want


def test_a_bad_worker_setting_is_said_before_any_line_of_a_narrowed_table(
    config, capsys, monkeypatch
):
    """A narrowed table is read in one process but padded in parts when long: a bad
    GRAYHOUND_WORKERS is named, exit 2, and not one line of the table is written first."""
    from reports import caselist

    monkeypatch.setattr(caselist, "PARALLEL_MIN_CASES", 10)
    rows = json.loads(_listed(config, capsys, ["--state", "all"]))
    brand = rows[0]["brand"]
    monkeypatch.setenv("GRAYHOUND_WORKERS", "two")
    assert main(["--config", config, "review", "list", "--state", "all", "--brand", brand]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "GRAYHOUND_WORKERS='two'" in err
