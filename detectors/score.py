"""`grayhound score`: one name or domain in, one Finding out."""

from __future__ import annotations

from detectors.book import BrandBook
from detectors.domains import score_domain
from detectors.names import score_name
from grayhound.models import Finding

KINDS = ("auto", "name", "domain")


def input_kind(text: str) -> str:
    """With kind 'auto', a line containing a dot and no spaces is a domain."""
    stripped = text.strip()
    return "domain" if "." in stripped and not any(c.isspace() for c in stripped) else "name"


def score_input(text: str, kind: str, book: BrandBook) -> Finding:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "auto":
        kind = input_kind(text)
    if kind == "domain":
        return score_domain(text, book)
    return score_name(text.strip(), book)
