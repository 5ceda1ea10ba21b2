"""Done when (issue 16): on the demo's fixture sites, `grayhound evidence export --case N`, with a
signing key and the loopback TSA configured, writes a signed, timestamped bundle with page images
that `evidence verify --key … --tsa-ca …` accepts; the same case as WACZ passes `wacz validate`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def grayhound(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grayhound", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The bundled fixture sites on free loopback ports, crawled, detected and digested."""
    from grayhound.demo.sites import serve_sites

    directory = tmp_path_factory.mktemp("demo")
    text = (ROOT / "grayhound" / "example.toml").read_text()
    with serve_sites({"bazaar": 0, "mi-official-store": 0, "gadgetcorner": 0}) as sites:
        for name, url in sites.urls.items():
            new = re.match(r"https?://([^/]+)", url).group(1)
            block = text.split(f'name = "{name}"', 1)
            if len(block) == 2:
                old = re.search(r"https?://(127\.0\.0\.1:\d+)", block[1]).group(1)
                text = text.replace(old, new)
        config = directory / "grayhound.toml"
        config.write_text(text)
        result = grayhound(config, "run")
        assert result.returncode == 0, result.stderr[-3000:]
    return config


def test_a_demo_case_exports_signed_timestamped_with_page_images(demo, tsa, tmp_path):
    from grayhound.config import load_config
    from grayhound.store import open_store

    key = tmp_path / "keys" / "grayhound"
    assert grayhound(demo, "evidence", "keygen", "--out", str(key)).returncode == 0
    sealed = tmp_path / "sealed.toml"
    sealed.write_text(
        demo.read_text()
        .replace('database = "', f'database = "{demo.parent}/', 1)
        .replace('evidence_dir = "', f'evidence_dir = "{demo.parent}/', 1)
        + f'\n[evidence]\nsigning_key = "{key}"\ntsa_url = "{tsa.url}"\ntsa_ca = "{tsa.ca_path}"\n'
    )
    config = load_config(sealed)
    with open_store(config.storage.database) as store:
        cases = [c for c in store.cases() if store.captures_of(c["subject_kind"], c["subject_id"])]
    assert cases, "the demo digest opened no case with captures"
    case = cases[0]["id"]
    out = tmp_path / f"case-{case}.zip"
    result = grayhound(sealed, "evidence", "export", "--case", str(case), "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "signed with key" in result.stdout and "timestamped" in result.stdout
    assert "Loopback Test TSA" in result.stdout
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
    assert {"seal/signature.json", "seal/timestamp.tsr", "summary.pdf"} <= names
    assert manifest["page_images"]["rendered"] >= 1
    assert any(n.startswith("images/") and n.endswith(".png") for n in names)
    verified = grayhound(
        sealed, "evidence", "verify", "--key", f"{key}.pub", "--tsa-ca", str(tsa.ca_path), str(out)
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "by the key you gave" in verified.stdout
    assert "the TSA CA you gave" in verified.stdout

    wacz = tmp_path / f"case-{case}.wacz"
    result = grayhound(
        sealed, "evidence", "export", "--case", str(case), "--out", str(wacz), "--format", "wacz"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    validator = Path(sys.executable).with_name("wacz")
    checked = subprocess.run(
        [str(validator), "validate", "-f", str(wacz)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert grayhound(sealed, "evidence", "verify", "--key", f"{key}.pub", str(wacz)).returncode == 0
