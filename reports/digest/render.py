"""Renderers of a `Digest`: one self-contained HTML page (email-safe), Markdown, JSON and CSV.

Every template is rendered with autoescape on, so a seller who names a listing
`<script>alert(1)</script>` shows up as that text and never as markup."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import IO

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from reports.crawledtext import install as install_crawled_text
from reports.digest import jsontext
from reports.digest.build import GROUP_TITLES, GROUPS, SEVERITIES, Digest
from reports.digest.lines import CSV_FIELD_ORDER, capture_ref
from reports.tabular import write_csv

CSV_FIELDS = CSV_FIELD_ORDER  # the order SQLite renders them in (reports/digest/lines.py)
FLAG_LABELS = {
    "impersonation": "Impersonation",
    "suspicious_name": "Suspicious name",
    "suspicious_domain": "Suspicious domain",
    "price_low": "Price far below MSRP",
    "price_high": "Price far above MSRP",
    "unauthorized_seller": "Unauthorized seller",
    "gray_import": "Gray import",
}
# Cases per group on the HTML page and in Markdown, riskiest first: a morning's triage, and a
# page a mail client still opens. Counts cover every case; JSON and CSV list them all.
CASES_SHOWN = 100
# The pages lead with sellers: this many as cards (riskiest first), the rest of those to act
# on in one compact table, informational ones (unauthorized resale, nothing else) in another.
SELLER_CARDS = 25
NETWORK_CARDS = 10
TABLE_ROWS = 200  # rows of a compact table; the rest are counted (JSON and CSV carry all)
VERDICT_LABELS = {
    "impersonation": "Impersonation",
    "suspicious": "Suspicious",
    "unauthorized": "Unauthorized reseller",
    "authorized": "Authorized",
    "clean": "Clean",
}


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports.digest", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        pct=pct,
        flag_label=flag_label,
        flag_words=flag_words,
        sentence=sentence,
        verdict_label=lambda v: VERDICT_LABELS.get(v or "", v or "—"),
    )
    env.globals.update(GROUPS=GROUPS, GROUP_TITLES=GROUP_TITLES)
    install_crawled_text(env)
    return env


def render_html(digest: Digest, *, evidence_dir: str | None = None) -> str:
    return render(digest, "html", evidence_dir=evidence_dir)


def render_markdown(digest: Digest, *, evidence_dir: str | None = None) -> str:
    return render(digest, "md", evidence_dir=evidence_dir)


def render(digest: Digest, fmt: str, *, evidence_dir: str | None = None) -> str:
    stream = io.StringIO()
    write(digest, fmt, stream, evidence_dir=evidence_dir)
    return stream.getvalue()


def write(digest: Digest, fmt: str, stream: IO[str], *, evidence_dir: str | None = None) -> None:
    """Write the digest in `fmt` piece by piece: a digest of tens of thousands of cases is
    never held as one string."""
    if fmt == "json":
        _write_json(digest, stream)
    elif fmt == "csv":
        _write_csv(digest, stream)
    else:
        _write_template(TEMPLATES[fmt], digest, evidence_dir, stream)


TEMPLATES = {"html": "digest.html.j2", "md": "digest.md.j2"}
EXTENSIONS = {"html": "html", "md": "md", "json": "json", "csv": "csv"}


def _write_json(digest: Digest, stream: IO[str]) -> None:
    """`_ItemEncoder(indent=2, sort_keys=True, ensure_ascii=False)`'s text, made by
    `jsontext` (the same bytes, several times faster: tests/reports/digest/test_jsontext.py)."""
    for piece in jsontext.chunks(digest.as_page(), stream=stream):  # written as made
        stream.write(piece)
    stream.write("\n")


def _write_csv(digest: Digest, stream: IO[str]) -> None:
    """Every item as a CSV row; a spooled group's rows rendered by SQLite (the same bytes:
    tests/reports/digest/test_lines.py)."""
    write_csv((), CSV_FIELDS, stream)  # the header
    if hasattr(digest.items, "write_csv"):  # a spooled digest's groups: all at once, in parts
        digest.items.write_csv(stream)
        return
    for group in GROUPS:
        items = digest.items[group]
        if hasattr(items, "write_csv"):
            items.write_csv(stream)
        else:
            rows = ({**item, "capture": capture_ref(item)} for item in items)
            write_csv(rows, CSV_FIELDS, stream, header=False)


def _write_template(
    template: str, digest: Digest, evidence_dir: str | None, stream: IO[str]
) -> None:
    def capture_href(capture: dict) -> str:
        """A link to the stored WARC file of a capture (the bundle command gives the rest)."""
        path = Path(capture["warc_file"])
        if not path.is_absolute() and evidence_dir:
            path = Path(evidence_dir) / path
        return path.absolute().as_uri()

    chunks = (
        environment()
        .get_template(template)
        .generate(
            d=digest.as_page(),
            shown=shown_items(digest),
            page=page_sections(digest),
            capture_href=capture_href,
        )
    )
    _write_chunks(chunks, stream)


def page_sections(digest: Digest) -> dict:
    """What the HTML and Markdown pages show of the sellers and networks: the riskiest
    sellers to act on as cards, the rest in tables, networks as cards."""
    views = digest.views or {"sellers": [], "networks": []}
    act = [view for view in views["sellers"] if not view["informational"]]
    informational = [view for view in views["sellers"] if view["informational"]]
    more = act[SELLER_CARDS:]
    return {
        "cards": act[:SELLER_CARDS],
        "more": more[:TABLE_ROWS],
        "more_hidden": len(more[TABLE_ROWS:]),
        "informational": informational[:TABLE_ROWS],
        "informational_hidden": len(informational[TABLE_ROWS:]),
        "networks": views["networks"][:NETWORK_CARDS],
        "networks_hidden": len(views["networks"][NETWORK_CARDS:]),
        "act_total": len(act),
        "informational_total": len(informational),
    }


def shown_items(digest: Digest, limit: int | None = None) -> dict[str, dict]:
    """Per group, the listing cases that name no known seller which the HTML and Markdown
    pages show (the riskiest `limit`, by default CASES_SHOWN), and a count by severity of the
    rest, which JSON and CSV carry in full. Every other case is on its seller's card."""
    limit = CASES_SHOWN if limit is None else limit
    if hasattr(digest, "shown_unattributed"):  # a streamed digest: its spool answers
        return {group: digest.shown_unattributed(group, limit) for group in GROUPS}
    unattributed = (digest.views or {}).get("unattributed")
    shown = {}
    for group in GROUPS:
        items = digest.items[group]
        if unattributed is not None:
            items = [item for item in unattributed if item["group"] == group]
        hidden = dict.fromkeys(SEVERITIES, 0)
        for item in items[limit:]:
            hidden[item["severity"]] += 1
        shown[group] = {"cases": items[:limit], "hidden": len(items[limit:]), "by_severity": hidden}
    return shown


def _write_chunks(chunks: Iterable[str], stream: IO[str], batch: int = 4096) -> None:
    """Write many small pieces of text in fewer, larger writes."""
    pending: list[str] = []
    for chunk in chunks:
        pending.append(chunk)
        if len(pending) >= batch:
            stream.write("".join(pending))
            pending.clear()
    stream.write("".join(pending))


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


def flag_words(flag: str) -> str:
    """The flag's label inside a sentence: "price far below MSRP" (acronyms keep their case)."""
    label = flag_label(flag)
    return label[:1].lower() + label[1:]
