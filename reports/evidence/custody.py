"""The chain-of-custody log: one line per capture, then one for the export, each line carrying
the SHA-256 of the line before it (`prev=`), so no line can be changed, inserted or removed
without breaking every line after it; manifest.json records the hash of the last line.

The chain is built when the bundle is exported, from the capture index: it proves the log is the
one exported with this manifest (and, with a signature or timestamp on the manifest, that it has
not been rewritten since), not that the capture index itself was never edited."""

from __future__ import annotations

import hashlib
import json
import re

GENESIS = "0" * 64  # the `prev` of the first line
PREV_RE = re.compile(r"\tprev=([0-9a-f]{64})$")


def render_custody(captures: list[dict], subject: dict, event: dict) -> tuple[bytes, str]:
    """The log's bytes and the hash of its last line (for the manifest)."""
    lines = []
    for c in captures:
        lines.append(
            _line(
                c["fetched_at"],
                c["host"],
                c["user"],
                "captured",
                capture=c["id"],
                run=c["crawl_run_id"],
                status=c["status"],
                url=c["url"],
                sha256=c["payload_sha256"],
                warc=f"{c['warc_file']}@{c['offset']}",
            )
        )
    identity = subject["identity"]
    lines.append(
        _line(
            event["exported_at"],
            event["host"],
            event["user"],
            "exported",
            subject=f"{identity['kind']}:{identity['id']}",
            captures=len(captures),
        )
    )
    chained, previous = [], GENESIS
    for line in lines:
        line = f"{line}\tprev={previous}"
        chained.append(line)
        previous = line_hash(line)
    return ("\n".join(chained) + "\n").encode("utf-8"), previous


def line_hash(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def check_chain(data: bytes, head) -> list[str]:
    """Problems with the log's chain and its head; [] when every line follows the one before
    and the last is the one the manifest records."""
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return ["custody.log: changed (not UTF-8 text)"]
    if lines and lines[-1] == "":
        lines.pop()
    previous = GENESIS
    for number, line in enumerate(lines, start=1):
        match = PREV_RE.search(line)
        if match is None:
            return [f"custody.log: line {number} carries no hash of the line before it"]
        if match.group(1) != previous:
            where = "the start" if number == 1 else f"line {number - 1}"
            return [
                f"custody.log: line {number} does not follow {where} (a line was changed,"
                " inserted or removed)"
            ]
        previous = line_hash(line)
    if head != previous:
        return [
            "custody.log: its last line is not the one manifest.json records (lines were"
            " removed, added or rewritten)"
        ]
    return []


def _line(when, host, user, action, **fields) -> str:
    parts = [str(when), f"host={_value(host)}", f"user={_value(user)}", f"action={action}"]
    parts += [f"{k}={_value(v)}" for k, v in fields.items()]
    return "\t".join(parts)


def _value(value) -> str:
    text = "" if value is None else str(value)
    return json.dumps(text) if (not text or re.search(r"[\s\"\\]", text)) else text
