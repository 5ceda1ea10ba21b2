"""`grayhound catalog check` as a text table, from the data `detectors.catalogcheck` builds
(its `to_dict()`): titles come from strangers, so control characters are shown, not obeyed."""

from __future__ import annotations

import unicodedata

# Columns of the per-title table (characters).
TITLE_WIDTH = 48
MODEL_WIDTH = 28
# Titles listed per section in the table (all of them are in --format json).
MAX_ROWS = 200


def safe(text: object, width: int | None = None) -> str:
    """One line of printable text: control and format characters (ANSI escapes, bidi
    overrides) become '?', newlines spaces; cut to `width` with an ellipsis."""
    out = []
    for char in str(text if text is not None else ""):
        if char in "\r\n\t":
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs"):
            out.append("?")
        else:
            out.append(char)
    line = "".join(out)
    if width and len(line) > width:
        line = line[: width - 1] + "…"
    return line


def render_table(data: dict) -> str:
    counts = data["counts"]
    lines = [
        f"{counts['titles']} titles: {counts['matched']} matched a catalog model, "
        f"{counts['unmatched_devices']} devices matched none, "
        f"{counts['unmatched_other']} other goods matched none; "
        f"{counts['never_matched']} of {counts['catalog_models']} catalog models never matched",
        "",
        f"{'title':{TITLE_WIDTH}}  {'model':{MODEL_WIDTH}}  {'kind':9}  why",
    ]
    for row in data["titles"][:MAX_ROWS]:
        lines.append(
            f"{safe(row['title'], TITLE_WIDTH):{TITLE_WIDTH}}  "
            f"{safe(row['model'] or '-', MODEL_WIDTH):{MODEL_WIDTH}}  "
            f"{row['kind']:9}  {safe(row['reason'])}"
            + (f" [{_attributes(row['attributes'])}]" if row["attributes"] else "")
        )
    if len(data["titles"]) > MAX_ROWS:
        lines.append(f"… {len(data['titles']) - MAX_ROWS} more (all in --format json)")
    lines += ["", "devices that matched no model, grouped by the tokens they share:"]
    for group in data["unmatched_groups"] or []:
        examples = "; ".join(safe(e, 60) for e in group["examples"])
        lines.append(f"  {group['count']:4}  '{safe(group['tokens'])}'  e.g. {examples}")
    if not data["unmatched_groups"]:
        lines.append("  (none)")
    lines += ["", "catalog models no title matched:"]
    lines += [f"  {safe(name)}" for name in data["never_matched"]] or ["  (none)"]
    return "\n".join(lines) + "\n"


def _attributes(attributes: dict) -> str:
    return ", ".join(f"{key} {safe(value)}" for key, value in sorted(attributes.items()))
