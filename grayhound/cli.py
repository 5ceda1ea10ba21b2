"""The `grayhound` command line: thin commands that parse options and call library functions.

Commands live in `grayhound/commands/`, one module per area; this module builds the group,
the shared `--config` option and the error handling (one line, exit 2 for usage and config)."""

from __future__ import annotations

import sqlite3
import sys

import click

from grayhound import __version__
from grayhound.commands import LazyGroup
from grayhound.errors import GrayhoundError, Terminated
from grayhound.text import terminal_text


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="grayhound")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default ./grayhound.toml).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log crawler activity to stderr.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """grayhound watches marketplaces and storefronts for gray-market and brand-impersonating
    resellers: crawl, detect, digest, evidence, pricing.

    Example: grayhound init && grayhound demo"""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["verbose"] = verbose


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 the work found a failure, 2 bad usage/config,
    130 interrupted (Ctrl-C), 143 stopped by SIGTERM: a report in parts, or `run` as it
    crawled)."""
    try:
        result = cli.main(args=argv, prog_name="grayhound", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        return 2
    except click.exceptions.UsageError as exc:  # one line naming the command and the option
        where = exc.ctx.command_path if exc.ctx else "grayhound"
        click.echo(f"{where}: {terminal_text(exc.format_message())} (see --help)", err=True)
        return 2
    except click.exceptions.Abort as exc:
        # Ctrl-C, which click makes an Abort (from it, or at a prompt from None after it)
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            click.echo("grayhound: interrupted", err=True)
            return 130
        click.echo("grayhound: aborted", err=True)
        return 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except GrayhoundError as exc:
        click.echo(f"grayhound: {terminal_text(exc)}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except sqlite3.Error as exc:  # a store that cannot be read or written mid-command
        click.echo(f"grayhound: the store failed: {terminal_text(exc)}", err=True)
        return 1
    except OSError as exc:  # a file that cannot be read or written: named, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(
            f"grayhound: {terminal_text(where)}{terminal_text(exc.strerror or exc)}", err=True
        )
        return 1
    except KeyboardInterrupt:
        click.echo("grayhound: interrupted", err=True)
        return 130
    except Terminated:  # SIGTERM while a report's workers wrote its parts (they are gone), or
        # while `run` crawled (the crawl stopped first)
        click.echo("grayhound: terminated (SIGTERM)", err=True)
        return 143
    return result if isinstance(result, int) else 0
