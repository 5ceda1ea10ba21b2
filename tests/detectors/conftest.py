from pathlib import Path

import pytest

from detectors import BrandBook
from grayhound.config import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def book() -> BrandBook:
    return BrandBook.from_config(load_config(ROOT / "grayhound" / "example.toml"))
