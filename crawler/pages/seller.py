"""`extract_seller`: a seller's profile or store page → `Seller`: its name, its profile URL,
the website it claims as its own (recorded, never trusted), and every identifier the page
gives (its @id, sameAs links, telephone, email, address, company numbers) with where each was
read. A marketplace's own Organization (in its header or footer, on every page) never names
the seller: it is told apart by its URL (the site's root), by the site's name (WebSite,
og:site_name, a publisher) and by not matching the profile's heading."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from crawler.pages._seller_data import PROFILE_MARKERS, SELLER_PATH, SOCIAL_HOSTS, WEBSITE_LABEL
from crawler.pages.anchors import Layout, read_layout
from crawler.pages.contacts import node_contacts, visible_contacts
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
    site_is_seller: bool | None = None,
) -> Seller:
    """Never raises; `is_seller_page` says whether the page looked like a profile at all.
    `site_is_seller`: True on a storefront's own pages (the site's Organization is the seller),
    False on a marketplace's profile pages (it never is); None decides by the URL (a profile
    path such as /seller/… is a marketplace's)."""
    try:
        return _extract(str(url), body, headers, selectors, site_is_seller)
    except Exception as exc:  # last line of defence; the steps below are guarded
        logger.exception("seller extraction failed for %s", url)
        return Seller(name=None, url=str(url), problems=(f"extraction failed: {exc!r}",))


def _extract(url, body, headers, selectors, site_is_seller: bool) -> Seller:
    page = load_page(url, body, headers)
    layout = guarded(page, "layout", read_layout, page) or Layout()
    nodes = guarded(page, "json-ld", jsonld_nodes, page) or []
    microdata = guarded(page, "microdata", microdata_nodes, page) or []
    chosen = guarded(page, "selector", selector_fields, page, selectors) or {}
    heading = visible_text(layout.title, 200) if layout.title is not None else ""
    if site_is_seller is None:
        site_is_seller = not SELLER_PATH.search(urlsplit(url).path + "?" + urlsplit(url).query)
    site = None if site_is_seller else SiteIdentity.of(page, nodes + microdata)
    node, source = (
        _seller_node(page, nodes, "json-ld", site, heading)
        or _seller_node(page, microdata, "microdata", site, heading)
        or ({}, "")
    )
    name, sources = _name(page, layout, node, source, chosen)
    # the profile URL is where the seller was seen; the node's `url` is the website it claims
    profile_url = chosen.get("seller_url") or url
    site_url = page.absolute(_text(node.get("url"))) or profile_url
    host = _host(url)
    claimed = _claimed_domain(page, node, host)
    is_profile = bool(node) or bool(
        SELLER_PATH.search(urlsplit(url).path + "?" + urlsplit(url).query)
    )
    is_profile = is_profile or bool(PROFILE_MARKERS.search(visible_text(page.root, 6000)))
    if claimed:
        sources["claimed_domain"] = "json-ld" if _node_website(node, host) else "text"
    own_site = bool(node) and _host(site_url) == host and urlsplit(site_url).path in ("", "/")
    identifiers = guarded(
        page, "identifiers", _identifiers, page, node, source, name, sources, claimed
    )
    return Seller(
        name=name,
        url=profile_url,
        domain=host if own_site else None,
        claimed_domain=claimed,
        is_seller_page=is_profile and not _has_product(nodes),
        identifiers=identifiers or (),
        field_sources=sources,
        problems=tuple(dict.fromkeys(page.problems)),
    )


class SiteIdentity:
    """What names the site itself on a page: its name (WebSite, og:site_name, a WebSite's or
    WebPage's publisher) and its root URL."""

    def __init__(self, names: set[str], host: str):
        self.names = names
        self.host = host

    @classmethod
    def of(cls, page: Page, nodes: list[dict]) -> SiteIdentity:
        names = {_key(page.meta().get("og:site_name"))}
        for node in nodes:
            types = types_of(node)
            if types & {"website", "webpage"}:
                if "website" in types:
                    names.add(_key(_text(node.get("name"))))
                for role in ("publisher", "provider", "creator"):
                    owner = node.get(role)
                    if isinstance(owner, dict):
                        names.add(_key(_text(owner.get("name"))))
        names.discard("")
        return cls(names, _host(page.url))

    def owns(self, node: dict, page: Page) -> bool:
        """Whether the node is the site's own Organization, not a seller on it."""
        if _key(_text(node.get("name"))) in self.names:
            return True
        for key in ("url", "@id"):
            link = page.absolute(_text(node.get(key)))
            if link and _host(link) == self.host and urlsplit(link).path in ("", "/"):
                return True
        return False


def _seller_node(
    page: Page, nodes: list[dict], source: str, site: SiteIdentity | None, heading: str
) -> tuple[dict, str] | None:
    """The page's seller node: a seller-typed node with a name that is not the site's own;
    among several, the one the profile's heading names."""
    found = []
    for node in nodes:
        types = types_of(node)
        if (types & SELLER_TYPES or any(t.endswith("store") for t in types)) and node.get("name"):
            found.append(node)
    if site is not None:
        many = len(found) > 1
        found = [node for node in found if not _is_site_node(page, node, site, heading, many)]
    if not found:
        return None
    named = [n for n in found if heading and _names_overlap(_text(n.get("name")), heading)]
    return (named or found)[0], source


def _is_site_node(page: Page, node: dict, site: SiteIdentity, heading: str, many: bool) -> bool:
    if site.owns(node, page):
        return True
    # Several organizations and this one is not the profile's heading: the site's header one.
    return many and bool(heading) and not _names_overlap(_text(node.get("name")), heading)


def _names_overlap(name: str | None, heading: str) -> bool:
    """The heading and the name share a word of three letters or more ('TechNova' in
    'TechNova Electronics GmbH'), or one holds the other."""
    a, b = _key(name), _key(heading)
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    words = {w for w in a.split() if len(w) >= 3}
    return bool(words & {w for w in b.split() if len(w) >= 3})


def _identifiers(page: Page, node: dict, source: str, name, sources, claimed) -> tuple:
    """(kind, value, via) for everything the profile says names its seller."""
    found: list[tuple[str, str, str]] = [("profile", page.url, "profile page URL")]
    canonical = _canonical_link(page)
    if canonical and _host(canonical) == _host(page.url):
        found.append(("profile", canonical, "profile <link rel=canonical>"))
    if name:
        found.append(("name", name, f"profile {sources.get('name', 'text')} name"))
    if node:
        kind = "/".join(sorted(types_of(node))) or "node"
        ld_id = page.absolute(_text(node.get("@id")))
        if ld_id:
            found.append(("ld_id", ld_id, f"profile {source} {kind} @id"))
        for key in ("url", "sameAs"):
            values = node.get(key) if isinstance(node.get(key), list) else [node.get(key)]
            for value in values:
                link = page.absolute(_text(value)) if isinstance(value, str) else None
                if link:
                    found.append(("seller_url", link, f"profile {source} {kind}.{key}"))
        found.extend(node_contacts(node, f"profile {source} {kind}"))
    if claimed and sources.get("claimed_domain") == "text":
        found.append(("website", claimed, "profile text (website)"))
    found.extend(visible_contacts(page))
    return tuple(dict.fromkeys(found))


def _canonical_link(page: Page) -> str | None:
    for link in page.root.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split():
            return page.absolute(link.get("href"))
    return None


def _key(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


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
