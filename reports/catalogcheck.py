"""`grayhound catalog check` as a text table, from the data `detectors.catalogcheck` builds
(its `to_dict()`): titles come from strangers, so they reach the console through the shared
`terminal_text` (escape sequences removed whole, invisible characters shown)."""

from __future__ import annotations

from grayhound.text import terminal_text

# Columns of the per-title table (characters).
TITLE_WIDTH = 48
MODEL_WIDTH = 28
# Titles listed per section in the table (all of them are in --format json).
MAX_ROWS = 200


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
            f"{terminal_text(row['title'], TITLE_WIDTH):{TITLE_WIDTH}}  "
            f"{terminal_text(row['model'] or '-', MODEL_WIDTH):{MODEL_WIDTH}}  "
            f"{row['kind']:9}  {terminal_text(row['reason'])}"
            + (f" [{_attributes(row['attributes'])}]" if row["attributes"] else "")
        )
    if len(data["titles"]) > MAX_ROWS:
        lines.append(f"… {len(data['titles']) - MAX_ROWS} more (all in --format json)")
    lines += ["", "devices that matched no model, grouped by the tokens they share:"]
    for group in data["unmatched_groups"] or []:
        examples = "; ".join(terminal_text(e, 60) for e in group["examples"])
        lines.append(f"  {group['count']:4}  '{terminal_text(group['tokens'])}'  e.g. {examples}")
    if not data["unmatched_groups"]:
        lines.append("  (none)")
    lines += ["", "catalog models no title matched:"]
    lines += [f"  {terminal_text(name)}" for name in data["never_matched"]] or ["  (none)"]
    return "\n".join(lines) + "\n"


def _attributes(attributes: dict) -> str:
    return ", ".join(f"{key} {terminal_text(value)}" for key, value in sorted(attributes.items()))
