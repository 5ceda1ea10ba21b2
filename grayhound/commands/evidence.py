"""`grayhound evidence export` and `grayhound evidence verify`: bundles for legal teams."""

from __future__ import annotations

import click

from grayhound.commands import STORE_ID, config_option, current_config, force_option
from grayhound.commands.outputs import check_output, replaced_path
from grayhound.text import terminal_text

# What every earlier evidence bundle carries (in its zip directory, at the end of the file).
BUNDLE_MARKS = (b"manifest.json",)


@click.group()
def evidence() -> None:
    """Evidence bundles: every capture of a listing or seller, verifiable by hash."""


@evidence.command("export")
@click.option("--listing", "listing_id", type=STORE_ID, default=None, help="Listing id.")
@click.option("--seller", "seller_id", type=STORE_ID, default=None, help="Seller id.")
@click.option(
    "--case", "case_id", type=STORE_ID, default=None, help="Case number from the digest (#12)."
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Bundle .zip.")
@force_option
@config_option
def evidence_export(
    listing_id: int | None, seller_id: int | None, case_id: int | None, out: str, force: bool
) -> int:
    """Write a zip with every WARC capture of a listing or seller across runs, inert HTML
    snapshots, manifest.json (SHA-256 of every file), custody.log, summary.html and a
    declaration for the custodian to sign.

    Example: grayhound evidence export --case 12 --out case-12.zip"""
    from grayhound.store import open_store
    from reports.evidence.bundle import export_bundle

    given = [v for v in (listing_id, seller_id, case_id) if v is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --listing ID, --seller ID or --case N")
    config = current_config()
    target = check_output(out, config=config, marks=BUNDLE_MARKS, force=force)
    with open_store(config.storage.database, create=False) as store:
        if case_id is not None:
            kind, subject_id = _case_subject(store, case_id)
        elif listing_id is not None:
            kind, subject_id = "listing", listing_id
        else:
            kind, subject_id = "seller", seller_id
        with replaced_path(target) as temporary:
            result = export_bundle(store, config, kind, subject_id, temporary)
    click.echo(
        f"wrote {target}: {kind} #{subject_id}, {result.captures} captures,"
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
    click.echo(f"{terminal_text(bundle)}: FAILED verification", err=True)
    for problem in result.problems:  # may quote entry names from a hostile bundle
        click.echo(f"  {terminal_text(problem)}")
    return 1


COMMANDS = [evidence]
