"""The one decision whether a URL from a crawled page may become a link (`href`, `src`) in any
output: digest (HTML, Markdown, email), prices, evidence summary and snapshots.

Only absolute `http`/`https` URLs with a host pass. The scheme is judged the way a browser
would read the attribute: HTML character references decoded (`&#106;avascript:`), ASCII tab
and newline removed anywhere (`java\\tscript:`), leading and trailing spaces and C0 controls
stripped, case ignored (`JavaScript:`). Anything else (javascript:, data:, vbscript:, file:,
relative or scheme-relative URLs, junk) is not a link: the caller shows it as text.

Jinja environments get it as the `safe_href` filter through `install(env)`."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

ALLOWED_SCHEMES = frozenset({"http", "https"})
# The WHATWG URL parser removes ASCII tab and newline anywhere in the input...
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
# ...and strips leading and trailing C0 controls and spaces.
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
# Characters that would end or break the URL where we write it (an HTML attribute is escaped
# by Jinja anyway; a Markdown autolink <…> ends at ">" or a space): percent-encoded.
_UNSAFE_IN_URL = {ord(c): f"%{ord(c):02X}" for c in ' "<>\\^`{|}'}
_UNSAFE_IN_URL.update({c: f"%{c:02X}" for c in range(0x20)})
_UNSAFE_IN_URL[0x7F] = "%7F"
MAX_URL_LENGTH = 8192  # longer "URLs" in a report are junk or an attack, not a link to follow


def safe_href(value: object) -> str | None:
    """`value` as a URL safe to put in an href/src, or None when it must not be a link."""
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH:
        return None
    cleaned = _browser_view(value)
    if not (_is_web_url(cleaned) and _is_web_url(_browser_view(html.unescape(value)))):
        return None
    return cleaned.translate(_UNSAFE_IN_URL)


def _browser_view(value: str) -> str:
    return _TAB_NEWLINE.sub("", value).strip(_C0_AND_SPACE)


def _is_web_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:  # an unbalanced "[" in the host, for instance
        return False
    return parts.scheme.lower() in ALLOWED_SCHEMES and bool(parts.netloc.strip("/\\"))


def install(env) -> None:
    """Make `safe_href` a filter and a global of a Jinja environment."""
    env.filters["safe_href"] = safe_href
    env.globals["safe_href"] = safe_href
