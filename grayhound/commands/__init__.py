"""The commands of the `grayhound` CLI: one module per area (setup, crawling, detecting,
evidence, triage, serving, pricing, catalog, cluster), each a thin click command that parses options and calls a
library function, and the shared options (`--config`, `--out`).

May import: anything; nothing imports it but `grayhound.cli`. No logic lives only here."""

from __future__ import annotations

import functools

import click

from grayhound.commands.outputs import open_output
from grayhound.config import Config, load_config

__all__ = ["STORE_ID", "config_option", "current_config", "force_option", "open_output", "verbose"]

# A row id of the store: SQLite integers are signed 64-bit; anything else is a usage error
# that names the option, not an OverflowError from the database driver.
STORE_ID = click.IntRange(min=1, max=2**63 - 1)
MAX_LOCAL_WORKERS = 256  # processes on one machine; more is a typo, not a plan


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


force_option = click.option(
    "--force",
    is_flag=True,
    help="Overwrite an existing --out file that is not an earlier output of this command "
    "(never the store, the config or a WARC file).",
)


def verbose() -> bool:
    return bool((click.get_current_context().find_root().obj or {}).get("verbose"))


def register(group: click.Group) -> None:
    from grayhound.commands import (
        catalog,
        cluster,
        crawling,
        detecting,
        evidence,
        pricing,
        serving,
        setup,
        triage,
    )

    for module in (
        setup,
        crawling,
        detecting,
        evidence,
        triage,
        serving,
        pricing,
        catalog,
        cluster,
    ):
        for command in module.COMMANDS:
            group.add_command(command)
