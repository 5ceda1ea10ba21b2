"""`evidence export --format wacz`: a WACZ 1.1.1 package that Webrecorder's validator accepts,
whose WARC warcio reads, and that `evidence verify` checks like a zip bundle."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from reports.evidence.bundle import Sealing, export_bundle
from reports.evidence.seal import signer_info
from reports.evidence.sealcheck import Trust
from reports.evidence.verify import verify_bundle

EVENT = {"exported_at": "2025-06-01T12:00:00.000Z", "host": "lawfirm-pc", "user": "custodian"}


def wacz_validate(path: Path) -> subprocess.CompletedProcess:
    """The `wacz validate` command of the `wacz` package."""
    wacz = Path(sys.executable).with_name("wacz")
    command = [str(wacz)] if wacz.exists() else [sys.executable, "-m", "wacz"]
    return subprocess.run(
        [*command, "validate", "-f", str(path)], capture_output=True, text=True, check=False
    )


def test_a_wacz_bundle_validates_reads_and_verifies(two_runs, store, config, tmp_path, signing_key):
    key, _ = signing_key
    result = export_bundle(
        store,
        config,
        "listing",
        1,
        tmp_path / "case.wacz",
        event=EVENT,
        fmt="wacz",
        sealing=Sealing(signing_key=key),
    )
    checked = wacz_validate(result.path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Validation succeeded" in checked.stdout
    with zipfile.ZipFile(result.path) as archive:
        names = set(archive.namelist())
        warc = archive.read("archive/evidence.warc.gz")
        pages = archive.read("pages/pages.jsonl").decode().splitlines()
        index = archive.read("indexes/index.cdx").decode().splitlines()
        package = json.loads(archive.read("datapackage.json"))
        assert archive.getinfo("archive/evidence.warc.gz").compress_type == zipfile.ZIP_STORED
    assert {"grayhound/manifest.json", "seal/signature.json", "datapackage-digest.json"} <= names
    records = [r.rec_type for r in ArchiveIterator(io.BytesIO(warc))]
    assert records == ["response", "request"] * 2 + ["revisit", "request"]
    assert json.loads(pages[0])["format"] == "json-pages-1.0"
    assert [json.loads(p)["url"] for p in pages[1:]] == ["http://127.0.0.1:8301/item/1.html"] * 3
    # one line per response and revisit (request records are not replayed)
    assert len(index) == 3 and all(line.startswith("1,0,0,127:8301)/") for line in index)
    assert package["wacz_version"] == "1.1.1"
    assert {r["path"] for r in package["resources"]} == names - {
        "datapackage.json",
        "datapackage-digest.json",
    }
    fingerprint = signer_info(key.public_key()).fingerprint
    verified = verify_bundle(result.path, Trust(fingerprint=fingerprint))
    assert verified.ok and verified.format == "wacz", verified.problems
    assert verified.records_checked == 6


def test_a_changed_wacz_is_named_by_verify_and_the_validator(two_runs, store, config, tmp_path):
    path = export_bundle(
        store, config, "listing", 1, tmp_path / "case.wacz", event=EVENT, fmt="wacz"
    ).path
    with zipfile.ZipFile(path) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    files["pages/pages.jsonl"] += b'{"url": "http://planted.example/"}\n'
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    problems = verify_bundle(path).problems
    assert "pages/pages.jsonl: changed (SHA-256 differs from the manifest)" in problems
    assert "pages/pages.jsonl: changed (digest differs from datapackage.json)" in problems
    assert wacz_validate(path).returncode != 0
