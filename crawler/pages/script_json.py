"""JSON out of a page's scripts: `application/json` blobs, `window.X = {...}` and
`JSON.parse("...")` assignments, JavaScript object literals rewritten token by token as JSON
(never evaluated), Nuxt 3's flat payloads. Every size is capped: a state dump is skipped and
the page is read by the other layers. `crawler.pages.script_state` finds the product in it."""

from __future__ import annotations

import json
import logging
import re
from itertools import islice

from crawler.pages.document import Page

logger = logging.getLogger(__name__)

# State beyond these sizes is a dump, not a page's product: skipped, and the page is read
# by the other layers.
MAX_SCRIPT_CHARS = 2_000_000
MAX_TOTAL_CHARS = 4_000_000
# A JavaScript literal that is not JSON is tried as JSON at this many '{"' inside it, at most.
MAX_INNER_ATTEMPTS = 32
MAX_NODES = 30_000  # dicts and lists walked per page
MAX_TOKENS = 20_000  # tokens of a JavaScript literal rewritten as JSON
MAX_ASSIGNMENTS = 40  # `x = {…}` read per script

# `x = {` or `window.a.b = JSON.parse(`: where a state value starts.
_ASSIGNMENT = re.compile(
    r"(?:^|[;,{}\s])(?:(?:var|let|const)\s+)?[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*){0,4}"
    r"\s*=\s*(?=\{|JSON\.parse\()"
)
# JavaScript tokens a state literal is made of, turned into JSON one by one.
_JS_TOKEN = re.compile(
    r"""\s+|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[{}\[\]:,]|-?\d[\d.eE+-]*"""
    r"""|[A-Za-z_$][\w$]*|!\s*[01]|."""
)
_JS_WORDS = {"true": "true", "false": "false", "null": "null", "undefined": "null"}


def state_roots(page: Page) -> tuple[list, list[str]]:
    """JSON values of the page's state scripts and those scripts' texts; cheap when none."""
    roots, texts, budget = [], [], MAX_TOTAL_CHARS
    for script in page.root.iter("script"):
        text = script.text or ""
        kind = (script.get("type") or "").lower()
        if script.get("src") or "ld+json" in kind or not text.strip():
            continue
        if len(text) > min(MAX_SCRIPT_CHARS, budget):
            logger.info("script state: a script of %d chars skipped on %s", len(text), page.url)
            continue
        if "json" in kind:
            values = [decode_at(text, len(text) - len(text.lstrip()))]
            if script.get("id") == "__NUXT_DATA__" or script.get("data-nuxt-data"):
                values = [unflatten(values[0])]
        elif kind in ("", "text/javascript", "application/javascript", "module"):
            starts = islice(_ASSIGNMENT.finditer(text), MAX_ASSIGNMENTS)
            values = [decode_at(text, match.end()) for match in starts]
        else:
            continue
        # Each assignment is its own root: two copies of a product are not two variants.
        values = [value for value in values if isinstance(value, dict | list)]
        if values:
            roots.extend(values)
            texts.append(text)
            budget -= len(text)
    return roots, texts


def decode_at(text: str, start: int) -> object:
    """The JSON value (or JavaScript object literal, or JSON.parse("...") string) at `start`."""
    decoder = json.JSONDecoder()
    try:
        if text.startswith("JSON.parse(", start):
            inner = _JS_TOKEN.match(text, start + len("JSON.parse("))
            return json.loads(_js_string(inner.group()))
        return decoder.raw_decode(text, start)[0]
    except (ValueError, RecursionError, AttributeError):
        pass
    return _decode_literal(text, start, decoder)


def _decode_literal(text: str, start: int, decoder: json.JSONDecoder) -> object:
    """A JavaScript object literal ({data: {...}, token: 'x'}) rewritten token by token as
    JSON; JSON parts inside it are copied whole. None at anything else (calls, variables)."""
    out, depth, attempts, at = [], 0, 0, start
    while at < len(text) and len(out) < MAX_TOKENS:
        if text.startswith('{"', at) and attempts < MAX_INNER_ATTEMPTS:
            attempts += 1
            try:
                end = decoder.raw_decode(text, at)[1]
                out.append(text[at:end])
                at = end
                if depth == 0:
                    break
                continue
            except (ValueError, RecursionError):
                pass
        token = _JS_TOKEN.match(text, at)
        piece, at = token.group(), token.end()
        if piece.isspace():
            continue
        if piece in "{[":
            depth += 1
        elif piece in "}]":
            depth -= 1
            if out and out[-1] == ",":
                out.pop()  # a trailing comma
        if piece[0] in "'\"":
            piece = json.dumps(_js_string(piece))
        elif piece[0] == "!":
            piece = "true" if piece[-1] == "0" else "false"
        elif piece[0].isalpha() or piece[0] in "_$":
            is_key = text[at : at + 50].lstrip().startswith(":")
            piece = json.dumps(piece) if is_key else _JS_WORDS.get(piece)
        elif piece not in "{}[]:," and not re.fullmatch(r"-?\d+(\.\d+)?([eE][+-]?\d+)?", piece):
            return None
        if piece is None:
            return None
        out.append(piece)
        if depth == 0:
            break
    try:
        return json.loads("".join(out))
    except (ValueError, RecursionError):
        return None


def _js_string(token: str) -> str:
    if token.startswith('"'):
        return json.loads(token)
    body = token[1:-1].replace("\\'", "'").replace('"', '\\"')
    return json.loads(f'"{body}"')


def unflatten(payload: object) -> object:
    """Nuxt 3's payload (devalue): a flat array whose objects hold indexes into it; wrappers
    such as ["ShallowReactive", 1] stand for the value they point to."""
    if not isinstance(payload, list) or not payload:
        return payload
    memo: dict[int, object] = {}
    count = [0]

    def resolve(index: object, depth: int) -> object:
        if not isinstance(index, int) or not 0 <= index < len(payload) or depth > 60:
            return None
        if index in memo:
            return memo[index]
        count[0] += 1
        item = payload[index]
        if count[0] > MAX_NODES:
            return None
        if isinstance(item, list) and item and isinstance(item[0], str):
            value = resolve(item[1], depth + 1) if len(item) == 2 else None
        elif isinstance(item, list):
            value = memo[index] = []
            value.extend(resolve(i, depth + 1) for i in item)
        elif isinstance(item, dict):
            value = memo[index] = {}
            value.update((k, resolve(i, depth + 1)) for k, i in item.items())
        else:
            value = item
        memo[index] = value
        return value

    return resolve(0, 0)
