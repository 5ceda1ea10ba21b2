"""Detection on the crawled fixture sites: every impersonator flagged, no authorized reseller or
official domain ever, price flags as the ground truth says."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow

PRICE_FLAGS = {"price_low", "price_high"}


@pytest.fixture(scope="module")
def detected(crawled, run_cli):
    config_path, _, _ = crawled
    result = run_cli(config_path, "detect")
    assert result.returncode == 0, result.stderr[-3000:]
    exported = run_cli(config_path, "export", "listings")
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    return config_path, {(r["source"], urlsplit(r["canonical_url"]).path): r for r in rows}


def test_listing_flags_match_ground_truth(detected, ground_truth):
    _, rows = detected
    wrong = []
    for truth in ground_truth["listings"]:
        row = rows[(truth["source"], truth["canonical_path"])]
        if set(row["flags"]) != set(truth["expected_flags"]):
            wrong.append(
                f"{truth['canonical_path']} {truth['title']!r}: flags {sorted(row['flags'])} "
                f"!= {sorted(truth['expected_flags'])} ({truth['why']})"
            )
        if row["model"] != truth["model"] or row["is_accessory"] != truth["is_accessory"]:
            wrong.append(f"{truth['canonical_path']}: model {row['model']!r} != {truth['model']!r}")
    assert not wrong, "\n".join(wrong)


def test_every_flag_has_a_reason_and_risk_in_range(detected):
    _, rows = detected
    for row in rows.values():
        assert 0.0 <= row["risk"] <= 1.0
        if row["flags"]:
            assert row["reasons"], row


def test_seller_verdicts_match_ground_truth(detected, ground_truth):
    config_path, _ = detected
    from grayhound.config import load_config
    from grayhound.store import open_store

    with open_store(load_config(config_path).storage.database) as store:
        names = {s["id"]: (s["source"], s["name"]) for s in store.sellers()}
        verdicts = {names[f["subject_id"]]: f for f in store.current_findings("seller")}
    wrong = []
    for truth in ground_truth["sellers"]:
        finding = verdicts.get((truth["source"], truth["name"]))
        if finding is None or finding["verdict"] != truth["expected_verdict"]:
            got = finding["verdict"] if finding else "no finding"
            wrong.append(
                f"{truth['name']!r}: {got} != {truth['expected_verdict']} ({truth['why']})"
            )
    assert not wrong, "\n".join(wrong)


def test_authorized_and_official_never_flagged(detected, example_config):
    _, rows = detected
    authorized = {n.lower() for a in example_config.authorized for n in a.seller_names}
    for row in rows.values():
        if (row["seller"] or "").lower() in authorized:
            assert not {"impersonation", "suspicious_name", "suspicious_domain"} & set(row["flags"])
    domains = [d for b in example_config.brands.values() for d in b.official_domains]
    domains += [d for a in example_config.authorized for d in a.domains]
    from detectors import BrandBook, score_input

    book = BrandBook.from_config(example_config)
    for domain in domains + ["www." + d for d in domains] + ["shop." + d for d in domains]:
        assert score_input(domain, "domain", book).verdict == "clean", domain
