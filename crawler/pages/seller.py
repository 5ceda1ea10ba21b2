"""`extract_seller`: a seller's profile or store page → `Seller`: its name, its profile URL,
and the website it claims as its own (recorded, never trusted)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from crawler.pages._seller_data import PROFILE_MARKERS, SELLER_PATH, SOCIAL_HOSTS, WEBSITE_LABEL
from crawler.pages.anchors import Layout, read_layout
from crawler.pages.document import Page, clean_text, load_page, visible_text
from crawler.pages.jsonld import jsonld_nodes
from crawler.pages.listing import guarded
from crawler.pages.schema import PRODUCT_TYPES, SELLER_TYPES, microdata_nodes, types_of
from crawler.pages.selectors import selector_fields
from crawler.pages.titles import strip_site_name
from grayhound.models import Seller

logger = logging.getLogger(__name__)
_DOMAIN_TEXT = re.compile(
    r"^(?:https?://)?(?:www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})/?$", re.I
)


def extract_seller(
    url: str,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    selectors: Mapping[str, str] | None = None,
) -> Seller:
    """Never raises; `is_seller_page` says whether the page looked like a profile at all."""
    try:
        return _extract(str(url), body, headers, selectors)
    except Exception as exc:  # last line of defence; the steps below are guarded
        logger.exception("seller extraction failed for %s", url)
        return Seller(name=None, url=str(url), problems=(f"extraction failed: {exc!r}",))


def _extract(url, body, headers, selectors) -> Seller:
    page = load_page(url, body, headers)
    layout = guarded(page, "layout", read_layout, page) or Layout()
    nodes = guarded(page, "json-ld", jsonld_nodes, page) or []
    microdata = guarded(page, "microdata", microdata_nodes, page) or []
    chosen = guarded(page, "selector", selector_fields, page, selectors) or {}
    node, source = (
        _seller_node(nodes, "json-ld") or _seller_node(microdata, "microdata") or ({}, "")
    )
    name, sources = _name(page, layout, node, source, chosen)
    profile_url = chosen.get("seller_url") or page.absolute(_text(node.get("url"))) or url
    host = _host(url)
    claimed = _claimed_domain(page, node, host)
    is_profile = bool(node) or bool(
        SELLER_PATH.search(urlsplit(url).path + "?" + urlsplit(url).query)
    )
    is_profile = is_profile or bool(PROFILE_MARKERS.search(visible_text(page.root, 6000)))
    if claimed:
        sources["claimed_domain"] = "json-ld" if _node_website(node, host) else "text"
    own_site = bool(node) and _host(profile_url) == host and urlsplit(profile_url).path in ("", "/")
    return Seller(
        name=name,
        url=profile_url,
        domain=host if own_site else None,
        claimed_domain=claimed,
        is_seller_page=is_profile and not _has_product(nodes),
        field_sources=sources,
        problems=tuple(dict.fromkeys(page.problems)),
    )


def _seller_node(nodes: list[dict], source: str) -> tuple[dict, str] | None:
    for node in nodes:
        types = types_of(node)
        if (types & SELLER_TYPES or any(t.endswith("store") for t in types)) and node.get("name"):
            return node, source
    return None


def _has_product(nodes: list[dict]) -> bool:
    return any(types_of(n) & PRODUCT_TYPES and n.get("offers") for n in nodes)


def _name(page: Page, layout: Layout, node: dict, source: str, chosen: dict):
    if chosen.get("seller"):
        return chosen["seller"], {"name": "selector"}
    if node and _text(node.get("name")):
        return _text(node.get("name")), {"name": source}
    if layout.title is not None and visible_text(layout.title, 200):
        return visible_text(layout.title, 200)[:120], {"name": "text"}
    meta = page.meta()
    title = strip_site_name(clean_text(meta.get("og:title")), meta.get("og:site_name"), page.url)
    return (title, {"name": "opengraph"}) if title else (None, {})


def _claimed_domain(page: Page, node: dict, host: str) -> str | None:
    website = _node_website(node, host)
    if website:
        return website
    match = WEBSITE_LABEL.search(visible_text(page.root, 20000))
    if match and _foreign(_host(_with_scheme(match.group(1))), host):
        return _host(_with_scheme(match.group(1)))
    for link in page.root.iter("a"):
        text = clean_text(link.text_content())
        target = _host(page.absolute(link.get("href")) or "")
        if _DOMAIN_TEXT.match(text) and _foreign(target, host):
            return target
    return None


def _node_website(node: dict, host: str) -> str | None:
    values = [node.get("url")] + (
        node.get("sameAs") if isinstance(node.get("sameAs"), list) else [node.get("sameAs")]
    )
    for value in values:
        candidate = _host(value) if isinstance(value, str) else None
        if candidate and _foreign(candidate, host):
            return candidate
    return None


def _foreign(candidate: str | None, host: str) -> bool:
    if not candidate or candidate == host:
        return False
    return not any(candidate == s or candidate.endswith("." + s) for s in SOCIAL_HOSTS)


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").removeprefix("www.")
    except ValueError:
        return ""


def _with_scheme(text: str) -> str:
    return text if "//" in text else "http://" + text


def _text(value: object) -> str | None:
    value = value[0] if isinstance(value, list) and value else value
    return clean_text(value) or None if isinstance(value, str) else None
