"""Text written by strangers (titles, seller names, URLs, error messages quoting them), made
safe to show: on a terminal, in a report, in the store.

- `terminal_text`: what may reach a terminal. Escape sequences are removed whole (CSI such as
  `ESC[2J`, OSC such as window titles `ESC]0;…BEL` and hyperlinks `ESC]8;;…ESC\\`, DCS/APC/PM,
  their 8-bit C1 forms), then every remaining control character; tabs and newlines become
  spaces. Cutting to a width happens after, so a cut can never leave a sequence open.
- `plain_text`: the same without a width: what a report (Markdown, an email's text, HTML)
  shows of crawled text.
- `show_invisible`: bidi controls and invisible characters (right-to-left override, zero-width
  space, BOM…) written as `⟨U+202E⟩`, so "Xiao⟨U+200B⟩mi Store" cannot pass for "Xiaomi Store"
  and a right-to-left override cannot reverse the rest of a line.
- `cut`: a stored field kept to a sane length, saying whether it was cut.

A leaf of the spine: imports nothing of grayhound, so every stage may use it."""

from __future__ import annotations

import re

ELLIPSIS = "…"
# Escape sequences as terminals parse them (ECMA-48), 7-bit ESC forms and 8-bit C1 forms.
# String commands (OSC, DCS, SOS, PM, APC) run to BEL or ST; an unterminated one is removed
# to the end of the text, since a terminal would swallow that much too.
_SEQUENCES = re.compile(
    r"(?:\x1b\]|\x9d)[^\x07\x9c]*?(?:\x07|\x1b\\|\x9c|$)"  # OSC (titles, hyperlinks)
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x9c]*?(?:\x1b\\|\x9c|$)"  # DCS, SOS, PM, APC
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI (cursor, erase, colours)
    r"|\x1b[ -/]*[0-~]?",  # any other escape
    re.DOTALL,
)
_WHITESPACE_CONTROLS = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]+")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LINE_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi controls (U+061C, U+200E-F, U+202A-E, U+2066-9) and characters that render as nothing
# (soft hyphen, zero-width space, word joiner and invisible operators, Mongolian vowel
# separator, Hangul fillers, BOM, interlinear annotation, tag characters). Zero-width joiner
# and non-joiner are left alone: scripts such as Persian and Devanagari need them.
INVISIBLE = re.compile(
    "[\u00ad\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def terminal_text(value: object, width: int | None = None, *, lines: bool = False) -> str:
    """`value` as one line safe to print: no escape sequence, no control character, invisible
    characters shown, cut to `width` characters (with "…") when given. With `lines`, newlines
    and tabs are kept (a whole report, a CSV written to a terminal)."""
    text = plain_text(value, lines=lines)
    if width is not None and len(text) > width:
        text = text[: max(width - 1, 0)] + ELLIPSIS
    return text


def plain_text(value: object, *, lines: bool = False) -> str:
    """`value` as text any reader may be shown (a terminal, a Markdown digest, an email, an
    HTML page): escape sequences removed whole, then every control character; tabs and
    newlines become single spaces unless `lines`; invisible characters shown as ⟨U+XXXX⟩."""
    text = "" if value is None else str(value)
    if not lines and _plain_ascii(text):  # most titles and names: nothing to do, ~10x sooner
        return text
    text = _SEQUENCES.sub("", text)
    if lines:
        text = _LINE_CONTROLS.sub("", text.replace("\r\n", "\n"))
    else:
        text = " ".join(_CONTROLS.sub("", _WHITESPACE_CONTROLS.sub(" ", text)).split())
    return show_invisible(text)


def _plain_ascii(text: str) -> bool:
    """Whether `plain_text` (one line) leaves `text` as it is, known without its regular
    expressions: printable ASCII (no escape sequence, control or invisible character can be
    in it: each starts with or is a control or a non-ASCII character) whose only whitespace,
    the space, is single and inside."""
    return (
        text.isascii()
        and text.isprintable()
        and "  " not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
    )


def show_invisible(text: str) -> str:
    """Bidi controls and invisible characters written visibly as ⟨U+XXXX⟩."""
    return INVISIBLE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


def cut(value: str | None, limit: int) -> tuple[str | None, bool]:
    """`value` kept to `limit` characters (the last one an ellipsis); and whether it was cut."""
    if value is None or len(value) <= limit:
        return value, False
    return value[: limit - 1] + ELLIPSIS, True


_JSON_UNSAFE = re.compile(f"[\x7f-\x9f\u2028\u2029]|{INVISIBLE.pattern}")


def terminal_json(text: str) -> str:
    """JSON text (from json.dumps, which escapes only C0 controls) with DEL, C1 controls, line
    separators and invisible characters escaped as \\uXXXX too: the same data, safe to print."""
    return _JSON_UNSAFE.sub(lambda m: _json_escape(ord(m.group())), text)


def _json_escape(code: int) -> str:
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
