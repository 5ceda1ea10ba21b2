"""Who may do what in `grayhound serve`: password hashes, the sign-in page, the one-time sign-in
link, and the permission rules the plugin hooks apply.

Signing in sets Datasette's own signed `ds_actor` cookie (the secret is new each time the server
starts, so a restart signs everyone out). Hashes use the PBKDF2-SHA256 format of Django and
datasette-auth-passwords (`pbkdf2_sha256$iterations$salt$base64`), so existing hashes work."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from urllib.parse import quote

from datasette.utils.asgi import Response

from reports.serve.context import DATABASE, DERIVED, ServeContext, context_of

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256
WRITE_ACTIONS = ("grayhound-review", "grayhound-export")
ACTOR_COOKIE = "ds_actor"  # Datasette reads the signed actor from this cookie
VIA_PASSWORD, VIA_LINK = "password", "sign-in link"
# Checked when the user name is unknown, so a wrong name costs as long as a wrong password.
_DECOY_HASH = f"{ALGORITHM}$1000$decoy-salt${base64.b64encode(bytes(32)).decode()}"


def hash_password(password: str, *, salt: str | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"{ALGORITHM}${iterations}${salt}${base64.b64encode(digest).decode()}"


def verify_password(password: str, password_hash: str) -> bool:
    """True when the password matches; False for a wrong password or a malformed hash."""
    try:
        algorithm, iterations, salt, _ = password_hash.split("$")
        rounds = int(iterations)
    except (AttributeError, ValueError):
        return False
    if algorithm != ALGORITHM or rounds < 1:
        return False
    expected = hash_password(password, salt=salt, iterations=rounds)
    return secrets.compare_digest(expected.encode(), password_hash.encode())


async def ensure_read(request, datasette) -> None:
    """Raise Forbidden unless the config lets this visitor read (see `metadata.metadata`)."""
    await datasette.ensure_permissions(
        request.actor, [("view-database", DATABASE), "view-instance"]
    )


def may_write(context: ServeContext, actor: dict | None) -> bool:
    """Only an actor grayhound signed in may change anything: a configured user, or whoever
    started the server (through the one-time link)."""
    if not isinstance(actor, dict) or not actor.get("id"):
        return False
    if actor.get("grayhound") == VIA_PASSWORD:
        return actor["id"] in context.users
    return actor.get("grayhound") == VIA_LINK and actor["id"] == context.local_user


def actor_name(actor: dict | None) -> str | None:
    return actor.get("id") if isinstance(actor, dict) else None


def safe_next(target: str | None) -> str:
    """A place on this server to go back to after signing in; never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_redirect(request) -> Response:
    return Response.redirect("/-/login?next=" + quote(request.full_path, safe=""))


async def login(request, datasette):
    """GET: the sign-in form. POST: check the password; sign in and go back where one was."""
    context = context_of(datasette)
    error, status = None, 200
    post = await request.post_vars() if request.method == "POST" else {}
    target = safe_next(post.get("next") or request.args.get("next"))
    if request.method == "POST":
        name = post.get("username") or ""
        known = context.users.get(name)
        ok = await asyncio.to_thread(
            verify_password, post.get("password") or "", known or _DECOY_HASH
        )
        if known and ok:
            response = Response.redirect(target)
            sign_in(datasette, response, {"id": name, "grayhound": VIA_PASSWORD})
            return response
        error, status = "That user name and password do not match.", 401
    page = await datasette.render_template(
        "grayhound_login.html",
        {
            "error": error,
            "next": target,
            "username": post.get("username") or "",
            "has_users": bool(context.users),
            "anonymous": context.anonymous,
        },
        request=request,
    )
    return Response.html(page, status=status)


async def sign_in_link(request, datasette):
    """The one-time link `grayhound serve` prints: signs in whoever started the server."""
    context = context_of(datasette)
    token = request.args.get("token") or ""
    if not context.sign_in_token or not secrets.compare_digest(
        token.encode(), context.sign_in_token.encode()
    ):
        return Response.text(
            "This sign-in link was already used or is wrong. Restart `grayhound serve` for a "
            "new one, or sign in with a password at /-/login.",
            status=403,
        )
    context.sign_in_token = None
    response = Response.redirect(f"/{DERIVED}/queue")  # where triage starts
    sign_in(datasette, response, {"id": context.local_user, "grayhound": VIA_LINK})
    return response


def sign_in(datasette, response: Response, actor: dict) -> None:
    response.set_cookie(
        ACTOR_COOKIE, datasette.sign({"a": actor}, "actor"), httponly=True, samesite="lax"
    )
