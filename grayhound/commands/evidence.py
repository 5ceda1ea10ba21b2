"""`grayhound evidence export` and `grayhound evidence verify`: bundles for legal teams."""

from __future__ import annotations

from pathlib import Path

import click

from grayhound.commands import config_option, current_config


@click.group()
def evidence() -> None:
    """Evidence bundles: every capture of a listing or seller, verifiable by hash."""


@evidence.command("export")
@click.option("--listing", "listing_id", type=int, default=None, help="Listing id.")
@click.option("--seller", "seller_id", type=int, default=None, help="Seller id.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Bundle .zip.")
@config_option
def evidence_export(listing_id: int | None, seller_id: int | None, out: str) -> int:
    """Write a zip with every WARC capture of a listing or seller across runs, inert HTML
    snapshots, manifest.json (SHA-256 of every file), custody.log, summary.html and a
    declaration for the custodian to sign.

    Example: grayhound evidence export --listing 42 --out listing-42.zip"""
    from grayhound.store import open_store
    from reports.evidence import export_bundle

    if (listing_id is None) == (seller_id is None):
        raise click.UsageError("give exactly one of --listing ID or --seller ID")
    kind, subject_id = ("listing", listing_id) if listing_id is not None else ("seller", seller_id)
    config = current_config()
    with open_store(config.storage.database, create=False) as store:
        result = export_bundle(store, config, kind, subject_id, Path(out))
    click.echo(
        f"wrote {result.path}: {kind} #{subject_id}, {result.captures} captures,"
        f" {result.files} files; manifest.json SHA-256 {result.manifest_sha256}"
    )
    if not result.captures:
        click.echo(f"grayhound: warning: no captures recorded for {kind} #{subject_id}", err=True)
    return 0


@evidence.command("verify")
@click.argument("bundle", type=click.Path(dir_okay=False))
def evidence_verify(bundle: str) -> int:
    """Recompute every hash in a bundle and parse every WARC record; exit 0 when intact,
    1 naming each file that changed, is missing or is extra.

    Example: grayhound evidence verify listing-42.zip"""
    from reports.evidence_verify import verify_bundle

    result = verify_bundle(bundle)
    if result.ok:
        click.echo(
            f"{bundle}: intact: {result.files_checked} files, {result.records_checked} WARC"
            f" records; manifest.json SHA-256 {result.manifest_sha256}"
        )
        return 0
    click.echo(f"{bundle}: FAILED verification", err=True)
    for problem in result.problems:
        click.echo(f"  {problem}")
    return 1


COMMANDS = [evidence]
