"""`grayhound evidence export` and `verify`: a bundle a lawyer can rely on, and tampering named."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from grayhound.cli import main
from reports.evidence.bundle import export_bundle
from reports.evidence.verify import verify_bundle

EVENT = {"exported_at": "2025-06-01T12:00:00.000Z", "host": "lawfirm-pc", "user": "custodian"}
EXPECTED_ENTRIES = {"custody.log", "declaration.txt", "evidence.warc.gz", "manifest.json"}


def export(store, config, tmp_path, kind="listing", subject_id=1, name="bundle.zip", event=EVENT):
    return export_bundle(store, config, kind, subject_id, tmp_path / name, event=event).path


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path: Path, changed: dict[str, bytes | None]) -> None:
    """Rewrite the zip with entries replaced (bytes), removed (None) or added."""
    contents = entries(path)
    for name, data in changed.items():
        if data is None:
            contents.pop(name)
        else:
            contents[name] = data
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


def test_bundle_holds_every_capture_across_runs_and_verifies(two_runs, store, config, tmp_path):
    path = export(store, config, tmp_path, subject_id=two_runs["id"])
    files = entries(path)
    assert EXPECTED_ENTRIES <= set(files) and "summary.html" in files
    manifest = json.loads(files["manifest.json"])
    captures = manifest["captures"]
    assert [c["crawl_run_id"] for c in captures] == [1, 2, 3]
    assert [c["record_type"] for c in captures] == ["response", "response", "revisit"]
    assert {f["path"] for f in manifest["files"]} == set(files) - {"manifest.json"}
    assert manifest["config_sha256"] and manifest["tool"]["name"] == "grayhound"
    assert [t["price"] for t in manifest["price_timeline"]] == ["499.00", "459.00", "459.00"]
    warc_types = [r.rec_type for r in ArchiveIterator(io.BytesIO(files["evidence.warc.gz"]))]
    assert warc_types == ["response", "request"] * 2 + ["revisit", "request"]
    snapshot_names = sorted(n for n in files if n.startswith("snapshots/"))
    assert snapshot_names == [f"snapshots/capture-{c['capture_id']:08d}.html" for c in captures]
    result = verify_bundle(path)
    assert result.ok, result.problems
    assert result.records_checked == 6


def test_snapshots_are_inert_and_escape_listing_text(two_runs, store, config, tmp_path):
    files = entries(export(store, config, tmp_path, subject_id=two_runs["id"]))
    revisit_snapshot = files[sorted(n for n in files if n.startswith("snapshots/"))[-1]].decode()
    assert "default-src 'none'; img-src data:; style-src 'unsafe-inline'" in revisit_snapshot
    assert "captured by grayhound" in revisit_snapshot and "459.00" in revisit_snapshot
    lowered = revisit_snapshot.lower()
    assert "<script" not in lowered and "onload=" not in lowered
    assert ' src="http' not in lowered and ' href="http' not in lowered
    summary = files["summary.html"].decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in summary and "<script>x" not in summary
    assert "459.00" in summary and "499.00" in summary


def test_same_database_same_bytes_except_the_export_event(two_runs, store, config, tmp_path):
    first = export(store, config, tmp_path, subject_id=two_runs["id"], name="a.zip")
    again = export(store, config, tmp_path, subject_id=two_runs["id"], name="b.zip")
    assert first.read_bytes() == again.read_bytes()
    later = {**EVENT, "exported_at": "2025-07-01T00:00:00.000Z"}
    other = entries(export(store, config, tmp_path, subject_id=two_runs["id"], event=later))
    same = entries(first)
    assert {n for n in same if same[n] != other[n]} == {"custody.log", "manifest.json"}
    assert same["custody.log"].splitlines()[:-1] == other["custody.log"].splitlines()[:-1]


def test_custody_log_records_each_capture_then_the_export(two_runs, store, config, tmp_path):
    lines = entries(export(store, config, tmp_path))["custody.log"].decode().splitlines()
    assert len(lines) == 4
    assert all("\taction=captured\t" in line for line in lines[:3])
    assert lines[-1].startswith(EVENT["exported_at"]) and "action=exported" in lines[-1]
    assert "user=custodian" in lines[-1] and "host=lawfirm-pc" in lines[-1]


def test_seller_bundle_holds_its_listings_captures(crawl, listing_page, store, config, tmp_path):
    crawl([listing_page("/item/1.html", "Xiaomi 14", "499.00")])
    crawl([listing_page("/item/2.html", "Redmi 13", "99.00")])
    (seller,) = store.sellers()
    manifest = json.loads(
        entries(export(store, config, tmp_path, "seller", seller["id"]))["manifest.json"]
    )
    assert sorted(c["url"].rsplit("/", 1)[1] for c in manifest["captures"]) == ["1.html", "2.html"]


@pytest.mark.parametrize(
    "name",
    [
        "evidence.warc.gz",
        "manifest.json",
        "custody.log",
        "summary.html",
        "declaration.txt",
        "snapshot",
    ],
)
def test_flipping_one_byte_in_any_file_is_named(two_runs, store, config, tmp_path, name):
    path = export(store, config, tmp_path, subject_id=two_runs["id"])
    files = entries(path)
    if name == "snapshot":
        name = sorted(n for n in files if n.startswith("snapshots/"))[0]
    data = bytearray(files[name])
    data[len(data) // 2] ^= 0x01
    rewrite(path, {name: bytes(data)})
    result = verify_bundle(path)
    assert not result.ok
    assert any(p.startswith(f"{name}: changed") for p in result.problems), result.problems


def test_flipping_a_byte_of_the_zip_itself_fails(two_runs, store, config, tmp_path):
    path = export(store, config, tmp_path, subject_id=two_runs["id"])
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF  # inside the first entry's data
    path.write_bytes(bytes(data))
    assert not verify_bundle(path).ok


def test_deleted_and_added_files_are_named(two_runs, store, config, tmp_path):
    path = export(store, config, tmp_path, subject_id=two_runs["id"])
    rewrite(path, {"summary.html": None, "snapshots/extra.html": b"<p>planted</p>"})
    problems = verify_bundle(path).problems
    assert "summary.html: missing" in problems
    assert any(p.startswith("snapshots/extra.html: extra") for p in problems)


def test_cli_export_then_verify(two_runs, config, tmp_path, capsys):
    out = tmp_path / "cli.zip"
    args = ["--config", str(config.path), "evidence", "export", "--listing", str(two_runs["id"])]
    assert main([*args, "--out", str(out)]) == 0
    assert "manifest.json SHA-256" in capsys.readouterr().out
    assert main(["evidence", "verify", str(out)]) == 0
    assert "intact" in capsys.readouterr().out
    rewrite(out, {"custody.log": b"nothing happened\n"})
    assert main(["evidence", "verify", str(out)]) == 1
    assert "custody.log: changed" in capsys.readouterr().out


def test_cli_verify_rejects_a_file_that_is_not_a_zip(tmp_path, capsys):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"this is not a zip")
    assert main(["evidence", "verify", str(junk)]) == 1
    assert "not a readable zip archive" in capsys.readouterr().out
    assert main(["evidence", "verify", str(tmp_path / "absent.zip")]) == 1


def test_cli_export_needs_exactly_one_subject_and_a_known_one(two_runs, config, tmp_path, capsys):
    base = ["--config", str(config.path), "evidence", "export", "--out", str(tmp_path / "x.zip")]
    assert main(base) == 2
    assert main([*base, "--listing", "1", "--seller", "1"]) == 2
    capsys.readouterr()
    # an unknown id is a usage error (exit 2), one line naming the option and the id
    for option in ("--listing", "--seller", "--network"):
        assert main([*base, option, "999"]) == 2, option
        err = capsys.readouterr().err
        assert f"{option} 999: no " in err and err.count("\n") == 1, err
