"""Device or not: one case per row of fixtures/detectors/goods.csv, in many languages."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from detectors.catalog import read_title
from detectors.goods import classify_goods

TABLE = Path(__file__).resolve().parents[2] / "fixtures" / "detectors" / "goods.csv"
with open(TABLE, newline="", encoding="utf-8") as handle:
    ROWS = list(csv.DictReader(handle))


@pytest.mark.parametrize("row", ROWS, ids=[r["title"] for r in ROWS])
def test_kind_of_goods(row, book):
    reading = read_title(book.catalog, row["title"])
    assert reading.kind == row["kind"], reading.reasons
    assert (reading.broken or "") == row["broken"]
    assert reading.is_accessory == (row["kind"] != "device")
    if row["kind"] != "device":
        assert any(r.startswith(row["kind"]) for r in reading.reasons)


def test_the_listings_category_decides_when_the_title_does_not():
    assert classify_goods("Xiaomi 14 Pro").kind == "device"
    found = classify_goods("Xiaomi 14 Pro", category="Phones > Accessories > Cases")
    assert found.kind == "accessory" and "category" in found.reason
    assert classify_goods("Xiaomi 14 Pro", category="Handys > Ersatzteile").kind == "part"
    assert classify_goods("Xiaomi 14 Pro 256GB", category="Smartphones").kind == "device"
