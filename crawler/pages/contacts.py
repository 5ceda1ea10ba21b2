"""A seller's contact details and company numbers from its profile page: telephone, email,
postal address, and registration/VAT/tax numbers, from its schema.org node and from the page's
visible text (`mailto:`/`tel:` links, "Phone: …", "VAT ID: …").

The site's own chrome (header, footer, navigation) is never read: a marketplace prints its
support line and address on every page, and that is nobody's seller."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

import lxml.html

from crawler.pages._data import LAYOUT_TOKENS
from crawler.pages._seller_data import (
    ADDRESS_LABEL,
    COMPANY_ID_LABEL,
    LEGAL_NAME_LABEL,
    PHONE_LABEL,
)
from crawler.pages.document import Page, clean_text, hint_tokens, own_chunks

# Tags of the site's chrome, whose contacts are the site's own.
CHROME_TAGS = frozenset({"header", "footer", "nav"})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.I)
_PHONE = re.compile(r"\+?\(?\d[\d\s().\-/]{5,22}\d")
_COMPANY_ID = re.compile(r"[A-Z0-9][A-Z0-9 ./-]{2,30}[A-Z0-9]", re.I)
# A phone number has at least this many digits; fewer is a count, a year or a rating.
MIN_PHONE_DIGITS = 7
MAX_ADDRESS = 160
# schema.org properties that hold a company's registration or tax number.
COMPANY_PROPERTIES = ("vatID", "taxID", "leiCode", "duns", "iso6523Code", "globalLocationNumber")


def node_contacts(node: dict, via: str) -> list[tuple[str, str, str]]:
    """(kind, value, via) for the contacts a schema.org Organization/Person node states."""
    found = []
    for phone in _values(node.get("telephone")):
        if _phone_digits(phone):
            found.append(("phone", clean_text(phone), f"{via}.telephone"))
    for email in _values(node.get("email")):
        email = email.removeprefix("mailto:")
        if _EMAIL.fullmatch(email.strip()):
            found.append(("email", email.strip(), f"{via}.email"))
    for address in _values(node.get("address")):
        if address:
            found.append(("address", address[:MAX_ADDRESS], f"{via}.address"))
    for key in COMPANY_PROPERTIES:
        for number in _values(node.get(key)):
            found.append(("company_id", number, f"{via}.{key}"))
    for number in _identifier_values(node.get("identifier")):
        found.append(("company_id", number, f"{via}.identifier"))
    for name in _values(node.get("legalName")):
        found.append(("legal_name", name, f"{via}.legalName"))
    return found


def _identifier_values(value: object) -> list[str]:
    """schema.org `identifier`: a PropertyValue's value, or a plain string; only values that
    look like a registration number (letters and digits, a digit among them)."""
    out = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            item = item.get("value")
        text = clean_text(str(item)) if isinstance(item, str | int) else ""
        if len(text) >= 5 and any(ch.isdigit() for ch in text) and " " not in text.strip():
            out.append(text)
    return out


def visible_contacts(page: Page) -> list[tuple[str, str, str]]:
    """Contacts the page shows outside its header, footer and navigation."""
    found = []
    for link in page.root.iter("a"):
        href = (link.get("href") or "").strip()
        if not href.lower().startswith(("mailto:", "tel:")) or _in_chrome(link):
            continue
        scheme, _, value = href.partition(":")
        value = unquote(value.split("?")[0]).strip()
        if scheme.lower() == "mailto" and _EMAIL.fullmatch(value):
            found.append(("email", value, "profile mailto: link"))
        elif scheme.lower() == "tel" and _phone_digits(value):
            found.append(("phone", value, "profile tel: link"))
    for element, text in _texts(page):
        found.extend(_labelled(element, text))
        for email in _EMAIL.findall(text):
            found.append(("email", email, "profile text"))
    return found


def _labelled(element: lxml.html.HtmlElement, text: str) -> Iterator[tuple[str, str, str]]:
    for kind, label, pattern in (
        ("phone", PHONE_LABEL, _PHONE),
        ("company_id", COMPANY_ID_LABEL, _COMPANY_ID),
    ):
        match = label.search(text)
        if match:
            rest = (text[match.end() :] or _next_text(element)).lstrip()
            value = pattern.match(rest)  # the value follows the label at once
            number = value.group(0).strip(" ./-") if value else ""
            if kind == "phone" and not _phone_digits(number):
                continue
            if kind == "company_id" and not any(ch.isdigit() for ch in number):
                continue
            printed = next((g for g in match.groups() if g), "")
            yield kind, number, f"profile text '{printed}'"
    match = LEGAL_NAME_LABEL.search(text)
    if match:
        name = clean_text(re.split(r"\s[·|•]\s|\s{2,}", text[match.end() :])[0])
        if 4 <= len(name) <= 120:
            yield "legal_name", name, f"profile text '{match.group(1)}'"
    match = ADDRESS_LABEL.search(text)
    if match:
        rest = clean_text(text[match.end() :] or _next_text(element))
        if len(rest) >= 8:
            yield "address", rest[:MAX_ADDRESS], f"profile text '{match.group(1)}'"


def _texts(page: Page) -> Iterator[tuple[lxml.html.HtmlElement, str]]:
    body = page.root.find("body")
    for element in (body if body is not None else page.root).iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style", "template"):
            continue
        chunks = own_chunks(element)
        if chunks and not _in_chrome(element):
            yield element, " ".join(chunks)


def _next_text(element: lxml.html.HtmlElement) -> str:
    """The value cell beside a lone label cell ('<dt>Phone</dt><dd>+1 …</dd>')."""
    following = element.getnext()
    return clean_text(following.text_content()) if following is not None else ""


def _in_chrome(element: lxml.html.HtmlElement) -> bool:
    for node in (element, *element.iterancestors()):
        if node.tag in CHROME_TAGS or hint_tokens(node) & LAYOUT_TOKENS:
            return True
    return False


def _phone_digits(text: str) -> bool:
    return sum(ch.isdigit() for ch in text) >= MIN_PHONE_DIGITS


def _values(value: object) -> list[str]:
    """Strings of a property: a list, a PostalAddress node (its parts joined), a plain value."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            parts = [
                item.get(k)
                for k in (
                    "streetAddress",
                    "postalCode",
                    "addressLocality",
                    "addressRegion",
                    "addressCountry",
                )
            ]
            parts = [p.get("name") if isinstance(p, dict) else p for p in parts]
            item = ", ".join(clean_text(p) for p in parts if isinstance(p, str) and p.strip())
        if isinstance(item, int | float) and not isinstance(item, bool):
            item = str(item)
        if isinstance(item, str) and clean_text(item):
            out.append(clean_text(item))
    return out
