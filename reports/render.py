"""Renderers of a `Digest`: one self-contained HTML page (email-safe), Markdown, JSON and CSV.

Every template is rendered with autoescape on, so a seller who names a listing
`<script>alert(1)</script>` shows up as that text and never as markup."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reports.digest import GROUP_TITLES, GROUPS, Digest
from reports.tabular import write_csv

CSV_FIELDS = (
    "case_id",
    "group",
    "state",
    "severity",
    "verdict",
    "score",
    "kind",
    "brand",
    "flags",
    "title",
    "seller",
    "seller_domain",
    "source",
    "price",
    "currency",
    "msrp",
    "msrp_currency",
    "price_ratio",
    "model",
    "url",
    "first_seen",
    "last_seen",
    "reasons",
    "changes",
    "capture",
    "fingerprint",
)
FLAG_LABELS = {
    "impersonation": "Impersonation",
    "suspicious_name": "Suspicious name",
    "suspicious_domain": "Suspicious domain",
    "price_low": "Price far below MSRP",
    "price_high": "Price far above MSRP",
    "unauthorized_seller": "Unauthorized seller",
    "gray_import": "Gray import",
}
MARKDOWN_SPECIALS = "\\`*_[]|#"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when, pct=pct, flag_label=flag_label, md=markdown_text, sentence=sentence
    )
    env.globals.update(GROUPS=GROUPS, GROUP_TITLES=GROUP_TITLES)
    return env


def render_html(digest: Digest, *, evidence_dir: str | None = None) -> str:
    return _render("digest.html.j2", digest, evidence_dir)


def render_markdown(digest: Digest, *, evidence_dir: str | None = None) -> str:
    return _render("digest.md.j2", digest, evidence_dir)


def render_json(digest: Digest, **_) -> str:
    return json.dumps(digest.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_csv(digest: Digest, **_) -> str:
    stream = io.StringIO()
    rows = ({**item, "capture": _capture_ref(item)} for item in digest.all_items())
    write_csv(rows, CSV_FIELDS, stream)
    return stream.getvalue()


RENDERERS = {"html": render_html, "md": render_markdown, "json": render_json, "csv": render_csv}
EXTENSIONS = {"html": "html", "md": "md", "json": "json", "csv": "csv"}


def render(digest: Digest, fmt: str, *, evidence_dir: str | None = None) -> str:
    return RENDERERS[fmt](digest, evidence_dir=evidence_dir)


def _render(template: str, digest: Digest, evidence_dir: str | None) -> str:
    def capture_href(capture: dict) -> str:
        """A link to the stored WARC file of a capture (the bundle command gives the rest)."""
        path = Path(capture["warc_file"])
        if not path.is_absolute() and evidence_dir:
            path = Path(evidence_dir) / path
        return path.absolute().as_uri()

    return (
        environment()
        .get_template(template)
        .render(d=digest.to_dict(), items=digest.items, capture_href=capture_href)
    )


def _capture_ref(item: dict) -> str | None:
    capture = item.get("capture")
    if not capture:
        return None
    return f"{capture['warc_file']}#{capture['offset']} sha256:{capture['sha256']}"


# -- filters -------------------------------------------------------------------------------
def when(value: str | None, with_time: bool = True) -> str:
    """ "2026-11-23 06:00 UTC" from the store's ISO timestamps."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%d %b %Y")


def pct(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)} %"


def sentence(text: str) -> str:
    """Detectors write reasons in lower case; a list of reasons reads better as sentences."""
    return text[:1].upper() + text[1:] if text else text


def flag_label(flag: str) -> str:
    return FLAG_LABELS.get(flag, flag.replace("_", " ").capitalize())


def markdown_text(value) -> Markup:
    """Backslash-escape Markdown punctuation and neutralise HTML (`<`, `>`, `&`) so hostile
    titles stay text, while quotes stay readable in the email's plain-text part."""
    text = " ".join(("" if value is None else str(value)).split())
    escaped = "".join("\\" + c if c in MARKDOWN_SPECIALS else c for c in text)
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        escaped = escaped.replace(raw, entity)
    return Markup(escaped)
