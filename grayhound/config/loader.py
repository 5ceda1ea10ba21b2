"""Reading grayhound.toml: a file becomes a checked `Config`, or a ConfigError whose one-line
message names the file, the key path and, where it can be found, the line:
`grayhound.toml:14: sources[0].kind: expected one of ...`."""

from __future__ import annotations

import tomllib
from pathlib import Path

from grayhound.config.check import Validator
from grayhound.config.records import DEFAULT_CONFIG, Config
from grayhound.errors import ConfigError


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a config file; raise ConfigError with a one-line message."""
    config_path = Path(path or DEFAULT_CONFIG)
    if not config_path.is_file():
        hint = " (run `grayhound init` to write one)" if path is None else ""
        raise ConfigError(f"{config_path}: config file not found{hint}")
    try:
        text = config_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: cannot read config file: {exc}") from None
    return parse_config(text, config_path)


def parse_config(text: str, path: Path) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return Validator(text, path).config(raw)
