"""Shared test fixtures: the example config, a fresh store, the CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "grayhound" / "example.toml"


@pytest.fixture
def example_config_path(tmp_path: Path) -> Path:
    """A copy of the example config in a temporary directory (its storage lands there)."""
    target = tmp_path / "grayhound.toml"
    shutil.copy(EXAMPLE_CONFIG, target)
    return target


@pytest.fixture
def example_config(example_config_path: Path):
    from grayhound.config import load_config

    return load_config(example_config_path)


@pytest.fixture
def store(tmp_path: Path):
    from grayhound.store import open_store

    with open_store(tmp_path / "test.db") as opened:
        yield opened
