"""What one `grayhound serve` instance knows beyond Datasette: its config, who may sign in, the
one-time sign-in link, the derived tables' freshness; and the two ways its code touches the
database (reads on Datasette's read-only connection, writes through grayhound's own Store)."""

from __future__ import annotations

import asyncio
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grayhound.config import Config
from grayhound.store import Store, open_store
from grayhound.store.queue import queue_path
from grayhound.store.subjects import reader

DATABASE = "grayhound"  # the name Datasette serves the store under: /grayhound/listings
DERIVED = "triage"  # the database of the derived tables: /triage/queue


@dataclass
class ServeContext:
    config: Config
    users: dict[str, str]  # user name -> password hash ([serve.users])
    anonymous: str  # none | read
    local_user: str  # who the one-time sign-in link signs in: whoever started the server
    sign_in_token: str | None = None  # the link's secret, until it is used once
    stamps: dict[str, tuple] = field(default_factory=dict)  # derived table -> change stamp
    refresh_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    render_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one browser at a time
    price_report: Any = None  # the PriceReport the competitors table was last built from
    derived_path: str = ""  # the file of the derived tables, kept beside the store
    derived_conn: Any = None  # grayhound's one writing connection to it (store attached)
    queue_marks: dict | None = None  # what the queue was filled from (store.queue.queue_marks)
    queue_written: int | None = None  # rows the queue's last refresh (re)wrote
    sealing: Any = None  # reports.evidence.bundle.Sealing: how exports are signed/timestamped
    queue_refreshing: Any = None  # concurrent.futures.Future: the queue's refresh begun at start

    @property
    def exports_dir(self) -> Path:
        return Path(self.config.storage.evidence_dir) / "exports"


def serve_context(
    config: Config, *, sign_in_link: bool | None = None, sealing: Any = None
) -> ServeContext:
    """What a server of `config`'s store knows beyond Datasette, its derived tables' file made
    beside the store. `sign_in_link`: make a one-time link that signs in whoever started the
    server (default: when [serve.users] names nobody, so someone can always decide)."""
    from grayhound.triage import reviewer

    serve = config.serve
    context = ServeContext(
        config=config,
        users=dict(serve.users),
        anonymous=serve.anonymous,
        local_user=reviewer(),
        sealing=sealing,
    )
    if sign_in_link if sign_in_link is not None else not serve.users:
        context.sign_in_token = secrets.token_urlsafe(32)
    context.derived_path = queue_path(str(Path(config.storage.database)))
    Path(context.derived_path).touch()
    return context


_CONTEXTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def attach(datasette, context: ServeContext) -> None:
    _CONTEXTS[datasette] = context


def context_of(datasette) -> ServeContext | None:
    """The grayhound context of this Datasette, or None for one grayhound did not build."""
    return _CONTEXTS.get(datasette)


async def read(datasette, work: Callable[[Store], Any]) -> Any:
    """Run `work(store)` on a Store over Datasette's read-only connection, in its threads."""
    return await datasette.get_database(DATABASE).execute_fn(lambda conn: work(reader(conn)))


async def write(context: ServeContext, work: Callable[[Store], Any]) -> Any:
    """Run `work(store)` on grayhound's own writable Store, in a worker thread: the one way a
    page changes the database (triage decisions, case bookkeeping, evidence exports)."""

    def run() -> Any:
        with open_store(context.config.storage.database, create=False) as store:
            return work(store)

    return await asyncio.to_thread(run)
