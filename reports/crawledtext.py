"""Crawled text (titles, seller names, reasons quoting them) as every report shows it: the
Jinja filters the digest and the pricing page share.

- `untrusted` (HTML): escape sequences and control characters dropped, invisible and bidi
  characters shown as ⟨U+202E⟩ (`grayhound.text.plain_text`), isolated in `<bdi>` so its
  direction cannot spill onto the rest of the sentence ("Shop ⟨U+202E⟩evil sells at $499.00").
  Autoescaping still applies: the value is escaped before it is wrapped.
- `md` (Markdown, an email's text part): the same cleaning, Markdown punctuation
  backslash-escaped and `<`, `>`, `&` written as entities, so hostile text stays text.
- `isolated` (Markdown): `md` between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE, plain
  text's `<bdi>`, for names and titles.

`install(env)` adds them (and `safe_href` from `reports.links`) to a Jinja environment."""

from __future__ import annotations

from markupsafe import Markup

from grayhound.text import plain_text
from reports import links

MARKDOWN_SPECIALS = "\\`*_[]|#"
FSI, PDI = "\u2068", "\u2069"  # Unicode's isolates: the plain-text <bdi>


def untrusted_html(value) -> Markup:
    """Text from a crawled page, cleaned, isolated in <bdi>, escaped."""
    return Markup("<bdi>{}</bdi>").format(plain_text(value))


def markdown_text(value) -> Markup:
    """Text from a crawled page for Markdown: cleaned, punctuation escaped, HTML neutralised
    (quotes stay readable in the email's plain-text part)."""
    text = plain_text(value)
    escaped = "".join("\\" + c if c in MARKDOWN_SPECIALS else c for c in text)
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        escaped = escaped.replace(raw, entity)
    return Markup(escaped)


def markdown_isolated(value) -> Markup:
    """`markdown_text` between FSI and PDI, for the names and titles that open a line."""
    return Markup(FSI + markdown_text(value) + PDI)


def install(env) -> None:
    """Make the filters (and `safe_href`) available to a Jinja environment."""
    env.filters.update(untrusted=untrusted_html, md=markdown_text, isolated=markdown_isolated)
    links.install(env)
