"""`grayhound catalog check`: which model each title matches and why, unmatched titles grouped,
catalog models never matched; titles from a file, stdin or the store."""

from __future__ import annotations

import io
import json

from grayhound.cli import main
from grayhound.models import Listing

TITLES = [
    "Xiaomi 14 Pro 12/512GB Black",
    "Xiaomi 15 Ultra 16/512GB",
    "Xiaomi 15 Ultra 16/1TB Silver",
    "Case for Xiaomi 14 Pro",
    "Galaxy S24 Ultra \x1b[31m256GB",
]


def test_titles_from_a_file_as_json(example_config_path, tmp_path, capsys):
    titles = tmp_path / "titles.txt"
    titles.write_text("\n".join(TITLES) + "\n\n")
    code = main(
        [
            "--config",
            str(example_config_path),
            "catalog",
            "check",
            "--titles",
            str(titles),
            "--format",
            "json",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["title"]: r for r in data["titles"]}
    assert rows["Xiaomi 14 Pro 12/512GB Black"]["model"] == "Xiaomi 14 Pro"
    assert "'xiaomi 14 pro'" in rows["Xiaomi 14 Pro 12/512GB Black"]["reason"]
    assert rows["Xiaomi 14 Pro 12/512GB Black"]["attributes"]["storage"] == "512GB"
    assert rows["Case for Xiaomi 14 Pro"]["kind"] == "accessory"
    groups = {g["tokens"]: g["count"] for g in data["unmatched_groups"]}
    assert groups == {"xiaomi 15 ultra": 2}
    assert "Xiaomi 14 Pro" not in data["never_matched"] and "Poco F6" in data["never_matched"]
    assert data["counts"]["titles"] == 5 and data["counts"]["matched"] == 3


def test_titles_from_stdin_as_a_table_show_control_characters_not_obey_them(
    example_config_path, monkeypatch, capsys
):
    hostile = [
        "Poco F6 \x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\ 512GB",
        "Mi \u202eetots",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(TITLES + hostile)))
    assert main(["--config", str(example_config_path), "catalog", "check", "--titles", "-"]) == 0
    out = capsys.readouterr().out
    # escape sequences removed whole (shared terminal_text), not half-shown as '?[31m'
    assert "\x1b" not in out and "[31m" not in out and "evil.example" not in out
    assert "Galaxy S24 Ultra 256GB" in out and "Mi ⟨U+202E⟩etots" in out
    assert "devices that matched no model" in out and "'xiaomi 15 ultra'" in out
    assert "catalog models no title matched:" in out


def test_stored_listings_are_checked_by_default(example_config_path, example_config, capsys):
    from grayhound.store import open_store

    with open_store(example_config.storage.database) as store:
        run = store.start_run(["bazaar"], "2024-05-01T00:00:00Z")
        for i, title in enumerate(TITLES[:2]):
            listing = Listing(url=f"http://127.0.0.1/item/{i}", title=title, price="10.00")
            store.record_listing(run, "bazaar", listing, None, "2024-05-01T00:00:00Z")
    assert main(["--config", str(example_config_path), "catalog", "check", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(r["id"] is not None, r["model"]) for r in data["titles"]] == [
        (True, "Xiaomi 14 Pro"),
        (True, None),
    ]


def test_a_missing_titles_file_is_one_line_and_exit_2(example_config_path, tmp_path, capsys):
    code = main(
        [
            "--config",
            str(example_config_path),
            "catalog",
            "check",
            "--titles",
            str(tmp_path / "none.txt"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "none.txt: cannot read titles" in err


def test_titles_given_are_checked_in_one_process_whatever_the_worker_setting(
    example_config_path, monkeypatch, capsys
):
    """`--titles` never forks: a setting only the store's check in parts reads is not asked."""
    monkeypatch.setenv("GRAYHOUND_WORKERS", "0")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(TITLES)))
    assert main(["--config", str(example_config_path), "catalog", "check", "--titles", "-"]) == 0
    assert "5 titles: 3 matched a catalog model" in capsys.readouterr().out
