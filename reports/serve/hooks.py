"""grayhound's Datasette plugin: the hook implementations `reports.serve.app` registers.

Every hook first asks whether the Datasette instance is one grayhound built (`context_of`); an
instance it did not build is left exactly as Datasette would run it."""

from __future__ import annotations

import json

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup

from reports.serve import actions, auth, pageimages, pages, shown
from reports.serve.context import DATABASE, DERIVED, context_of

# Every page grayhound serves (Datasette's included): scripts and styles only from this
# server, images only from it or inline, nothing framed but its own inert captures, and no
# form or link target outside. Stored listing text is escaped; this is the second wall.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)
SECURITY_HEADERS = {
    b"content-security-policy": PAGE_CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",  # a reviewer's click must not tell a seller where from
}
BADGES = {"verdict": "gh-verdict", "seller_verdict": "gh-verdict", "state": "gh-state"}
TEXT_COLUMNS = ("why", "changes")  # crawled text quoted in sentences
PERCENT_COLUMNS = {"msrp_position": True, "margin": True}  # column -> signed
PERCENT_COLUMNS |= dict.fromkeys(("price_share", "seller_share", "title_share"), False)


@hookimpl
def register_routes(datasette):
    if context_of(datasette) is None:
        return []
    return [
        (r"^/-/login$", auth.login),
        (r"^/-/grayhound/sign-in$", auth.sign_in_link),
        (r"^/-/grayhound/seller/(?P<id>[0-9]+)(\.(?P<format>json))?$", pages.seller_page),
        (r"^/-/grayhound/network/(?P<id>[0-9]+)(\.(?P<format>json))?$", pages.network_page),
        (r"^/-/grayhound/listing/(?P<id>[0-9]+)(\.(?P<format>json))?$", pages.listing_page),
        (r"^/-/grayhound/capture/(?P<id>[0-9]+)$", pages.capture_page),
        (r"^/-/grayhound/prices(\.(?P<format>json))?$", pages.prices_page),
        (r"^/-/grayhound/review$", actions.review),
        (r"^/-/grayhound/export$", actions.export),
        (r"^/-/grayhound/render$", actions.render_image),
        (r"^/-/grayhound/bundles/(?P<name>[^/]+)$", actions.bundle),
        (
            r"^/-/grayhound/bundle-image/(?P<name>[^/]+)/(?P<image>capture-[0-9]{8}\.png)$",
            pageimages.bundle_image_file,
        ),
        (r"^/-/grayhound/rendered/(?P<name>[^/]+)$", pageimages.rendered_image_file),
    ]


@hookimpl(hookwrapper=True)
def register_facet_classes():
    """Datasette's array facet gives way to one counting the queue's flags by set
    (`reports.serve.facets`); it is Datasette's own for anything else."""
    from datasette.facets import ArrayFacet

    from reports.serve.facets import FlagsFacet

    outcome = yield
    classes = outcome.get_result()
    outcome.force_result([[FlagsFacet if k is ArrayFacet else k for k in ks] for ks in classes])


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    context = context_of(datasette)
    if context is None:
        return None
    if action == "view-database" and resource == "_internal":
        return False  # Datasette's own bookkeeping, even for a local user named "root"
    if action in auth.WRITE_ACTIONS:
        return auth.may_write(context, actor)
    return None


@hookimpl
def forbidden(datasette, request, message):
    """A visitor who has not signed in is sent to sign in, then brought back; a script asking
    for JSON is told so in JSON."""
    context = context_of(datasette)
    if context is None or request.actor is not None or request.method != "GET":
        return None
    if request.path.endswith(".json"):
        message = f"{message}: sign in at /-/login first"
        return Response.json({"ok": False, "error": message, "status": 403}, status=403)
    return auth.login_redirect(request)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def with_grayhound(scope, receive, send):
            context = context_of(datasette)
            if context is None or scope["type"] != "http":
                return await app(scope, receive, send)
            tables = _derived_tables_shown(scope.get("path", ""))
            if tables:
                from reports.serve.derived import refresh_or_warn
                from reports.serve.startup import refreshed_at_start

                await refreshed_at_start(context)
                await refresh_or_warn(datasette, tables)
            await app(scope, receive, _with_security_headers(send))

        return with_grayhound

    return wrap


@hookimpl
def prepare_jinja2_environment(env, datasette):
    """Filters for crawled text in grayhound's templates: `shown`, `plain`, `outside_link`."""
    if context_of(datasette) is not None:
        shown.install(env)


@hookimpl
def extra_css_urls(datasette):
    if context_of(datasette) is not None:
        return ["/-/grayhound-static/grayhound.css"]
    return []


@hookimpl
def menu_links(datasette, actor):
    """The menu offers signing in; grayhound's pages are in the header bar."""
    if context_of(datasette) is None or actor is not None:
        return []
    return [{"href": "/-/login", "label": "Sign in"}]


@hookimpl
def extra_template_vars(datasette, request, database, table):
    context = context_of(datasette)
    if context is None:
        return {}
    actor = request.actor if request else None
    if database == DERIVED and table == "queue" and request is not None:
        # a view of two tables kept apart for speed (`grayhound.store.queue.VIEW`): to its
        # reader the cases queue, its heading without Datasette's "(view)"
        return _queue_vars(datasette, request, {**_page_vars(context, actor), "is_view": False})
    return _page_vars(context, actor)


def _queue_vars(datasette, request, shown_vars: dict):
    """The queue filtered to one seller's cases names that seller above the table."""
    wanted = request.args.get("seller_id") or ""
    if not wanted.isdigit():
        return shown_vars

    async def with_seller() -> dict:
        from reports.serve.context import read

        seller = await read(datasette, lambda store: store.seller_profile(int(wanted)))
        return {**shown_vars, "grayhound_queue_seller": seller}

    return with_seller


def _page_vars(context, actor) -> dict:
    return {
        "grayhound_signed_in": auth.may_write(context, actor),
        # a visitor who may read nothing is shown no links that lead back to signing in
        "grayhound_nav": []
        if actor is None and context.anonymous == "none"
        else [
            ("Cases queue", f"/{DERIVED}/queue"),
            ("Crawl health", f"/{DERIVED}/crawl_health"),
            ("Competitor pricing", "/-/grayhound/prices"),
            ("Raw tables", "/grayhound"),
        ],
    }


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """In the derived tables, the subject, seller and model link to grayhound's pages, flags
    read as words, and a crawled URL is a plain outside link that says nothing about us."""
    if context_of(datasette) is None or value is None:
        return None
    if database == DATABASE:
        return _raw_cell(value)
    if database != DERIVED:
        return None
    if table == "queue":
        return _queue_cell(row, column, value)
    if table == "competitors":
        return _competitor_cell(row, column, value)
    if column in PERCENT_COLUMNS:
        return _percent(value, PERCENT_COLUMNS[column])
    return None


def _queue_cell(row, column: str, value):
    if column == "subject":
        return _link(f"/-/grayhound/{row['kind']}/{row['subject_id']}", value)
    if column == "seller" and row["seller_id"] is not None:
        seller_id = row["seller_id"]
        return _link(f"/-/grayhound/seller/{seller_id}", value) + Markup(
            ' <a class="gh-filter" href="/{}/queue?seller_id={}" title="only this seller\'s'
            ' cases">its cases</a>'
        ).format(DERIVED, seller_id)
    if column == "network_id":
        return _link(f"/-/grayhound/network/{value}", f"#{value}")
    if column in TEXT_COLUMNS:
        return shown.shown(value)
    if column == "reasons":  # all of them, folded: `why` already gives the strongest
        return _folded_reasons(value)
    if column in BADGES:
        return Markup('<span class="{} {}-{}">{}</span>').format(
            BADGES[column], BADGES[column], value, value
        )
    if column == "flags":
        flags = json.loads(value or "[]")
        return Markup(" ").join(Markup('<span class="gh-flag">{}</span>').format(f) for f in flags)
    if column == "url":
        return shown.outside_link(value)
    return None


def _folded_reasons(value: str) -> Markup:
    reasons = json.loads(value or "[]")
    items = Markup("").join(Markup("<li>{}</li>").format(shown.shown(r)) for r in reasons)
    summary = f"{len(reasons)} reason{'' if len(reasons) == 1 else 's'}"
    return Markup('<details class="gh-folded"><summary>{}</summary><ul>{}</ul></details>').format(
        summary, items
    )


def _competitor_cell(row, column: str, value):
    if column in ("title", "listing_id"):
        return _link(f"/-/grayhound/listing/{row['listing_id']}", value)
    if column == "model":
        return Markup('<a href="/-/grayhound/prices?model={}">{}</a>').format(
            _query_value(value), value
        )
    if column in ("seller", "title"):
        return shown.shown(value)
    if column == "url":
        return shown.outside_link(value)
    if column in PERCENT_COLUMNS:
        return _percent(value, PERCENT_COLUMNS[column])
    if column in ("price", "price_usd"):
        return f"{value:,.2f}"
    return None


def _percent(value: float, signed: bool) -> str:
    """-0.5514 → "−55.1 %", 0.98 → "98.0 %": the fraction as people say it."""
    return (f"{value * 100:+.1f} %" if signed else f"{value * 100:.1f} %").replace("-", "−")


def _raw_cell(value):
    """A stored table's cell: a crawled URL links apart (through `safe_href`), text holding
    invisible or control characters shows them; the rest as Datasette shows it."""
    if not isinstance(value, str):
        return None
    if value.strip().lower().startswith(("http://", "https://")) and " " not in value.strip():
        return shown.outside_link(value)
    return shown.shown(value) if shown.has_marked(value) else None


def _link(href: str, text) -> Markup:
    """A link to one of grayhound's own pages, its text (crawled) shown as `shown` shows it."""
    return Markup('<a href="{}">{}</a>').format(href, shown.shown(text))


def _query_value(text: str) -> str:
    from urllib.parse import quote

    return quote(str(text), safe="")


def _derived_tables_shown(path: str) -> tuple[str, ...]:
    """The derived tables a page shows (or counts the rows of): each is made fresh first."""
    from reports.serve.derived import TABLES

    if path in ("/", "/.json") or path.split(".")[0] == f"/{DERIVED}":
        return tuple(TABLES)
    if path.startswith(f"/{DERIVED}/"):
        name = path.split("/")[2].split(".")[0]
        return (name,) if name in TABLES else ()
    if path.startswith("/-/grayhound/prices"):
        return ("competitors",)
    return ()


def _with_security_headers(send):
    async def send_with_headers(message):
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {key.lower() for key, _ in headers}
            headers += [(k, v) for k, v in SECURITY_HEADERS.items() if k not in present]
            message = {**message, "headers": headers}
        await send(message)

    return send_with_headers
