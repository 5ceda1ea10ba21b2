"""Titles → model, accessory, condition: one case per row of fixtures/detectors/titles.csv."""

import csv
from pathlib import Path

import pytest

from detectors.catalog import read_condition, read_title


def table(name: str) -> list[dict]:
    path = Path(__file__).resolve().parents[2] / "fixtures" / "detectors" / name
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


KNOWN_MISSES: dict[str, str] = {}


def _cases():
    for row in table("titles.csv"):
        marks = []
        if row["title"] in KNOWN_MISSES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[row["title"]]))
        yield pytest.param(row, id=row["title"], marks=marks)


@pytest.mark.parametrize("row", list(_cases()))
def test_title_reading(row, book):
    reading = read_title(book.catalog, row["title"])
    assert (reading.model.model if reading.model else "") == row["model"]
    assert reading.is_accessory == (row["is_accessory"] == "true")
    assert reading.condition == row["condition"]


def test_listing_brand_stands_in_for_a_missing_line_word(book):
    assert read_title(book.catalog, "S24 Ultra 256GB").model is None
    assert read_title(book.catalog, "S24 Ultra 256GB", brand="samsung").model.model == (
        "Samsung Galaxy S24 Ultra"
    )


def test_extracted_condition_wins_unless_title_contradicts_new():
    assert read_condition("used", "Brand new iPhone", None)[0] == "used"
    assert read_condition("new", "iPhone 15 Refurbished", None)[0] == "refurbished"
    assert read_condition("unknown", "iPhone 15", "Renewed, tested")[0] == "refurbished"
    assert read_condition("unknown", "iPhone 15", "new features")[0] == "unknown"
