"""Product titles without the site's name: "Xiaomi 14 Pro | Gadget Hub" → "Xiaomi 14 Pro",
"Amazon.com: Xiaomi 14 Pro : Electronics" → "Xiaomi 14 Pro"."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from crawler.pages.document import Page, clean_text

# Separators shops put between a product name and their own name, strongest first.
SEPARATORS = (" | ", " || ", " :: ", " – ", " — ", " - ", " : ", ": ")
# A trailing segment this short after " | " is a site name even when we cannot match it.
MAX_SITE_WORDS = 4


def page_title(page: Page, site_name: str | None) -> str | None:
    element = page.root.find(".//title")
    if element is None:
        return None
    return strip_site_name(clean_text(element.text_content()), site_name, page.url, guess=True)


def strip_site_name(
    title: str | None, site_name: str | None, url: str, *, guess: bool = False
) -> str | None:
    """Drop leading or trailing segments that name the site (its og:site_name or its host);
    with `guess`, also a short last segment after " | " (a <title>'s usual site suffix)."""
    if not title:
        return None
    names = _site_names(site_name, url)
    for separator in SEPARATORS:
        parts = [p.strip() for p in title.split(separator)]
        if len(parts) < 2:
            continue
        kept = [p for p in parts if not _is_site(p, names)]
        if (
            guess
            and separator == " | "
            and len(kept) == len(parts)
            and len(parts[-1].split()) <= MAX_SITE_WORDS
        ):
            kept = parts[:-1]
        if kept and len(kept) < len(parts):
            return separator.join(kept).strip() or title
    return title


def _site_names(site_name: str | None, url: str) -> set[str]:
    names = {_key(site_name)} if site_name else set()
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    if host:
        names.add(_key(host))
        names.add(_key(host.split(".")[0]))
    return {n for n in names if n}


def _is_site(part: str, names: set[str]) -> bool:
    key = _key(part)
    return bool(key) and any(key == n or (len(n) > 3 and key.startswith(n)) for n in names)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())
