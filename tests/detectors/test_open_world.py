"""Every row of the blind open-world tables (fixtures/detectors/open_world/names.csv and
domains.csv, labelled before the detectors changed and without reading them) is a case, judged
against the table's own brands.toml; known misses are strict xfails, so fixing one is noticed."""

import csv
from pathlib import Path

import pytest

from detectors import BrandBook, score_input
from grayhound.config import load_config

OPEN_WORLD = Path(__file__).resolve().parents[2] / "fixtures" / "detectors" / "open_world"

# Rows the detectors get wrong today, with why; fixing one turns its xfail into a failure.
KNOWN_MISSES: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def world() -> BrandBook:
    return BrandBook.from_config(load_config(OPEN_WORLD / "brands.toml"))


def _cases():
    for name, kind in (("names.csv", "name"), ("domains.csv", "domain")):
        with open(OPEN_WORLD / name, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                marks = []
                why = KNOWN_MISSES.get((kind, row["input"]))
                if why:
                    marks.append(pytest.mark.xfail(strict=True, reason=why))
                case_id = f"{kind}:{row['shape']}:{row['input'].encode('unicode_escape').decode()}"
                yield pytest.param(kind, row, id=case_id, marks=marks)


@pytest.mark.parametrize(("kind", "row"), list(_cases()))
def test_open_world_verdict(world, kind, row):
    found = score_input(row["input"], kind, world)
    assert found.verdict == row["expected_verdict"], (row["why"], found.reasons)
    if row["expected_verdict"] != "clean":
        assert found.brand == row["brand"], found.reasons
        assert found.reasons, "a flagged input must say why"
