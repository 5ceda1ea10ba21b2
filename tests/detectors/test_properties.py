"""Properties over arbitrary input: never raise, scores in [0, 1], verdicts from VERDICTS."""

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from detectors import ListingFacts, assess_listings, score_input
from detectors.normalize import fold
from grayhound.models import FLAGS, VERDICTS

TEXT = st.text(max_size=60)
LOOKALIKE_TEXT = st.text(alphabet="xiaomsungpleіаοѕ0135@$-. ", max_size=30)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(TEXT, LOOKALIKE_TEXT), kind=st.sampled_from(["auto", "name", "domain"]))
def test_score_input_never_raises_and_stays_in_range(book, text, kind):
    found = score_input(text, kind, book)
    assert 0.0 <= found.score <= 1.0
    assert found.verdict in VERDICTS
    assert found.kind in ("name", "domain")
    assert all(isinstance(r, str) and r for r in found.reasons)


@settings(max_examples=100, deadline=None)
@given(
    title=TEXT,
    price=st.one_of(st.none(), st.text(max_size=8), st.decimals(allow_nan=True).map(str)),
    currency=st.sampled_from([None, "USD", "EUR", "CNY", "XXX"]),
    condition=st.sampled_from(["new", "used", "refurbished", "unknown"]),
)
def test_listings_never_raise(book, title, price, currency, condition):
    facts = ListingFacts("1", title, price, currency, condition, seller_name=title[:10] or None)
    (found,) = assess_listings([facts], book)
    assert 0.0 <= found.risk <= 1.0 and found.verdict in VERDICTS
    assert set(found.flags) <= set(FLAGS)


@given(text=TEXT)
def test_fold_is_idempotent_on_its_output(text):
    once = fold(text).text
    assert fold(once).text == once


HOST_LABEL = st.one_of(
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True),
    # labels that are themselves parts of public-suffix rules, an IDN one ('公司.hk') among them
    st.sampled_from(["co", "com", "sch", "www", "city", "kobe", "nom", "ac", "xn--55qx5d", ""]),
    # lookalike letters, and full stops tldextract reads as dots
    st.text(alphabet="xiaomіаοѕ-。．｡", min_size=1, max_size=8),
)
SUFFIXES = [
    *("com", "co.uk", "shop", "xyz", "de", "com.co", "blogspot.com", "kawasaki.jp", "ck"),
    *("uk", "io", "com.io", "hk", "jp", "kobe.jp", "br", "nom.br", "sch.uk", "xn--p1ai", "UK"),
    *("рф", "com。", "ΚΟΜ"),
]


@settings(max_examples=300, deadline=None)  # the first tldextract call is slow on a busy machine
@given(labels=st.lists(HOST_LABEL, min_size=1, max_size=3), suffix=st.sampled_from(SUFFIXES))
@example(labels=["shop", "xn--55qx5d"], suffix="hk")  # a punycode second-level rule: 公司.hk
@example(labels=["shop", "sch"], suffix="uk")  # under a wildcard rule: *.sch.uk
@example(labels=["shop。xіaomі"], suffix="com")  # an ideographic full stop is a dot
def test_split_host_fast_path_agrees_with_tldextract(labels, suffix):
    from detectors.book import _EXTRACT, split_host

    host = ".".join([*labels, suffix])
    parts = _EXTRACT(host)
    assert split_host.__wrapped__(host) == (parts.subdomain, parts.domain, parts.suffix)


@given(text=st.one_of(TEXT, st.text(alphabet="aZ09-- _.éKı", max_size=20)))
def test_compact_runs_alphanumerics_together_and_marks_each_cut(text):
    from detectors.normalize import compact

    pieces = [p for p in re.split(r"[^0-9a-z]+", text.lower()) if p]
    joined, cuts = compact(text)
    assert joined == "".join(pieces)
    assert sorted(cuts) == [sum(map(len, pieces[:i])) for i in range(1, len(pieces))]
