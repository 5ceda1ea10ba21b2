"""The commands of the `grayhound` CLI: one module per area (setup, crawling, detecting,
evidence, triage, serving, pricing, catalog, cluster), each a thin click command that parses options and calls a
library function, and the shared options (`--config`, `--out`).

May import: anything; nothing imports it but `grayhound.cli`. No logic lives only here."""

from __future__ import annotations

import functools
import importlib

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


# Each command's name and the module that defines it: a command's module (and what it imports:
# the store, Scrapy, Datasette, a browser's driver) is imported only when that command runs or
# --help lists them all, so a command starts without loading every other one's libraries.
# `tests/grayhound/test_cli_lazy.py` checks this table against each module's `COMMANDS`.
COMMAND_MODULES = {
    "init": "setup",
    "demo": "setup",
    "crawl": "crawling",
    "export": "crawling",
    "detect": "detecting",
    "score": "detecting",
    "evidence": "evidence",
    "digest": "triage",
    "review": "triage",
    "run": "triage",
    "schedule": "triage",
    "serve": "serving",
    "prices": "pricing",
    "catalog": "catalog",
    "worker": "cluster",
    "ingest": "cluster",
}


class LazyGroup(click.Group):
    """The `grayhound` group: its commands imported when asked for (`COMMAND_MODULES`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMAND_MODULES, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module = importlib.import_module(f"grayhound.commands.{COMMAND_MODULES[cmd_name]}")
            for command in module.COMMANDS:
                self.commands.setdefault(command.name, command)
        return self.commands.get(cmd_name)
