"""The fetched page, decoded and parsed once: bytes → text (honouring the declared charset,
but not trusting it blindly) → one lxml tree that every extraction layer shares."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, read_bom

# Pages beyond this are cut: a product's title and price sit near the top, and a 50 MB
# "page" is a dump or an attack, not something a buyer reads.
MAX_BODY_BYTES = 5_000_000
# Above this share of control bytes a body is binary (an image, an archive), not HTML.
MAX_CONTROL_RATIO = 0.02
SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head", "title"})
_TOKEN_SPLIT = re.compile(r"[^0-9a-zA-Z]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SINGLE_BYTE = re.compile(r"^(iso-?8859|latin|cp125|windows-125|ascii|us-ascii)", re.I)
_WIDE = re.compile(r"^(utf-?16|utf-?32|ucs-?2|ucs-?4)", re.I)
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
# Every byte but the control bytes _looks_binary counts: deleting them leaves only those.
_NOT_CONTROL = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32))
HINT_ATTRIBUTES = frozenset({"class", "id", "itemprop", "data-testid", "data-qa", "data-test"})


@dataclass
class Page:
    """A decoded page and its parsed tree; layers read it and append to `problems`."""

    url: str
    root: lxml.html.HtmlElement
    base_url: str
    problems: list[str] = field(default_factory=list)

    def meta(self) -> dict[str, str]:
        """Every <meta property|name|itemprop content> as one lower-cased key → first value."""
        found: dict[str, str] = {}
        for element in self.root.iter("meta"):
            content = element.get("content")
            if content is None or not content.strip():
                continue
            for attr in ("property", "name", "itemprop"):
                key = (element.get(attr) or "").strip().lower()
                if key and key not in found:
                    found[key] = content.strip()
        return found

    def absolute(self, href: str | None) -> str | None:
        """The link's absolute http(s) URL; None for a fragment, or a `JavaScript:`, `data:`,
        `mailto:` or any other scheme's link (never stored or followed as a link)."""
        if not href or not href.strip() or href.strip().startswith("#"):
            return None
        try:
            url = urljoin(self.base_url, href.strip())
            return url if urlsplit(url).scheme.lower() in ("http", "https") else None
        except ValueError:
            return None


def load_page(url: str, body: bytes, headers: Mapping[str, str] | None) -> Page:
    """Decode and parse; never raises. Problems are recorded on the returned page."""
    problems: list[str] = []
    if not isinstance(body, bytes | bytearray):
        body = str(body or "").encode("utf-8", "replace")
    body = bytes(body)
    if len(body) > MAX_BODY_BYTES:
        problems.append(f"body of {len(body)} bytes truncated to {MAX_BODY_BYTES}")
        body = body[:MAX_BODY_BYTES]
    if not body.strip():
        problems.append("empty body")
    if _looks_binary(body):
        problems.append("body is not HTML text (binary content)")
        body = b""
    text = decode_body(body, _content_type(headers), problems)
    root = parse_html(text, problems)
    return Page(url=url, root=root, base_url=_base_url(url, root), problems=problems)


def decode_body(body: bytes, content_type: str | None, problems: list[str]) -> str:
    """w3lib's header → BOM → <meta charset> order, with one correction: a declared single-byte
    charset on a body that is valid multi-byte UTF-8 is a common server misconfiguration."""
    try:
        encoding, text = html_to_unicode(content_type, body)
    except Exception as exc:  # an unknown charset name, for instance
        problems.append(f"could not decode with declared charset ({exc}); used utf-8")
        return body.decode("utf-8", "replace")
    if read_bom(body)[0]:
        return text
    declared = encoding.lower()
    if _WIDE.match(declared) and b"\x00" not in body[:4096]:
        # UTF-16/32 markup is full of NUL bytes (every ASCII character has one): none means
        # the header lies. Decode as if it had said nothing (<meta charset>, then UTF-8).
        encoding, text = html_to_unicode(None, body)
        problems.append(f"declared charset {declared} but the body is not; decoded as {encoding}")
        declared = encoding.lower()
    if _SINGLE_BYTE.match(declared) and _is_utf8_with_non_ascii(body):
        problems.append(f"declared charset {encoding} but body is UTF-8; decoded as UTF-8")
        return body.decode("utf-8")
    if declared.replace("-", "") in ("utf8", "utf8sig") and "\ufffd" in text:
        invalid = text.count("\ufffd") - body.count(b"\xef\xbf\xbd")
        if invalid > len(_UTF8_SEQUENCE.findall(body)):
            # More invalid bytes than valid multi-byte characters: a Windows-1252 page that
            # says UTF-8 (a common misconfiguration), not UTF-8 with a few stray bytes.
            problems.append(f"declared charset {encoding} does not decode; decoded as cp1252")
            return body.decode("cp1252", "replace")
        if invalid > 0:
            problems.append(f"{invalid} invalid UTF-8 byte(s) replaced; the rest decoded as UTF-8")
    if html_body_declared_encoding(body) is None and content_type is None and "\ufffd" in text:
        problems.append("no charset declared and body is not UTF-8; decoded as cp1252")
        return body.decode("cp1252", "replace")
    return text


def parse_html(text: str, problems: list[str]) -> lxml.html.HtmlElement:
    """Parse through bytes with an explicit encoding so <?xml encoding?> and <meta charset>
    declarations inside the text cannot confuse lxml."""
    cleaned = text.replace("\x00", "")
    if cleaned.strip():
        try:
            parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
            root = lxml.html.fromstring(cleaned.encode("utf-8", "replace"), parser=parser)
            if root is not None:
                return root.getroottree().getroot()
        except (lxml.etree.LxmlError, ValueError) as exc:
            problems.append(f"HTML did not parse ({type(exc).__name__}); treated as empty")
    return lxml.html.fromstring("<html><head></head><body></body></html>")


def clean_text(value: object) -> str:
    """Collapse whitespace; non-strings become ''."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())  # str.split() splits on exactly what r"\s" matches


def visible_text(element: lxml.html.HtmlElement, limit: int = 2000) -> str:
    """Text a reader sees in `element` (scripts, styles, hidden nodes skipped), whitespace
    collapsed, cut at about `limit` characters."""
    parts: list[str] = []
    size = 0
    for piece in iter_visible_text(element):
        parts.append(piece)
        size += len(piece)
        if size > limit:
            break
    return clean_text(" ".join(parts))


def iter_visible_text(element: lxml.html.HtmlElement) -> Iterator[str]:
    if not isinstance(element.tag, str) or element.tag in SKIP_TAGS or is_hidden(element):
        return
    if element.text:
        yield element.text
    for child in element:
        yield from iter_visible_text(child)
        if child.tail:
            yield child.tail


def own_chunks(element: lxml.html.HtmlElement) -> list[str]:
    """The element's own text pieces (its text and its children's tails), whitespace collapsed,
    empty ones dropped: "Sold by " in '<p>Sold by <a>X</a></p>'."""
    chunks = [element.text or ""] + [child.tail or "" for child in element]
    return [clean_text(c) for c in chunks if c and c.strip()]


def is_hidden(element: lxml.html.HtmlElement) -> bool:
    if element.get("hidden") is not None:
        return True
    style = (element.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def hint_tokens(element: lxml.html.HtmlElement) -> set[str]:
    """Words in class/id/itemprop/data-* names and values: 'a-price-whole' → {a, price, whole,
    aprice, pricewhole}; 'oldPrice' → {old, price, oldprice}."""
    # Most elements carry no hint attribute at all; they need no tokenising.
    if not any(name in HINT_ATTRIBUTES or name.startswith("data-") for name in element.attrib):
        return set()
    raw = " ".join(
        value
        for name, value in element.attrib.items()
        if name in HINT_ATTRIBUTES or name.startswith("data-price") or name.startswith("data-a-")
    )
    raw += " " + " ".join(name[5:] for name in element.attrib if name.startswith("data-"))
    tokens: set[str] = set()
    for word in _TOKEN_SPLIT.split(raw):
        if not word:
            continue
        parts = [p.lower() for p in _CAMEL.split(word)]
        tokens.update(parts)
        tokens.add(word.lower())
    # Joined pairs catch "list-price" and "oldPrice"; "with-list-price" is a current price
    # shown next to a list price, so a pair right after "with" does not count.
    words = [w.lower() for w in _TOKEN_SPLIT.split(_CAMEL.sub(" ", raw)) if w]
    tokens.update(
        a + b
        for i, (a, b) in enumerate(zip(words, words[1:], strict=False))
        if i == 0 or words[i - 1] not in ("with", "has")
    )
    return tokens


def _content_type(headers: Mapping[str, str] | None) -> str | None:
    if not headers:
        return None
    try:
        for name, value in headers.items():
            name = name.decode("latin-1") if isinstance(name, bytes) else str(name)
            if name.lower() == "content-type":
                if isinstance(value, list | tuple):
                    value = value[0] if value else ""
                return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    except (AttributeError, TypeError):
        return None
    return None


def _looks_binary(body: bytes) -> bool:
    """Control bytes (other than whitespace) are rare in any text encoding but UTF-16/32,
    which carry a BOM; images, archives and random junk are full of them."""
    if not body or read_bom(body)[0]:
        return False
    sample = body[:4096]
    controls = len(sample.translate(None, _NOT_CONTROL))
    return controls / len(sample) > MAX_CONTROL_RATIO


def _is_utf8_with_non_ascii(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _base_url(url: str, root: lxml.html.HtmlElement) -> str:
    for base in root.iter("base"):
        href = (base.get("href") or "").strip()
        if href:
            try:
                return urljoin(url, href)
            except ValueError:
                break
    return url
