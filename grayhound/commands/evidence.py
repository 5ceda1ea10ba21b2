"""`grayhound evidence export`, `verify` and `keygen`: bundles for legal teams."""

from __future__ import annotations

from pathlib import Path

import click

from grayhound.commands import STORE_ID, config_option, current_config, force_option
from grayhound.commands.outputs import check_output, replaced_path
from grayhound.text import terminal_text

# What every earlier evidence bundle carries (in its zip directory, at the end of the file).
BUNDLE_MARKS = (b"manifest.json",)
PROGRESS_FROM, PROGRESS_EVERY = 50, 50  # distinct captures: a bundle this large says how far


@click.group()
def evidence() -> None:
    """Evidence bundles: every capture of a listing or seller, sealed and verifiable."""


@evidence.command("export")
@click.option("--listing", "listing_id", type=STORE_ID, default=None, help="Listing id.")
@click.option("--seller", "seller_id", type=STORE_ID, default=None, help="Seller id.")
@click.option(
    "--network", "network_id", type=STORE_ID, default=None, help="Seller network id (every seller)."
)
@click.option(
    "--case", "case_id", type=STORE_ID, default=None, help="Case number from the digest (#12)."
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Bundle file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["zip", "wacz"]),
    default="zip",
    show_default=True,
    help="A zip, or a WACZ package that ReplayWeb.page opens.",
)
@click.option("--no-images", is_flag=True, help="Skip the page images (no browser started).")
@force_option
@config_option
def evidence_export(
    listing_id: int | None,
    seller_id: int | None,
    network_id: int | None,
    case_id: int | None,
    out: str,
    fmt: str,
    no_images: bool,
    force: bool,
) -> int:
    """Write a bundle with every WARC capture of a listing, a seller or a seller network (all
    its sellers, their profiles and listings) across runs, a PNG and PDF of each captured page
    (rendered offline from the capture), inert HTML snapshots, manifest.json (SHA-256 of every
    file), a hash-chained custody.log, summary.html and .pdf, and a declaration for the
    custodian to sign. With [evidence] signing_key the manifest digest is signed; with
    [evidence] tsa_url it is timestamped (RFC 3161).

    Example: grayhound evidence export --network 3 --out network-3.zip"""
    from reports.evidence.renderthread import started_page_renderer

    given = [v for v in (listing_id, seller_id, network_id, case_id) if v is not None]
    if len(given) != 1:
        raise click.UsageError(
            "give exactly one of --listing ID, --seller ID, --network ID or --case N"
        )
    # the browser starts now, while the config and the subject are read (issue 19)
    with started_page_renderer(not no_images) as pending:
        from grayhound.store import open_store  # imported while the browser starts
        from reports.evidence.bundle import export_bundle

        config = current_config()
        target = check_output(out, config=config, marks=BUNDLE_MARKS, force=force)
        sealing = _sealing(config.evidence)
        with open_store(config.storage.database, create=False) as store:
            if case_id is not None:
                kind, subject_id = _case_subject(store, case_id)
            elif listing_id is not None:
                kind, subject_id = "listing", listing_id
            elif network_id is not None:
                kind, subject_id = "network", network_id
            else:
                kind, subject_id = "seller", seller_id
            with replaced_path(target) as temporary:
                result = export_bundle(
                    store,
                    config,
                    kind,
                    subject_id,
                    temporary,
                    fmt=fmt,
                    sealing=sealing,
                    pending=pending,  # waited for when the first page is pictured
                    progress=_pictured,
                )
    click.echo(
        f"wrote {target}: {kind} #{subject_id}, {result.captures} captures,"
        f" {result.files} files, {result.images} page images; manifest.json SHA-256"
        f" {result.manifest_sha256}"
    )
    if result.signed_by:
        click.echo(f"signed with key {result.signed_by}")
    if result.stamp:
        click.echo(f"timestamped {result.stamp.time} by {result.stamp.tsa}")
    if result.images_note and not no_images:
        click.echo(f"grayhound: warning: {result.images_note}", err=True)
    if not result.captures:
        click.echo(f"grayhound: warning: no captures recorded for {kind} #{subject_id}", err=True)
    return 0


def _pictured(done: int, of: int) -> None:
    """A bundle of many pages says how far its page images are (a browser lays out a few a
    second: a seller of 400 listings crawled daily has hundreds of distinct pages)."""
    if of >= PROGRESS_FROM and (done % PROGRESS_EVERY == 0 or done == of):
        click.echo(f"evidence: page images: {done} of {of} distinct captures", err=True)


def _sealing(settings):
    from reports.evidence.bundle import Sealing
    from reports.evidence.seal import load_signing_key
    from reports.evidence.timestamp import read_ca, request_token

    key = load_signing_key(settings.signing_key) if settings.signing_key else None
    ca = read_ca(settings.tsa_ca) if settings.tsa_ca else None
    timestamper = None
    if settings.tsa_url:

        def timestamper(manifest: bytes) -> bytes:
            return request_token(
                settings.tsa_url, manifest, ca_pem=ca, timeout=settings.tsa_timeout
            )

    return Sealing(key, timestamper, settings.tsa_url, ca)


def _case_subject(store, case_id: int) -> tuple[str, int]:
    from grayhound.errors import UsageError

    case = store.get_case(case_id)
    if case is None:
        raise UsageError(f"no case #{case_id} (see `grayhound review list`)")
    return case["subject_kind"], case["subject_id"]


@evidence.command("verify")
@click.argument("bundle", type=click.Path(dir_okay=False))
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The public key (KEYFILE.pub) the bundle must be signed with.",
)
@click.option("--fingerprint", default=None, help="SHA-256 fingerprint of that key, instead.")
@click.option("--expect", default=None, help="The manifest SHA-256 recorded at export.")
@click.option(
    "--tsa-ca",
    type=click.Path(dir_okay=False),
    default=None,
    help="The TSA's CA certificate (PEM) you trust, to check the timestamp against.",
)
def evidence_verify(
    bundle: str, key_path: str | None, fingerprint: str | None, expect: str | None, tsa_ca
) -> int:
    """Recompute every hash in a bundle (.zip or .wacz), parse every WARC record, follow the
    custody log's chain and check the signature and timestamp over the manifest; exit 0 when
    intact (and signed by the key given), 1 naming each problem in one line.

    Example: grayhound evidence verify --key grayhound-key.pub listing-42.zip"""
    from reports.evidence.verify import verify_bundle

    trust = _trust(key_path, fingerprint, expect, tsa_ca)
    result = verify_bundle(bundle, trust)
    if result.ok:
        click.echo(
            f"{bundle}: intact: {result.files_checked} files, {result.records_checked} WARC"
            f" records; manifest.json SHA-256 {result.manifest_sha256}"
        )
        for note in result.notes:
            click.echo(f"  {note}")
        return 0
    click.echo(f"{terminal_text(bundle)}: FAILED verification", err=True)
    for problem in result.problems:  # may quote entry names from a hostile bundle
        click.echo(f"  {terminal_text(problem)}")
    return 1


def _trust(key_path, fingerprint, expect, tsa_ca):
    from reports.evidence.seal import load_public_key, normalise_fingerprint, signer_info
    from reports.evidence.sealcheck import Trust
    from reports.evidence.timestamp import read_ca

    if key_path and fingerprint:
        raise click.UsageError("give --key or --fingerprint, not both")
    if key_path:
        fingerprint = signer_info(load_public_key(Path(key_path))).fingerprint
    elif fingerprint:
        fingerprint = normalise_fingerprint(fingerprint)
    if expect:
        expect = normalise_fingerprint(expect, "--expect")
    ca = read_ca(Path(tsa_ca)) if tsa_ca else None
    return Trust(fingerprint=fingerprint, expect=expect, tsa_ca=ca)


@evidence.command("keygen")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Private key file.")
@click.option(
    "--force", is_flag=True, help="Replace an existing pair (kept aside as *.replaced-<time>)."
)
def evidence_keygen(out: str, force: bool) -> int:
    """Write an Ed25519 key pair for signing bundles: KEYFILE (private, mode 0600) and
    KEYFILE.pub. An existing key is refused (exit 2) unless --force, which renames the old
    pair to KEYFILE.replaced-<time> rather than delete it. Point [evidence] signing_key at
    KEYFILE, and give KEYFILE.pub (or its fingerprint) to whoever verifies.

    Example: grayhound evidence keygen --out keys/grayhound"""
    from datetime import UTC, datetime

    from reports.evidence.seal import generate_keypair

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    pair = [Path(out), Path(out).with_name(Path(out).name + ".pub")]
    existing = [path for path in pair if path.exists() or path.is_symlink()]
    private, public, fingerprint = generate_keypair(Path(out), force=force, stamp=stamp)
    for path in existing:
        click.echo(terminal_text(f"kept the old {path.name} as {path.name}.replaced-{stamp}"))
    click.echo(f"wrote {private} (private, mode 0600) and {public}")
    click.echo(f"fingerprint (SHA-256): {fingerprint}")
    return 0


COMMANDS = [evidence]
