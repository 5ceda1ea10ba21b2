"""`grayhound digest`, `grayhound review list|set`, `grayhound run` and `grayhound schedule`:
what brand-protection staff read every morning, and how they decide about it."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import click

from grayhound.commands import config_option, current_config, force_option, open_output
from grayhound.commands.outputs import check_output
from grayhound.config import DIGEST_FORMATS
from grayhound.triage import STATES

# What every earlier digest carries, whatever its format: it may be overwritten without --force.
DIGEST_MARKS = (
    b"<title>grayhound digest",
    b"# grayhound daily digest",
    b'"crawl_health": ',
    b"case_id,group,state,severity,",
)


@click.command()
@click.option(
    "--since",
    default=None,
    help="Compare with this moment: 24h, 90m, 7d or an ISO date "
    "(default: the previous digest, else 24h).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(DIGEST_FORMATS),
    default=None,
    help="Output format (default: from the --out extension, else md).",
)
@click.option("--out", default=None, help="Output file (default stdout; '-' for stdout).")
@force_option
@click.option("--no-record", is_flag=True, help="A preview: do not remember this digest.")
@config_option
def digest(
    since: str | None, fmt: str | None, out: str | None, force: bool, no_record: bool
) -> None:
    """The digest: new, changed and still-open cases ranked by risk, with crawl health.

    Each digest is remembered, so the next one's "new" means new since this one.

    Example: grayhound digest --since 7d --format html --out digest.html"""
    from grayhound.pipeline import make_daily_book, produce_digest
    from grayhound.store import open_store
    from reports.digest.render import write

    config = current_config()
    suffix = Path(out).suffix.lstrip(".") if out not in (None, "-") else ""
    fmt = fmt or (suffix if suffix in DIGEST_FORMATS else "md")
    target = {"config": config, "marks": DIGEST_MARKS, "force": force}
    if out not in (None, "-"):
        check_output(out, **target)  # before the digest is remembered
    with open_store(config.storage.database, create=False) as store:
        result = produce_digest(store, config, datetime.now(UTC), since, record=not no_record)
    try:
        with open_output(out, **target) as stream:
            write(result, fmt, stream, evidence_dir=str(config.storage.evidence_dir))
    finally:
        result.close()
    if out not in (None, "-"):
        counts = result.counts["groups"]
        click.echo(
            f"wrote {out}: {counts['new']} new, {counts['changed']} changed, "
            f"{counts['still_open']} still open",
            err=True,
        )
    if not no_record:  # after a digest not made on the kept book (a store's first): made now
        make_daily_book(config, result, partial(click.echo, err=True))


@click.group()
def review() -> None:
    """Triage cases: one per flagged listing or seller, with an append-only decision log."""


@review.command("list")
@click.option(
    "--state",
    type=click.Choice((*STATES, "active", "all")),
    default="active",
    show_default=True,
    help="active = open, confirmed and takedown-requested.",
)
@click.option("--brand", default=None, help="Only cases about this brand id.")
@click.option("--flag", default=None, help="Only cases carrying this flag.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@config_option
def review_list(state: str, brand: str | None, flag: str | None, fmt: str) -> None:
    """List cases with their state, risk, flags and subject.

    Example: grayhound review list --state confirmed --flag price_low --format json"""
    from grayhound.store import open_store, utc_now
    from grayhound.triage import SHOWN_STATES, reopen_changed
    from reports.caselist import write_case_json, write_case_table

    config = current_config()
    wanted = SHOWN_STATES if state == "active" else STATES if state == "all" else (state,)
    with open_store(config.storage.database, create=False) as store:
        # cases opened for every flagged subject, reopened where evidence moved (as the digest)
        threshold = config.digest.reopen_price_change
        reopen_changed(store, store.flagged_subjects(), threshold, utc_now())
        # one read of the cases, a row at a time, a long list in parts on every CPU
        stream = _stdout()
        write = write_case_json if fmt == "json" else write_case_table
        write(store, wanted, stream, brand, flag)
        stream.flush()


@review.command("set")
@click.argument("case_id")
@click.argument("state")
@click.option("--note", required=True, help="Why: what you checked, the ticket, the takedown.")
@click.option("--by", default=None, help="Who decided (default $USER).")
@config_option
def review_set(case_id: str, state: str, note: str, by: str | None) -> None:
    """Set a case's state: open, confirmed, dismissed, takedown-requested or resolved.

    A dismissed case leaves the digest until its evidence changes; confirmed and
    takedown-requested stay until resolved.

    Example: grayhound review set 12 dismissed --note "authorized via regional distributor" """
    from grayhound.store import open_store, utc_now
    from grayhound.triage import set_state

    config = current_config()
    with open_store(config.storage.database, create=False) as store:
        entry = set_state(store, case_id, state, note, by, utc_now())
    click.echo(
        f"case #{entry['case_id']}: {entry['previous_state']} → {entry['state']} "
        f"(by {entry['by']}, evidence {entry['evidence_fingerprint']})"
    )


@click.command("run")
@config_option
def run() -> int:
    """Crawl, detect and write the digest (what the schedule runs); refuses to overlap
    another run of the same database.

    Example: grayhound --config watch/grayhound.toml run"""
    from grayhound.pipeline import run_pipeline

    result = run_pipeline(current_config(), datetime.now(UTC), echo=click.echo)
    for label, path in result["outputs"].items():
        click.echo(f"{label}: {path}")
    return 0 if result["crawl_exit"] == 0 else 1


@click.command()
@config_option
def schedule() -> None:
    """Run `grayhound run` on the configured [schedule] cron, in the foreground, until
    stopped with Ctrl-C or SIGTERM. Each run is a child process; each is logged.

    Example: grayhound --config watch/grayhound.toml schedule"""
    from grayhound.schedule import run_schedule

    def log(message: str) -> None:
        click.echo(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z {message}", err=True)

    run_schedule(current_config(), log=log)


def _stdout():
    """Where `click.echo` writes: stdout itself when it writes UTF-8 (a file's descriptor for
    the parts to be copied into), else `click.echo` (which writes UTF-8 to a stream that
    claims ASCII)."""
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("_", "-")
    return sys.stdout if encoding in ("utf-8", "utf8") else _Echoed()


class _Echoed:
    """A text stream writing through `click.echo`."""

    def write(self, text: str) -> int:
        click.echo(text, nl=False)
        return len(text)

    def flush(self) -> None:
        pass


COMMANDS = [digest, review, run, schedule]
