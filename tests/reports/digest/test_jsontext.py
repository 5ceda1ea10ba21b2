"""The digest's JSON writer (`reports.digest.jsontext`) gives exactly the bytes of Python's
indenting encoder, which the digest used before, for any value the digest can hold."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from hypothesis import given
from hypothesis import strategies as st

from grayhound.store.digests import Record, columns_of
from reports.digest import jsontext


class ItemEncoder(json.JSONEncoder):
    """What the digest's JSON was written with before (its read-only items as dicts)."""

    def default(self, o):
        return dict(o) if isinstance(o, Mapping) else super().default(o)


def before(value) -> str:
    return ItemEncoder(indent=2, sort_keys=True, ensure_ascii=False).encode(value)


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0.0, -0.0, 1e16, 1e-05, 0.1 + 0.2, math.pi, 999.0])
    | st.text()
)
keys = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()


def records(children):
    """A read-only `Record` over string keys, as the digest's items are."""
    return st.dictionaries(st.text(), children, max_size=6).map(
        lambda fields: Record(columns_of(fields), tuple(fields.values()))
    )


values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=6)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(st.text(), children, max_size=6)
        | st.dictionaries(keys, children, max_size=4)
        | records(children)
    ),
    max_leaves=40,
)


@given(values)
def test_the_same_text_as_the_indenting_encoder(value):
    try:
        expected = before(value)
    except TypeError:  # keys of mixed types cannot be sorted: an error both ways
        return
    assert "".join(jsontext.chunks(value)) == expected
    assert jsontext.encoded(value) == expected


def test_hostile_text_and_long_lists_stream_the_same():
    text = 'a"\\\x00\x1f\x7f\u2028\ud800é<script>'
    value = {"groups": {"new": [{"title": text, "n": i, "r": i / 7} for i in range(1500)]}}
    pieces = list(jsontext.chunks(value))
    assert "".join(pieces) == before(value)
    assert len(pieces) > 1500  # the long list is written one element at a time
