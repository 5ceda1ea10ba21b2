"""Inert HTML snapshots of captured pages, for people reading an evidence bundle.

A snapshot shows the page as captured without letting it act. A sanitiser is only as good as its
agreement with the parser that reads its output, so the last word belongs to nh3 (ammonia, which
parses and writes with html5ever, a WHATWG parser like a browser's) with an allowlist
(`_snapshot_data`): layout, text, table, form and SVG-icon elements, `<style>`, class/style/
data-*/aria-* attributes. Scripts, frames, plugins, templates, MathML, base/link/meta, comments,
every event handler and every URL go; a mutation trick such as `<svg><style><img onerror>` is
parsed the way a browser parses it, and its `<img>` loses its handler. Before that, an lxml pass
renames each URL attribute to `data-original-*` (kept for the reader, never fetched); only
`data:image` sources and in-page SVG references stay. grayhound writes the document around the
cleaned body itself: charset, a Content-Security-Policy that forbids every fetch but inline data
(a second layer, not the first), no referrer, the escaped title and a banner saying what the page
is, when it was captured and by what. The WARC record, not the snapshot, is the evidence."""

from __future__ import annotations

import re

import lxml.etree
import lxml.html
import nh3
from markupsafe import escape
from w3lib.encoding import html_to_unicode

from grayhound import __version__
from reports.evidence._snapshot_data import (
    CLEAN_CONTENT,
    GLOBAL_ATTRIBUTES,
    TAGS,
    URL_ATTRIBUTES,
)

CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none';"
    " base-uri 'none'"
)
MAX_TEXT_CHARS = 2_000_000  # a non-HTML payload is shown as text up to this size
BANNER_STYLE = (
    "all:initial;display:block;font:14px/1.4 sans-serif;background:#fff3cd;color:#222;"
    "border-bottom:2px solid #b58900;padding:8px 12px;margin:0 0 8px 0;white-space:normal"
)
DATA_IMAGE = re.compile(r"^\s*data:image/(png|gif|jpe?g|webp|avif|bmp|x-icon);", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # lxml refuses them in a tree
KEPT_ROOT_ATTRIBUTES = ("lang", "dir", "class", "style")


def capture_banner(capture: dict) -> dict[str, str]:
    """The banner fields that say which stored capture a snapshot shows (a `captures` row)."""
    return {
        "URL": capture["url"],
        "Captured (UTC)": capture["fetched_at"],
        "HTTP status": str(capture["status"]),
        "Payload SHA-256": capture["payload_sha256"],
        "Capture": f"#{capture['id']} in crawl run {capture['crawl_run_id']}",
        "Tool": f"captured by grayhound {__version__}",
    }


def render_snapshot(body: bytes, content_type: str | None, banner: dict[str, str]) -> bytes:
    """An inert, self-contained HTML view of a captured payload, with a banner on top."""
    text = _decode(body, content_type)
    parts = _html_parts(text) if _is_html(content_type, body) else None
    if parts is None:
        inner = f"<pre>{escape(CONTROL.sub(' ', text[:MAX_TEXT_CHARS]))}</pre>"
        parts = ({}, {}, "", inner)
    root_attrs, body_attrs, title, cleaned = parts
    document = (
        "<!DOCTYPE html>"
        f"<html{_attributes(root_attrs)}><head>"
        '<meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title></head>"
        f"<body{_attributes(body_attrs)}>{_banner(banner)}{cleaned}</body></html>"
    )
    return document.encode("utf-8")


def _decode(body: bytes, content_type: str | None) -> str:
    """The header's charset, then a BOM, then <meta charset> (w3lib, as for extraction)."""
    try:
        return html_to_unicode(content_type, body)[1]
    except (LookupError, ValueError):  # an unknown charset name
        return body.decode("utf-8", "replace")


def _is_html(content_type: str | None, body: bytes) -> bool:
    kind = (content_type or "").lower()
    if "html" in kind:
        return True
    return not kind and body[:512].lstrip().lower().startswith((b"<!doctype html", b"<html"))


def _html_parts(text: str):
    """(html attributes, body attributes, title, cleaned body) or None when it is not HTML."""
    if not text.strip():
        return None
    try:
        doc = lxml.html.document_fromstring(CONTROL.sub(" ", text))
    except (lxml.etree.ParserError, ValueError):
        return None
    if doc.tag != "html":
        return None
    title = " ".join((doc.findtext(".//title") or "").split())
    body = doc.find("body")
    root_attrs = _kept(doc.attrib)
    body_attrs = _kept(body.attrib) if body is not None else {}
    _rename_urls(doc)
    prepared = lxml.html.tostring(doc, encoding="unicode", method="html")
    return root_attrs, body_attrs, title, _clean(prepared)


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags=set(CLEAN_CONTENT),
        attributes={"*": set(GLOBAL_ATTRIBUTES)},
        generic_attribute_prefixes={"data-", "aria-"},
        url_schemes={"data"},
        attribute_filter=_live_url,
        link_rel=None,
        strip_comments=True,
    )


def _live_url(tag: str, attribute: str, value: str) -> str | None:
    """After the renaming only data:image sources and in-document SVG references remain."""
    if attribute in ("src", "srcset"):
        return value if tag in ("img", "source") and DATA_IMAGE.match(value) else None
    if attribute in ("href", "xlink:href"):
        return value if tag == "use" and value.strip().startswith("#") else None
    return value


def _rename_urls(doc) -> None:
    for element in doc.iter(lxml.etree.Element):
        tag = element.tag if isinstance(element.tag, str) else ""
        for name in list(element.attrib):
            lowered = name.lower().rsplit("}", 1)[-1]
            lowered = "xlink:href" if name.endswith("}href") else lowered
            if lowered not in URL_ATTRIBUTES:
                continue
            value = element.attrib[name]
            if _live_url(tag.lower(), lowered, value) is not None:
                continue
            del element.attrib[name]
            # shown as text to the reader; lxml refuses control characters in attribute values
            element.attrib["data-original-" + lowered.replace(":", "-")] = CONTROL.sub(" ", value)


def _kept(attributes) -> dict[str, str]:
    return {k: v for k, v in attributes.items() if k in KEPT_ROOT_ATTRIBUTES}


def _attributes(values: dict[str, str]) -> str:
    return "".join(f' {name}="{escape(value)}"' for name, value in values.items())


def _banner(fields: dict[str, str]) -> str:
    lines = "".join(
        f"<div><b>{escape(label)}: </b>{escape(value)}</div>" for label, value in fields.items()
    )
    return (
        f'<div id="grayhound-banner" style="{BANNER_STYLE}"><strong>Evidence snapshot (inert'
        f" copy; scripts and external resources removed)</strong>{lines}</div>"
    )
