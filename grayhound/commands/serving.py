"""`grayhound serve`: the triage UI in a browser (Datasette with grayhound's plugin)."""

from __future__ import annotations

import socket
import sqlite3
import sys
import threading

import click

from grayhound.commands import config_option, current_config

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.option(
    "--host", default=None, help="Address to listen on (default [serve].host, 127.0.0.1)."
)
@click.option("--port", type=int, default=None, help="Port (default [serve].port, 8088).")
@click.option(
    "--hash-password",
    is_flag=True,
    help="Read a password (prompted, or one line of stdin) and print its hash for "
    "[serve.users], then exit.",
)
@config_option
def serve(host: str | None, port: int | None, hash_password: bool) -> None:
    """Triage in the browser: the cases queue with facets, seller pages (verdict, aliases,
    network), network and listing pages (reasons, price history, the page image, the captured
    page shown inert), decisions with a note and evidence bundles to download; every raw table
    browsable read-only, with Datasette's JSON API.

    Decisions need a signed-in user from [serve.users]; with none configured, the one-time
    link printed at start signs in whoever started the server.

    Example: grayhound serve --config demo/grayhound.toml --port 8088"""
    if hash_password:
        _print_hash()
        return
    from grayhound.store import open_store

    config = current_config()
    host = host or config.serve.host
    port = config.serve.port if port is None else port
    store = open_store(config.storage.database, create=False)  # its schema current first
    # The WAL the last command left (a day's detect and digest: ~0.3 GB at a million listings)
    # is copied back into the store on the other core while the queue refreshes. Closed here,
    # this connection (the store's only one) would first copy it all as it closes.
    closing = threading.Thread(target=_checkpoint_and_close, args=(store,), name="grayhound-wal")
    closing.start()
    _check_port(host, port)
    from grayhound.commands.evidence import _sealing
    from reports.serve.context import serve_context
    from reports.serve.startup import begin_queue_refresh

    # bundles exported from the browser are sealed as `grayhound evidence export` seals them
    context = serve_context(config, sealing=_sealing(config.evidence))
    begin_queue_refresh(context)  # its SQL runs on the other core while Datasette is imported
    import uvicorn

    from reports.serve.app import build_datasette, sign_in_url

    datasette = build_datasette(config, context=context)
    base = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    click.echo(f"grayhound serve: {base}/  (cases queue: {base}/triage/queue)")
    link = sign_in_url(datasette, base)
    if link:
        click.echo(f"sign in (once, as {_local_user()}): {link}")
    if config.serve.users:
        click.echo(
            f"users who may decide sign in at {base}/-/login: {', '.join(config.serve.users)}"
        )
    if host not in LOOPBACK:
        click.echo(
            f"grayhound: warning: listening on {host}, beyond this machine; put HTTPS in front "
            "(sign-in cookies travel in clear over plain HTTP)",
            err=True,
        )
    click.echo("Ctrl-C stops the server.")
    app = _finishing_on_stop(datasette.app(), context.derived_path, closing)
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")


def _finishing_on_stop(app, queue_file: str, closing: threading.Thread):
    """`app`, whose shutdown (Ctrl-C or SIGTERM, once no request runs) waits for the store's
    checkpoint to end and copies the queue's WAL back into its file before it says it is
    done. uvicorn ends a server stopped by SIGTERM by raising the signal again, which ends the
    process at once: a copy still running on a thread was cut off there, and the next start
    first read the WAL through and copied it back (~0.7 GB after a first start at a million
    listings: ~1 s before its first page), or checked a store whose checkpoint was cut off.
    The lifespan messages still reach `app` (Datasette runs its startup on the first of any
    kind, so at the server's start)."""
    import asyncio

    from grayhound.store.queue import finish_behind

    def finish() -> None:
        closing.join()
        finish_behind(queue_file)

    async def finishing(scope, receive, send):
        if scope["type"] != "lifespan":
            return await app(scope, receive, send)

        async def received():
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                try:
                    click.echo(
                        "grayhound serve: stopping: copying the queue's write-ahead log back"
                        " into its file"
                    )
                except OSError:  # stdout gone (a pipe closed with the terminal): copy anyway
                    pass
                await asyncio.to_thread(finish)
            return message

        return await app(scope, received, send)

    return finishing


def _checkpoint_and_close(store) -> None:
    """A passive checkpoint (it waits for no reader or writer, and none waits for it), then
    the store closed. A checkpoint that fails (a full disk, an I/O error) is the next
    command's to make, and that command checks the store first (`Store.__exit__`)."""
    try:
        with store:
            store.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error:
        pass


def _print_hash() -> None:
    from reports.serve.auth import hash_password

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.UsageError("an empty password cannot be hashed")
    click.echo(hash_password(password))
    click.echo('put it under [serve.users] as:  name = "<the hash above>"', err=True)


def _check_port(host: str, port: int) -> None:
    """Say in one line when the address cannot be listened on, before Datasette starts."""
    from grayhound.errors import UsageError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"{host}:{port}: cannot listen: {reason} (choose --port)") from None


def _local_user() -> str:
    from grayhound.triage import reviewer

    return reviewer()


COMMANDS = [serve]
