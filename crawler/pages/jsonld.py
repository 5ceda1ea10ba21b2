"""JSON-LD blocks read one at a time, so one broken block costs only itself: strict JSON first,
then extruct's lenient reader (comments, trailing commas), then a last repair; `@graph` and
top-level lists are flattened into one list of nodes."""

from __future__ import annotations

import json
import re

from extruct.jsonld import JsonLdExtractor

from crawler.pages.document import Page

_WRAPPERS = re.compile(r"^\s*(<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(-->|//\s*\]\]>|\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_EXTRUCT = JsonLdExtractor()
# A page with more JSON-LD than this is generated junk; reading the first blocks is enough.
MAX_BLOCKS = 50
# Real product markup nests a dozen levels (@graph, Product, offers, seller, address...); far
# deeper is generated junk or an attack on the recursive readers downstream.
MAX_DEPTH = 64


def jsonld_nodes(page: Page) -> list[dict]:
    """Every top-level JSON-LD node of the page, `@graph` members included, in page order."""
    nodes: list[dict] = []
    scripts = [s for s in page.root.iter("script") if "ld+json" in (s.get("type") or "").lower()]
    for number, script in enumerate(scripts[:MAX_BLOCKS], start=1):
        for item in _load_block(script, number, page.problems):
            nodes.extend(_flatten_graph(item))
    return nodes


def index_by_id(nodes: list[dict]) -> dict[str, dict]:
    """`@id` → node for every dict reachable from `nodes`, so references can be followed."""
    index: dict[str, dict] = {}
    stack: list[object] = list(nodes)
    seen = 0
    while stack and seen < 20_000:
        value = stack.pop()
        seen += 1
        if isinstance(value, dict):
            node_id = value.get("@id")
            if isinstance(node_id, str) and len(value) > 1 and node_id not in index:
                index[node_id] = value
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return index


def _load_block(script, number: int, problems: list[str]) -> list[dict]:
    raw = script.text or ""
    if not raw.strip():
        return []
    try:
        return _within_depth(_as_items(json.loads(raw, strict=False)), number, problems)
    except RecursionError:  # nested beyond the parser's stack: this block only is lost
        problems.append(f"JSON-LD block {number} skipped: nested too deeply to read")
        return []
    except ValueError:
        pass
    try:
        items = _as_items(_EXTRUCT.extract_items(script)) if _is_plain(script) else []
    except Exception:  # extruct's lenient parser raises many types on bad input
        items = []
    if not items:
        items = _repair(raw)
    if items:
        problems.append(f"malformed JSON-LD block {number} repaired")
    else:
        problems.append(f"malformed JSON-LD block {number} skipped")
    return _within_depth(items, number, problems)


def _within_depth(items: list[dict], number: int, problems: list[str]) -> list[dict]:
    """The items no deeper than MAX_DEPTH: the layers that read them may recurse."""
    kept = [item for item in items if _depth_at_most(item, MAX_DEPTH)]
    if len(kept) < len(items):
        problems.append(f"JSON-LD block {number}: node nested deeper than {MAX_DEPTH} skipped")
    return kept


def _depth_at_most(value: object, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return False
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return True


def _is_plain(script) -> bool:
    # extruct's XPath matches this exact type only.
    return script.get("type") == "application/ld+json"


def _repair(raw: str) -> list[dict]:
    text = _TRAILING_COMMA.sub(r"\1", _WRAPPERS.sub("", raw.strip()))
    decoder = json.JSONDecoder(strict=False)
    items: list[dict] = []
    position = 0
    while position < len(text):
        while position < len(text) and text[position] in " \t\r\n;,":
            position += 1
        if position >= len(text):
            break
        try:
            value, position = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            break
        items.extend(_as_items(value))
    return items


def _as_items(data: object) -> list[dict]:
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)]
    return []


def _flatten_graph(item: dict) -> list[dict]:
    graph = item.get("@graph")
    if graph is None:
        return [item]
    members = graph if isinstance(graph, list) else [graph]
    flat = [node for node in members if isinstance(node, dict)]
    rest = {k: v for k, v in item.items() if k not in ("@graph", "@context")}
    if rest.get("@type"):
        flat.insert(0, rest)
    return [node for member in flat for node in _flatten_graph(member)]
