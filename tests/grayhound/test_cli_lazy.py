"""The `grayhound` group finds each command in its own module (`COMMAND_MODULES`): every
command can be run and is listed, and running one does not import the others' modules (the
store, Scrapy, Datasette or a browser's driver it does not need)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import click

import grayhound.commands
from grayhound.cli import cli, main
from grayhound.commands import COMMAND_MODULES


def test_the_table_names_every_command_of_every_module_and_nothing_else():
    """Every module under grayhound/commands that defines commands, a new one too."""
    found = {}
    for info in pkgutil.iter_modules(grayhound.commands.__path__):
        module = importlib.import_module(f"grayhound.commands.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            found[command.name] = info.name
    assert found == COMMAND_MODULES


def test_every_command_is_listed_and_resolves_to_its_own(capsys):
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMAND_MODULES)
    for name in COMMAND_MODULES:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
    assert cli.get_command(ctx, "no-such") is None
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out.split("Commands:", 1)[1].split()
    assert all(name in listed for name in COMMAND_MODULES)


def test_a_command_imports_only_its_own_module():
    code = (
        "import sys, json\n"
        "from grayhound.cli import main\n"
        "code = main(['score', '--help'])\n"
        "print(json.dumps([code, sorted(m for m in sys.modules"
        " if m.startswith('grayhound.commands.') or m.split('.')[0] in"
        " ('scrapy', 'datasette', 'playwright', 'apscheduler'))]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    status, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0
    assert loaded == ["grayhound.commands.detecting", "grayhound.commands.outputs"]


def test_an_unknown_command_is_still_a_usage_error(capsys):
    assert main(["no-such-command"]) == 2
    assert "No such command 'no-such-command'" in capsys.readouterr().err
