"""Inert HTML snapshots of captured pages, for people reading an evidence bundle.

A snapshot shows the page as captured without letting it act: scripts, frames, plugins and
event handlers are removed, every URL-bearing attribute is renamed to `data-original-*` (kept
for the reader, never fetched), and a Content-Security-Policy forbids any fetch except inline
data. A banner on top says what the page is, when it was captured and by what. The WARC record,
not the snapshot, is the evidence; the snapshot is a convenience view of it."""

from __future__ import annotations

import lxml.etree
import lxml.html

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
REMOVED_TAGS = (
    "script",
    "noscript",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "base",
    "link",
    "meta",
    "portal",
    "template",
)
URL_ATTRIBUTES = {
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "poster",
    "background",
    "data",
    "ping",
    "lowsrc",
    "dynsrc",
    "codebase",
    "cite",
    "longdesc",
    "manifest",
    "usemap",
    "icon",
    "xlink:href",
    "{http://www.w3.org/1999/xlink}href",
}
MAX_TEXT_CHARS = 2_000_000  # a non-HTML payload is shown as text up to this size
BANNER_STYLE = (
    "all:initial;display:block;font:14px/1.4 sans-serif;background:#fff3cd;color:#222;"
    "border-bottom:2px solid #b58900;padding:8px 12px;margin:0 0 8px 0;white-space:normal"
)


def render_snapshot(body: bytes, content_type: str | None, banner: dict[str, str]) -> bytes:
    """An inert, self-contained HTML view of a captured payload, with a banner on top."""
    doc = _html_document(body) if _is_html(content_type, body) else None
    if doc is None:
        doc = _text_document(body)
    _make_inert(doc)
    head = doc.find("head")
    if head is None:
        head = lxml.html.Element("head")
        doc.insert(0, head)
    for element in reversed(_head_guards()):
        head.insert(0, element)
    body_element = doc.find("body")
    if body_element is None:
        body_element = lxml.html.Element("body")
        doc.append(body_element)
    body_element.insert(0, _banner(banner))
    return lxml.html.tostring(doc, doctype="<!DOCTYPE html>", encoding="utf-8", method="html")


def _is_html(content_type: str | None, body: bytes) -> bool:
    kind = (content_type or "").lower()
    if "html" in kind:
        return True
    return not kind and body[:512].lstrip().lower().startswith((b"<!doctype html", b"<html"))


def _html_document(body: bytes):
    if not body.strip():
        return None
    try:
        doc = lxml.html.document_fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return None
    return doc if doc.tag == "html" else None


def _text_document(body: bytes):
    doc = lxml.html.document_fromstring("<html><head></head><body></body></html>")
    pre = lxml.html.Element("pre")
    pre.text = body[:MAX_TEXT_CHARS].decode("utf-8", errors="replace")
    doc.find("body").append(pre)
    return doc


def _make_inert(doc) -> None:
    for element in list(doc.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction)):
        _remove(element)  # conditional comments can carry markup that loads things
    for element in list(doc.iter(*REMOVED_TAGS)):
        _remove(element)
    for element in doc.iter(lxml.etree.Element):
        for name in list(element.attrib):
            lowered = name.lower()
            if lowered.startswith("on"):
                del element.attrib[name]
            elif lowered in URL_ATTRIBUTES:
                value = element.attrib.pop(name)
                if not value.lower().startswith("javascript:"):
                    element.attrib["data-original-" + _attr_suffix(lowered)] = value
            elif lowered == "style" and "expression(" in element.attrib[name].lower():
                del element.attrib[name]


def _attr_suffix(name: str) -> str:
    return name.rsplit("}", 1)[-1].replace(":", "-")


def _remove(element) -> None:
    """Remove an element but keep the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _head_guards() -> list:
    charset = lxml.html.Element("meta", charset="utf-8")
    policy = lxml.html.Element("meta", {"http-equiv": "Content-Security-Policy", "content": CSP})
    referrer = lxml.html.Element("meta", name="referrer", content="no-referrer")
    return [charset, policy, referrer]


def _banner(fields: dict[str, str]):
    """The banner; lxml escapes every value, so page-supplied text stays text."""
    banner = lxml.html.Element("div", {"id": "grayhound-banner", "style": BANNER_STYLE})
    strong = lxml.etree.SubElement(banner, "strong")
    strong.text = "Evidence snapshot (inert copy; scripts and external resources removed)"
    for label, value in fields.items():
        line = lxml.etree.SubElement(banner, "div")
        name = lxml.etree.SubElement(line, "b")
        name.text = f"{label}: "
        name.tail = value
    return banner
