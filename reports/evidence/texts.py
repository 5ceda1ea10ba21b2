"""Listing text in the evidence summary: isolated, its invisible characters shown, its URLs
linked only when they are web addresses.

A seller name holding a right-to-left override would otherwise reverse the rest of its line,
and a zero-width or bidi character makes two different names look alike: each untrusted value
is wrapped in `<bdi dir="auto">` and every invisible or direction-changing character is shown
as a visible `[U+XXXX]` mark."""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

from grayhound.text import INVISIBLE as INVISIBLE_TEXT
from reports import links

# What grayhound shows visibly everywhere (bidi controls, zero-width and other invisible
# characters: `grayhound.text`), plus the C0/C1 controls a crawled value may still hold.
INVISIBLE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f]|{INVISIBLE_TEXT.pattern}")
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


def install(env) -> None:
    env.filters["untrusted"] = untrusted
    links.install(env)
    env.globals["has_invisible"] = has_invisible
