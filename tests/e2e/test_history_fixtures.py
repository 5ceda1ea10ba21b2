"""Three crawls of the fixture sites whose prices change between runs: price history for
distributors, digest groups and the dismiss → price change → back loop for analysts."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def _crawl_and_detect(run_cli, config_path) -> None:
    for step in (["crawl"], ["detect"]):
        result = run_cli(config_path, *step)
        assert result.returncode == 0, result.stderr[-3000:]


def _digest(run_cli, config_path) -> dict:
    return _json(run_cli(config_path, "digest", "--format", "json"))


def _items(digest: dict, group: str) -> dict[str, dict]:
    return {
        urlsplit(item["url"]).path: item
        for item in digest["groups"][group]
        if item["kind"] == "listing" and item.get("url")
    }


@pytest.fixture(scope="module")
def three_runs(served_sites, tmp_path_factory, run_cli, config_for):
    """Crawl at price set 0, 1, 2 with detect and a digest after each; dismiss one case after
    the second digest. Returns (config path, [digest 1, 2, 3], dismissed case path)."""
    config_path = config_for(served_sites, tmp_path_factory.mktemp("history"))
    digests = []
    served_sites.price_set = 0
    _crawl_and_detect(run_cli, config_path)
    digests.append(_digest(run_cli, config_path))
    served_sites.price_set = 1
    _crawl_and_detect(run_cli, config_path)
    digests.append(_digest(run_cli, config_path))
    # the analyst dismisses XiaomiWorld's cheap Xiaomi 14 Pro (its price drops again in set 2)
    case = _find_case(digests[-1], "/item/380670.html")
    result = run_cli(
        config_path, "review", "set", str(case), "dismissed", "--note", "known", "--by", "ana"
    )
    assert result.returncode == 0, result.stderr
    quiet = _json(run_cli(config_path, "digest", "--format", "json", "--no-record"))
    served_sites.price_set = 2
    _crawl_and_detect(run_cli, config_path)
    digests.append(_digest(run_cli, config_path))
    served_sites.price_set = 0
    return config_path, digests, quiet


def _find_case(digest: dict, path: str) -> int:
    for group in digest["groups"].values():
        for item in group:
            if item["kind"] == "listing" and urlsplit(item.get("url") or "").path == path:
                return item["case_id"]
    raise AssertionError(f"{path} is in no group of the digest")


def test_first_digest_counts_every_flagged_listing_and_risky_seller(three_runs, ground_truth):
    _, digests, _ = three_runs
    flagged = sum(1 for truth in ground_truth["listings"] if truth["expected_flags"])
    risky = sum(
        1
        for truth in ground_truth["sellers"]
        if truth["expected_verdict"] not in ("clean", "authorized")
    )
    assert digests[0]["counts"]["groups"] == {"new": flagged + risky, "changed": 0, "still_open": 0}


def test_second_digest_reports_price_moves_as_changed(three_runs, ground_truth):
    _, digests, _ = three_runs
    moved = {
        change["canonical_path"]
        for change in ground_truth["price_sets"]["changes"]
        if change["prices"]["0"] != change["prices"]["1"]
    }
    flagged = {t["canonical_path"] for t in ground_truth["listings"] if t["expected_flags"]}
    changed = set(_items(digests[1], "changed"))
    assert moved & flagged <= changed | set(_items(digests[1], "new"))
    assert changed, "no price move was reported as changed"
    # the Xiaomi 14 at 459.00 (0.57 × MSRP) is now price_low
    item = {**_items(digests[1], "changed"), **_items(digests[1], "new")}["/item/389866.html"]
    assert "price_low" in item["flags"]


def test_dismissed_case_leaves_and_returns_when_its_price_moves(three_runs):
    _, digests, quiet = three_runs
    every_group = lambda d: {p for g in ("new", "changed", "still_open") for p in _items(d, g)}  # noqa: E731
    assert "/item/380670.html" not in every_group(quiet)
    assert "/item/380670.html" in every_group(digests[2])  # 389.00 → 359.00 reopened it


def test_price_history_across_three_runs(three_runs, ground_truth):
    config_path, _, _ = three_runs
    from grayhound.config import load_config
    from grayhound.store import open_store

    with open_store(load_config(config_path).storage.database) as store:
        listings = {urlsplit(r["canonical_url"]).path: r["id"] for r in store.listings()}
        for change in ground_truth["price_sets"]["changes"]:
            history = [o["price"] for o in store.observations(listings[change["canonical_path"]])]
            expected = [change["prices"][k] for k in ("0", "1", "2")]
            assert [Decimal(p) for p in history] == [Decimal(p) for p in expected], change
        for removed in ground_truth["price_sets"]["removed"]:
            runs = [
                o["crawl_run_id"] for o in store.observations(listings[removed["canonical_path"]])
            ]
            assert len(runs) == 3 - len(removed["absent_in_sets"])


def test_prices_report_shows_the_history(three_runs, run_cli):
    config_path, _, _ = three_runs
    report = _json(run_cli(config_path, "prices", "--model", "Xiaomi 14 Pro", "--format", "json"))
    (model,) = report["models"]
    store_history = [
        point["price"]["amount"]
        for point in model["history"]
        if point["source"] == "mi-official-store"
    ]
    assert store_history == [399.0, 379.0, 349.0]
    cheapest = min(c["price"]["converted"] for c in model["competitors"])
    assert model["price_min"]["converted"] == cheapest


def test_evidence_bundle_for_a_digest_case_holds_every_run(three_runs, run_cli, tmp_path):
    config_path, digests, _ = three_runs
    case = _find_case(digests[-1], "/item/380670.html")
    bundle = tmp_path / "case.zip"
    result = run_cli(config_path, "evidence", "export", "--case", str(case), "--out", str(bundle))
    assert result.returncode == 0, result.stderr
    import zipfile

    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert len({c["crawl_run_id"] for c in manifest["captures"]}) == 3  # one capture per run
    verified = run_cli(config_path, "evidence", "verify", str(bundle))
    assert verified.returncode == 0, verified.stdout + verified.stderr
