"""The digest's JSON, written faster than `json.dumps(indent=2)` with the same bytes.

Python's `json` encoder takes its pure-Python path whenever `indent` is set: a generator per
nesting level and a `yield` per token, about 100 µs for one digest item, 70 s of a digest
listing 730,000 cases. The digest's values are plain (dicts, lists, strings, numbers, None and
read-only mappings), so each item is made here as one string by joins at known indentation,
every string escaped by the C function the encoder itself uses (`encode_basestring`), every
number written as the encoder writes it. `chunks` gives the text of
`json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)` (read-only mappings as the
dicts they read as) piece by piece: a long list is written one element at a time."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from json.encoder import encode_basestring
from typing import IO

INDENT = "  "
INFINITY = float("inf")
KEYS: dict[str, str] = {}  # field name -> its JSON and ": "
KEYS_KEPT = 10_000
CONSTANTS = {None: "null", True: "true", False: "false"}


def chunks(value, pad: str = "", stream: IO[str] | None = None) -> Iterator[str]:
    """The indented JSON of `value` at indentation `pad` in pieces: a dict one value at a
    time (each streamed the same way), a list one element at a time (each in one piece,
    unless it is a long or spooled list itself). Given the `stream` the caller writes each
    piece into as it is made, a spooled group able to (`write_json`) writes its elements
    into it itself, between the pieces around them (in parts, on several cores), and so does
    a dict of them able to (a spooled digest's groups: the dict's text, all groups at once)."""
    if isinstance(value, (list, tuple)):
        if not value:
            yield "[]"
            return
        inner = pad + INDENT
        texts = getattr(value, "json_texts", None)
        if texts is not None:  # a spooled group: its elements' text made by SQLite
            yield "[\n" + inner
            if stream is not None and hasattr(value, "write_json"):
                value.write_json(stream, inner)
            else:
                yield from texts(inner)
            yield "\n" + pad + "]"
            return
        separator = "[\n" + inner
        for element in value:
            yield separator
            yield from _element(element, inner, stream)
            separator = ",\n" + inner
        yield "\n" + pad + "]"
    elif isinstance(value, dict) or _is_mapping(value):
        if stream is not None and hasattr(value, "write_json"):  # a spooled digest's groups
            value.write_json(stream, pad)  # all of them at once, in parts on several cores
            return
        value = value if isinstance(value, dict) else dict(value)
        if not value:
            yield "{}"
            return
        inner = pad + INDENT
        separator = "{\n" + inner
        for key, element in sorted(value.items()):
            yield separator + _key(key)
            yield from chunks(element, inner, stream)
            separator = ",\n" + inner
        yield "\n" + pad + "}"
    else:
        yield encoded(value, pad)


def _element(value, pad: str, stream: IO[str] | None = None) -> Iterator[str]:
    """A long list streams; anything else is made in one piece."""
    if isinstance(value, list) and type(value) is not list:  # a spooled group: read as it goes
        return chunks(value, pad, stream)
    if isinstance(value, (list, tuple, dict)) and len(value) > 1000:
        return chunks(value, pad, stream)
    return iter((encoded(value, pad),))


def encoded(value, pad: str = "") -> str:
    """`value` as indented JSON at indentation `pad`, in one string."""
    scalar = SCALARS.get(type(value))
    if scalar is not None:
        return scalar(value)
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None or value is True or value is False:
        return CONSTANTS[value]
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    inner = pad + INDENT
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        body = (",\n" + inner).join(
            [
                scalar(element)
                if (scalar := SCALARS.get(type(element)))
                else encoded(element, inner)
                for element in value
            ]
        )
        return "[\n" + inner + body + "\n" + pad + "]"
    if isinstance(value, dict) or _is_mapping(value):
        value = value if isinstance(value, dict) else dict(value)
        if not value:
            return "{}"
        body = (",\n" + inner).join(
            [
                _key(key)
                + (
                    scalar(element)
                    if (scalar := SCALARS.get(type(element)))
                    else encoded(element, inner)
                )
                for key, element in sorted(value.items())
            ]
        )
        return "{\n" + inner + body + "\n" + pad + "}"
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _is_mapping(value) -> bool:
    return isinstance(value, Mapping)


def _key(key) -> str:
    """A dict key as `json` writes it (strings; numbers, booleans and None as text), with
    its separator; the digest's few field names are made once."""
    if type(key) is str:
        made = KEYS.get(key)
        if made is None:
            if len(KEYS) > KEYS_KEPT:
                KEYS.clear()
            made = KEYS[key] = encode_basestring(key) + ": "
        return made
    return _other_key(key) + ": "


def _other_key(key) -> str:
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, float):
        return encode_basestring(_float(key))
    if key is True or key is False or key is None:
        return encode_basestring({True: "true", False: "false", None: "null"}[key])
    if isinstance(key, int):
        return encode_basestring(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == INFINITY:
        return "Infinity"
    if value == -INFINITY:
        return "-Infinity"
    return float.__repr__(value)


# the exact types the digest's values mostly are, written without a call to `encoded`
SCALARS = {
    str: encode_basestring,
    int: int.__repr__,
    float: _float,
    type(None): lambda _: "null",
    bool: lambda value: "true" if value else "false",
}
