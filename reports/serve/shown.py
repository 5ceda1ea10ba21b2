"""Text and URLs written by strangers (seller names, aliases, titles, network signals, notes
quoting them) as grayhound serve's pages show them.

- `shown(value)`: escaped, inside `<bdi>` (its direction is its own: a right-to-left name
  cannot reorder the words around it), with every bidi control, invisible character
  (`grayhound.text.INVISIBLE`) and control character written as a visible ⟨U+XXXX⟩ marker, so
  "Xiao⟨U+200B⟩mi" cannot pass for "Xiaomi" and a right-to-left override reverses nothing.
- `plain(value)`: the same for places that take no markup (`<title>`): markers, and the text
  between FSI and PDI so it is still isolated.
- `outside_link(url, text)`: a link only when `reports.links.safe_href` (the one check) allows
  it; it opens apart, sends no referrer, is followed by no crawler. Anything else is text.
- `install(env)`: these as Jinja filters of Datasette's environment."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from grayhound.text import INVISIBLE
from reports.links import safe_href

# What `show_invisible` marks, and control characters too (tab and newline read as spaces).
_MARKED = re.compile(f"{INVISIBLE.pattern}|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_MARKER = Markup('<span class="gh-invisible" title="an invisible character in the text">{}</span>')
FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"


def shown(value: object) -> Markup:
    if value is None:
        return Markup("")
    text, parts, last = str(value), [], 0
    for match in _MARKED.finditer(text):
        parts.append(escape(text[last : match.start()]))
        parts.append(_MARKER.format(_code(match.group())))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("<bdi>{}</bdi>").format(Markup("").join(parts))


def plain(value: object) -> str:
    """Text for an attribute-free context (a page title): markers, isolated, still escaped
    by the template."""
    if value is None:
        return ""
    marked = _MARKED.sub(lambda match: _code(match.group()), str(value))
    return FIRST_STRONG_ISOLATE + marked + POP_DIRECTIONAL_ISOLATE


def outside_link(url: object, text: object = None) -> Markup:
    """A crawled URL as a link that says nothing about us, or as text when it may not be one."""
    if url in (None, ""):
        return Markup("—")
    href = safe_href(url)
    label = shown(text if text is not None else url)
    if href is None:
        return label
    return Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>').format(
        href, label
    )


def has_marked(value: object) -> bool:
    """Whether the text holds anything `shown` marks (the raw tables show it only then)."""
    return isinstance(value, str) and _MARKED.search(value) is not None


def install(env) -> None:
    env.filters["shown"] = shown
    env.filters["plain"] = plain
    env.filters["outside_link"] = outside_link


def _code(character: str) -> str:
    return f"⟨U+{ord(character):04X}⟩"
