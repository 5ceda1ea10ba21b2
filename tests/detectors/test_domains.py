"""Every row of fixtures/detectors/domains.csv, and every domain row of blind.csv and blind2.csv
(each labelled before its labeller read the detectors), is a case; known misses are strict xfails."""

import csv
from pathlib import Path

import pytest

from detectors import score_input


def table(name: str) -> list[dict]:
    path = Path(__file__).resolve().parents[2] / "fixtures" / "detectors" / name
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# Rows the detector gets wrong today, with why; fixing one turns its xfail into a failure.
KNOWN_MISSES: dict[str, str] = {
    "iphone-unlock-service.xyz": "'unlock' is phishing vocabulary (iCloud-unlock scams), so a "
    "carrier-unlock service reads as a combosquat; telling them apart needs the page",
    "shaomi.com": "xiaomi spelt as pronounced ('x' as 'sh'): two edits that change the first "
    "letter, and near spellings keep the first (and at two edits the last) letter",
}


def _cases():
    blind = [row for row in table("blind.csv") + table("blind2.csv") if row["kind"] == "domain"]
    for row in table("domains.csv") + blind:
        marks = []
        if row["input"] in KNOWN_MISSES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[row["input"]]))
        yield pytest.param(row, id=row["input"], marks=marks)


@pytest.mark.parametrize("row", list(_cases()))
def test_domain_verdict(row, book):
    found = score_input(row["input"], "domain", book)
    assert found.verdict == row["expected_verdict"], found.reasons
    assert found.kind == "domain"
    if row["expected_verdict"] != "clean":
        assert found.brand == row["brand"]
        assert found.reasons, "a flagged domain must say why"


def test_auto_kind_treats_dotted_words_as_domains(book):
    assert score_input("xiaomi-store.shop", "auto", book).kind == "domain"
    assert score_input("Xiaomi Store", "auto", book).kind == "name"
    assert score_input("mi store.shop", "auto", book).kind == "name"


def test_score_json_contract(book):
    out = score_input("xiaomi-store.shop", "auto", book).to_dict()
    assert out["input"] == "xiaomi-store.shop"
    assert out["kind"] == "domain" and out["brand"] == "xiaomi"
    assert out["verdict"] == "impersonation" and 0.7 <= out["score"] <= 1
    assert "'xiaomi'" in out["reasons"][0] and "store" in out["reasons"][0]


def test_reason_names_the_lookalike_characters(book):
    reason = " ".join(score_input("xn--xiaom-r2e.com", "domain", book).reasons)
    assert "'і' for 'i'" in reason and "CYRILLIC" in reason


def test_urls_are_reduced_to_their_host(book):
    found = score_input("https://user@xiaomi-store.shop:8443/p/1?q=2", "domain", book)
    assert found.verdict == "impersonation"


def test_unknown_kind_is_refused(book):
    with pytest.raises(ValueError):
        score_input("x", "email", book)
