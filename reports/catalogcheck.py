"""`grayhound catalog check` as a text table, from the data `detectors.catalogcheck` builds
(its `to_dict()`): titles come from strangers, so they reach the console through the shared
`terminal_text` (escape sequences removed whole, invisible characters shown)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Sequence
from typing import IO

from grayhound.text import terminal_text
from reports.parallel import copy_into, write_parts

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
    if data["counts"]["titles"] > MAX_ROWS:
        lines.append(f"… {data['counts']['titles'] - MAX_ROWS} more (all in --format json)")
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


# -- streamed: every stored title, one at a time ------------------------------------------------
TITLES_MARK = "\x00titles\x00"


def write_check(
    titles: Iterable[dict],
    catalog_models: list[str],
    group: Callable[[list[str]], list[dict]],
    fmt: str,
    stream: IO[str],
) -> None:
    """`detectors.catalogcheck.check_titles(...).to_dict()` written as `render_table` or as
    indented JSON, from each title's check as it comes (`TitleCheck.to_dict()`, attributes in
    key order): what is held is the counts, the table's first rows and the titles of devices
    that matched no model (`group` makes their groups). JSON titles wait in a temporary file
    behind the counts."""

    def take(part: Iterable[dict], spool: IO[str]) -> dict:  # the one part: the titles
        return tally(part, fmt, spool)

    write_check_parts([titles], take, catalog_models, group, fmt, stream)


def write_check_parts(
    parts: Sequence,
    tally_part: Callable[[object, IO[str]], dict],
    catalog_models: list[str],
    group: Callable[[list[str]], list[dict]],
    fmt: str,
    stream: IO[str],
    *,
    started: Callable[[], None] | None = None,
) -> None:
    """`write_check` of the titles of every part in order, each part's titles taken by
    `tally_part(part, spool)`, which returns their `tally` (written into `spool`): the parts
    after the first on the other CPUs (`reports.parallel.write_parts`, `started` as there),
    the same bytes as one process taking them one after the other."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        tallies = write_parts(spool, parts, tally_part, started=started)
        counts = dict.fromkeys(COUNTED, 0)
        matched, unmatched, first = set(), [], []
        for part in tallies:
            for key in COUNTED:
                counts[key] += part["counts"][key]
            matched |= part["matched"]
            unmatched += part["unmatched"]
            first += part["first"][: MAX_ROWS - len(first)]
        never = [model for model in catalog_models if model not in matched]
        counts.update(catalog_models=len(catalog_models), never_matched=len(never))
        data = {
            "counts": counts,
            "titles": [TITLES_MARK] if counts["titles"] and fmt == "json" else first,
            "unmatched_groups": group(unmatched),
            "never_matched": never,
        }
        if fmt != "json":
            stream.write(render_table(data))
            return
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        head, _, foot = text.partition("    " + json.dumps(TITLES_MARK))
        stream.write(head)
        spool.flush()
        spool.buffer.seek(len(SEPARATOR))  # every title is written behind one: not the first
        copy_into(stream, spool.buffer)
        stream.write(foot)


COUNTED = ("titles", "matched", "unmatched_devices", "unmatched_other")
SEPARATOR = ",\n"  # before each title in the JSON's list


def tally(titles: Iterable[dict], fmt: str, spool: IO[str]) -> dict:
    """What `write_check` keeps of `titles` (a dict that pickles): the counts, the models
    matched, the device titles that matched none, and in the table the first `MAX_ROWS`
    rows; in JSON each title is written into `spool`, each behind `SEPARATOR`."""
    counts = dict.fromkeys(COUNTED, 0)
    matched, unmatched, first = set(), [], []
    for title in titles:
        title["attributes"] = dict(sorted(title["attributes"].items()))
        if fmt == "json":
            spool.write(SEPARATOR + _title_json(title))
        elif len(first) < MAX_ROWS:
            first.append(title)
        counts["titles"] += 1
        if title["model"]:
            counts["matched"] += 1
            matched.add(title["model"])
        elif title["kind"] == "device":
            counts["unmatched_devices"] += 1
            unmatched.append(title["title"])
        else:
            counts["unmatched_other"] += 1
    return {"counts": counts, "matched": matched, "unmatched": unmatched, "first": first}


def _title_json(title: dict) -> str:
    """One title as `json.dumps(..., indent=2)` writes it inside the report's "titles" list:
    the same bytes, written by json's C string encoder (the indenting encoder is pure Python)."""
    lines = []
    for key, value in title.items():
        if key == "attributes":
            text = _object(value) if value else "{}"
        else:
            text = _ENCODE(value) if type(value) is str else _JSON.encode(value)
        lines.append(f"      {_ENCODE(key)}: {text}")
    return "    {\n" + ",\n".join(lines) + "\n    }"


def _object(values: dict) -> str:
    inner = ",\n".join(f"        {_ENCODE(k)}: {_JSON.encode(v)}" for k, v in values.items())
    return "{\n" + inner + "\n      }"


_ENCODE = json.encoder.encode_basestring  # the C function when available
_JSON = json.JSONEncoder(ensure_ascii=False)
