"""`--out` never writes over the store, the config or a WARC file; an existing file that is not
an earlier output of the same command needs `--force`; a failed write leaves the old file."""

from __future__ import annotations

import contextlib
import gzip
import io
from pathlib import Path

import pytest

from grayhound.cli import main
from grayhound.models import Listing, Seller
from grayhound.store import open_store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "grayhound" / "example.toml").read_text()
COMMANDS = {  # command → arguments before --out
    "digest": ("digest", "--no-record", "--format", "md"),
    "export": ("export", "listings", "--format", "csv"),
    "prices": ("prices", "--format", "json"),
    "evidence": ("evidence", "export", "--listing", "1"),
    "export sellers": ("export", "sellers", "--format", "csv"),
    "export sellers jsonl": ("export", "sellers", "--format", "jsonl"),
    "catalog check": ("catalog", "check", "--format", "table"),
    "catalog check json": ("catalog", "check", "--format", "json"),
}


def run(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, err.getvalue()


@pytest.fixture
def world(tmp_path) -> Path:
    config = tmp_path / "grayhound.toml"
    config.write_text(EXAMPLE)
    with open_store(tmp_path / "grayhound.db") as store:
        run_id = store.start_run(["bazaar"], "2026-11-20T06:00:00.000Z")
        url = "http://127.0.0.1:8301/item/1.html"
        listing = Listing(url=url, canonical_url=url, is_product=True, title="Xiaomi 14 Pro")
        profile = "http://127.0.0.1:8301/seller/1.html"
        seen = "2026-11-20T06:00:00.000Z"
        store.record_seller(run_id, "bazaar", profile, Seller("Shop", url=profile), seen)
        store.record_listing(run_id, "bazaar", listing, profile, seen)
    warc = tmp_path / "evidence" / "warc" / "run-000001-bazaar-00000.warc.gz"
    warc.parent.mkdir(parents=True)
    warc.write_bytes(gzip.compress(b"WARC/1.1\r\nWARC-Type: warcinfo\r\n\r\n"))
    return config


def _protected(config: Path) -> dict[str, Path]:
    copy = config.parent / "copy-of-store.bin"
    copy.write_bytes((config.parent / "grayhound.db").read_bytes())
    stray_warc = config.parent / "elsewhere.warc.gz"
    stray_warc.write_bytes(
        (config.parent / "evidence/warc/run-000001-bazaar-00000.warc.gz").read_bytes()
    )
    return {
        "config": config,
        "store": config.parent / "grayhound.db",
        "store by another name": copy,
        "warc": config.parent / "evidence/warc/run-000001-bazaar-00000.warc.gz",
        "warc elsewhere": stray_warc,
    }


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_store_the_config_and_warcs_are_never_overwritten(world, command):
    for what, path in _protected(world).items():
        before = path.read_bytes()
        for force in ((), ("--force",)):
            code, err = run("--config", str(world), *COMMANDS[command], "--out", str(path), *force)
            assert code == 2, (what, force, err)
            assert err.count("\n") == 1 and "--out" in err and "refusing" in err, err
            assert path.read_bytes() == before, what


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_nothing_new_is_written_into_the_warc_folder(world, command):
    target = world.parent / "evidence" / "warc" / "x.jsonl"
    code, err = run("--config", str(world), *COMMANDS[command], "--out", str(target), "--force")
    assert code == 2 and "WARC evidence folder" in err, err
    assert not target.exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unrelated_file_needs_force_an_earlier_output_does_not(world, command):
    target = world.parent / "notes.txt"
    target.write_text("my notes\n")
    args = ("--config", str(world), *COMMANDS[command], "--out", str(target))
    code, err = run(*args)
    assert code == 2 and "--force" in err
    assert target.read_text() == "my notes\n"
    assert run(*args, "--force")[0] == 0
    assert target.read_bytes() != b"my notes\n"
    assert run(*args)[0] == 0, "an earlier output of the same command is replaced freely"


def test_a_failed_write_leaves_the_previous_output_whole(world, monkeypatch):
    target = world.parent / "digest.md"
    assert run("--config", str(world), *COMMANDS["digest"], "--out", str(target))[0] == 0
    before = target.read_bytes()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("reports.digest.render._write_chunks", full)
    code, err = run("--config", str(world), *COMMANDS["digest"], "--out", str(target))
    assert code == 1 and "No space left on device" in err and err.count("\n") == 1
    assert target.read_bytes() == before
    assert sorted(p.name for p in world.parent.iterdir() if p.name.startswith(".digest")) == []
