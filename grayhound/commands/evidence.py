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
@click.option(
    "--network", "network_id", type=int, default=None, help="Seller network id (every seller)."
)
@click.option(
    "--case", "case_id", type=int, default=None, help="Case number from the digest (#12)."
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Bundle .zip.")
@config_option
def evidence_export(
    listing_id: int | None,
    seller_id: int | None,
    network_id: int | None,
    case_id: int | None,
    out: str,
) -> int:
    """Write a zip with every WARC capture of a listing, a seller or a seller network (all its
    sellers, their profiles and listings) across runs, inert HTML
    snapshots, manifest.json (SHA-256 of every file), custody.log, summary.html and a
    declaration for the custodian to sign.

    Example: grayhound evidence export --network 3 --out network-3.zip"""
    from grayhound.store import open_store
    from reports.evidence.bundle import export_bundle

    given = [v for v in (listing_id, seller_id, network_id, case_id) if v is not None]
    if len(given) != 1:
        raise click.UsageError(
            "give exactly one of --listing ID, --seller ID, --network ID or --case N"
        )
    config = current_config()
    with open_store(config.storage.database, create=False) as store:
        if case_id is not None:
            kind, subject_id = _case_subject(store, case_id)
        elif listing_id is not None:
            kind, subject_id = "listing", listing_id
        elif network_id is not None:
            kind, subject_id = "network", network_id
        else:
            kind, subject_id = "seller", seller_id
        result = export_bundle(store, config, kind, subject_id, Path(out))
    click.echo(
        f"wrote {result.path}: {kind} #{subject_id}, {result.captures} captures,"
        f" {result.files} files; manifest.json SHA-256 {result.manifest_sha256}"
    )
    if not result.captures:
        click.echo(f"grayhound: warning: no captures recorded for {kind} #{subject_id}", err=True)
    return 0


def _case_subject(store, case_id: int) -> tuple[str, int]:
    from grayhound.errors import UsageError

    case = store.get_case(case_id)
    if case is None:
        raise UsageError(f"no case #{case_id} (see `grayhound review list`)")
    return case["subject_kind"], case["subject_id"]


@evidence.command("verify")
@click.argument("bundle", type=click.Path(dir_okay=False))
def evidence_verify(bundle: str) -> int:
    """Recompute every hash in a bundle and parse every WARC record; exit 0 when intact,
    1 naming each file that changed, is missing or is extra.

    Example: grayhound evidence verify listing-42.zip"""
    from reports.evidence.verify import verify_bundle

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
