"""The Datasette instance `grayhound serve` runs: the store opened read-only under the name
"grayhound", the derived tables under "triage" (a file kept beside the store,
`grayhound.store.queue.queue_path`: the queue of a million listings does not fit in memory,
and a server started again derives only what changed since), grayhound's plugin registered
in this process (so an editable install needs no entry point), its templates and metadata."""

from __future__ import annotations

from pathlib import Path

from grayhound.lean import units_on_first_use

# Datasette's vendored pint would import numpy (~0.15 s of serve's start, more CPU beside the
# queue's refresh): pint imported alone first, before Datasette, whose plugins load with it and
# see numpy; and the unit registry Datasette's views make as they are imported (~0.35 s) made
# only once a column's units or a custom unit needs it (the plugins load after, outside this)
with units_on_first_use():
    import datasette.views.base  # noqa: F401

from datasette.app import Datasette  # noqa: E402
from datasette.database import Database  # noqa: E402
from datasette.plugins import pm  # noqa: E402

from grayhound import __version__  # noqa: E402
from grayhound.config import Config  # noqa: E402
from reports.serve import hooks  # noqa: E402
from reports.serve.context import DATABASE, DERIVED, attach, serve_context  # noqa: E402
from reports.serve.metadata import metadata  # noqa: E402

HERE = Path(__file__).parent
SETTINGS = {
    "allow_download": False,  # the store is live (WAL): a copy of the file would be torn
    "suggest_facets": False,  # the derived tables say which facets matter
    "default_page_size": 50,
    "sql_time_limit_ms": 3000,
    "facet_time_limit_ms": 1000,  # the flags facet reads every row's flags (the queue: 10⁵–10⁶)
}


class ReadOnlyDatabase(Database):
    """The store as Datasette sees it: read connections only (`mode=ro`, which also reads
    what a crawl is writing, unlike `immutable=1`); asking it for a write connection fails."""

    def connect(self, write=False):
        if write:
            raise PermissionError(
                "grayhound serve opens the store read-only; changes go through grayhound's "
                "own functions"
            )
        return super().connect(write=False)


def build_datasette(
    config: Config, *, sign_in_link: bool | None = None, sealing=None, context=None
) -> Datasette:
    """A Datasette serving `config`'s store with grayhound's plugin.

    `sign_in_link`: make a one-time link that signs in whoever started the server (default:
    when [serve.users] names nobody, so someone can always decide). `sealing`: how exported
    bundles are signed and timestamped ([evidence], as `grayhound evidence export` reads it).
    `context`: one `serve_context` made already (`grayhound serve` begins the queue's refresh
    on it before Datasette is imported); the two options are then its own."""
    if not pm.is_registered(hooks):
        pm.register(hooks, name="grayhound")
    if context is None:
        context = serve_context(config, sign_in_link=sign_in_link, sealing=sealing)
    datasette = Datasette(
        memory=False,
        metadata=metadata(config.serve.anonymous),
        template_dir=str(HERE / "templates"),
        static_mounts=[("-/grayhound-static", str(HERE / "static"))],
        settings=SETTINGS,
        version_note=f"grayhound {__version__}",
    )
    datasette.remove_database("_memory")  # Datasette adds one when given no files
    store = ReadOnlyDatabase(datasette, str(Path(config.storage.database)), is_mutable=True)
    datasette.add_database(store, name=DATABASE)
    derived = Database(datasette, path=context.derived_path, is_mutable=True)
    datasette.add_database(derived, name=DERIVED)
    attach(datasette, context)
    return datasette


def sign_in_url(datasette, base_url: str) -> str | None:
    from reports.serve.context import context_of

    token = context_of(datasette).sign_in_token
    return f"{base_url.rstrip('/')}/-/grayhound/sign-in?token={token}" if token else None
