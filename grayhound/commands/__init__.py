"""The commands of the `grayhound` CLI: one module per area (setup, crawling, detecting,
evidence, triage, serving, pricing, cluster), each a thin click command that parses options and calls a
library function, and the shared options (`--config`, `--out`).

May import: anything; nothing imports it but `grayhound.cli`. No logic lives only here."""

from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path

import click

from grayhound.config import Config, load_config


def config_option(command):
    """Add `--config PATH` to a command (it also works before the command name)."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Config file (default ./grayhound.toml).",
    )
    @functools.wraps(command)
    def wrapper(*args, config_path=None, **kwargs):
        ctx = click.get_current_context()
        if config_path:
            ctx.find_root().obj["config_path"] = config_path
        return command(*args, **kwargs)

    return wrapper


def current_config() -> Config:
    """The config named by --config (on the command or the group), loaded and validated."""
    obj = click.get_current_context().find_root().obj or {}
    return load_config(obj.get("config_path"))


def verbose() -> bool:
    return bool((click.get_current_context().find_root().obj or {}).get("verbose"))


@contextlib.contextmanager
def open_output(out: str | None, *, binary: bool = False):
    """`--out PATH` opened for writing (closed afterwards), or stdout for None or "-"."""
    if out in (None, "-"):
        stream = sys.stdout.buffer if binary else sys.stdout
        yield stream
        stream.flush()
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if binary:
        with path.open("wb") as handle:
            yield handle
    else:
        with path.open("w", encoding="utf-8", newline="") as handle:
            yield handle


def register(group: click.Group) -> None:
    from grayhound.commands import (
        cluster,
        crawling,
        detecting,
        evidence,
        pricing,
        serving,
        setup,
        triage,
    )

    for module in (setup, crawling, detecting, evidence, triage, serving, pricing, cluster):
        for command in module.COMMANDS:
            group.add_command(command)
