"""Evidence from a real crawl of the fixture sites: every fetched page in valid WARC files, a
second crawl adding revisits, and a bundle holding both runs that verifies."""

from __future__ import annotations

import json
import zipfile

import pytest
from warcio.archiveiterator import ArchiveIterator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crawled_twice(crawled, run_cli):
    config_path, sites, _ = crawled
    result = run_cli(config_path, "crawl")
    assert result.returncode == 0, result.stderr[-3000:]
    return config_path, sites


def _store(config_path):
    from grayhound.config import load_config
    from grayhound.store import open_store

    config = load_config(config_path)
    return config, open_store(config.storage.database)


def test_every_fetched_page_is_captured_in_valid_warc(crawled_twice):
    config_path, sites = crawled_twice
    config, store = _store(config_path)
    with store:
        captures = list(store.captures())
        unlinked = store.db.execute(
            "SELECT count(*) FROM listings WHERE id NOT IN"
            " (SELECT subject_id FROM capture_links WHERE subject_kind = 'listing')"
        ).fetchone()[0]
    served = [(site, path) for site, _method, path in list(sites.requests)]
    assert len(captures) == len(served)  # robots.txt, sitemaps and JSON endpoints included
    assert {c["crawl_run_id"] for c in captures} == {1, 2}
    assert any(c["record_type"] == "revisit" for c in captures if c["crawl_run_id"] == 2)
    assert any(c["url"].endswith("/robots.txt") for c in captures)
    assert any("/products.json" in c["url"] for c in captures)
    assert unlinked == 0
    for path in (config.storage.evidence_dir / "warc").glob("*.warc.gz"):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream, check_digests=True):
                record.content_stream().read()
                assert record.digest_checker.passed is not False, path.name


def test_bundle_of_a_crawled_listing_holds_both_runs_and_verifies(crawled_twice, run_cli, tmp_path):
    config_path, _ = crawled_twice
    _, store = _store(config_path)
    with store:
        listing = next(store.listings("source = ?", ["bazaar"]))
    out = tmp_path / "bundle.zip"
    result = run_cli(
        config_path, "evidence", "export", "--listing", str(listing["id"]), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert {c["crawl_run_id"] for c in manifest["captures"]} == {1, 2}
    result = run_cli(config_path, "evidence", "verify", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
