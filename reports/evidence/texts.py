"""Listing text in the evidence summary: isolated, its invisible characters shown, its URLs
linked only when they are web addresses.

A seller name holding a right-to-left override would otherwise reverse the rest of its line,
and a zero-width or bidi character makes two different names look alike: each untrusted value
is wrapped in `<bdi dir="auto">` and every invisible or direction-changing character is shown
as a visible `[U+XXXX]` mark."""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import urlsplit

from markupsafe import Markup, escape

# C0/C1 controls (except tab and newline), soft hyphen, Arabic letter mark, Mongolian vowel
# separator, zero-width and direction marks, bidi embeddings/overrides/isolates, word joiner
# and invisible operators, the byte-order mark, and interlinear annotation characters.
INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
MARK = Markup('<span class="invisible" title="{title}">[U+{code:04X}]</span>')


def untrusted(value) -> Markup:
    """A value from a crawled page as isolated, escaped HTML with invisible characters shown."""
    text = "" if value is None else str(value)
    parts, last = [], 0
    for match in INVISIBLE.finditer(text):
        char = match.group()
        parts.append(escape(text[last : match.start()]))
        name = unicodedata.name(char, "control character")
        parts.append(
            MARK.format(title=f"invisible character {name} in the original", code=ord(char))
        )
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup('<bdi dir="auto">') + Markup("").join(parts) + Markup("</bdi>")


def has_invisible(value) -> bool:
    return bool(INVISIBLE.search("" if value is None else str(value)))


def link_target(value) -> str | None:
    """`value` when it may be an href (an absolute http/https URL), else None.

    The scheme is read as a browser would: character references decoded, tab/newline removed,
    leading controls and spaces stripped, any case. (Kept behind this one function so the
    project's shared helper can replace it.)"""
    if not isinstance(value, str) or len(value) > 8192:
        return None
    for view in (value, html.unescape(value)):
        cleaned = re.sub(r"[\t\n\r]", "", view).strip("".join(chr(c) for c in range(0x21)))
        try:
            parts = urlsplit(cleaned)
        except ValueError:
            return None
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc.strip("/\\"):
            return None
    return value


def install(env) -> None:
    env.filters["untrusted"] = untrusted
    env.globals["link_target"] = link_target
    env.globals["has_invisible"] = has_invisible
