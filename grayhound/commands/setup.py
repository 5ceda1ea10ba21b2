"""`grayhound init` and `grayhound demo`: a working config and the whole loop on fixtures."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from grayhound.config import load_config
from grayhound.errors import UsageError


def example_config_text() -> str:
    return resources.files("grayhound").joinpath("example.toml").read_text(encoding="utf-8")


def write_example_config(directory: Path, *, force: bool = False) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "grayhound.toml"
    if target.exists() and not force:
        raise UsageError(f"{target}: already exists (use --force to overwrite)")
    target.write_text(example_config_text(), encoding="utf-8")
    return target


@click.command()
@click.argument("directory", type=click.Path(file_okay=False), default=".")
@click.option("--force", is_flag=True, help="Overwrite an existing grayhound.toml.")
def init(directory: str, force: bool) -> None:
    """Write a commented example config (grayhound.toml) into DIRECTORY.

    The example watches the bundled fixture sites, so it works with `grayhound demo` as-is.

    Example: grayhound init watch && grayhound --config watch/grayhound.toml crawl"""
    target = write_example_config(Path(directory), force=force)
    click.echo(f"wrote {target}")


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default="demo",
    show_default=True,
    help="Where the demo keeps its config, database, evidence and digests.",
)
def demo(directory: str) -> None:
    """Serve the bundled fixture sites on 127.0.0.1, crawl them, detect, write a digest,
    and print where everything is.

    Example: grayhound demo --dir /tmp/grayhound-demo"""
    from grayhound.demo.run import run_demo

    root = Path(directory)
    config_path = root / "grayhound.toml"
    if not config_path.exists():
        write_example_config(root)
    run_demo(load_config(config_path), echo=click.echo)
    click.echo(f"triage in the browser: grayhound serve --config {config_path}")
    click.echo("  then open the sign-in link it prints: it signs you in and opens the cases queue")


COMMANDS = [init, demo]
