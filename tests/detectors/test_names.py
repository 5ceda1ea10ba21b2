"""Every row of fixtures/detectors/names.csv, and every name row of blind.csv and blind2.csv (each
labelled before its labeller read the detectors), is a case; known misses are strict xfails."""

import csv
from pathlib import Path

import pytest

from detectors import score_input


def table(name: str) -> list[dict]:
    path = Path(__file__).resolve().parents[2] / "fixtures" / "detectors" / name
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


KNOWN_MISSES: dict[str, str] = {
    "Samsung Mobile": "the brand's own division name, but 'mobile' is also a shop word "
    "('Samsung Mobile Shop' is suspicious); telling them apart needs the brand's divisions",
}


def _cases():
    blind = [row for row in table("blind.csv") + table("blind2.csv") if row["kind"] == "name"]
    for row in table("names.csv") + blind:
        marks = []
        if row["input"] in KNOWN_MISSES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[row["input"]]))
        yield pytest.param(row, id=row["input"], marks=marks)


@pytest.mark.parametrize("row", list(_cases()))
def test_name_verdict(row, book):
    found = score_input(row["input"], "name", book)
    assert found.verdict == row["expected_verdict"], found.reasons
    assert found.kind == "name"


def test_leetspeak_reason_reads_the_name(book):
    found = score_input("Xiaom1 Store", "name", book)
    assert found.verdict == "impersonation"
    assert "reads 'xiaomi store' after leetspeak normalisation" in found.reasons[0]
    assert "not an authorized reseller" in found.reasons[0]


def test_authorized_names_are_clean_whatever_the_spelling(book):
    for name in ("BestBuy Official", "bestbuy-official", "MI STORE EUROPE"):
        assert score_input(name, "name", book).verdict == "clean"
