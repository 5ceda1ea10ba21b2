"""summary.html, the page a lawyer reads: seller text isolated and its invisible characters
shown, links only to web addresses, the seal described in plain words."""

from __future__ import annotations

import zipfile

import pytest

from grayhound.models import Listing, Seller
from reports.evidence.bundle import export_bundle
from reports.evidence.seal import signer_info
from reports.evidence.texts import untrusted
from reports.links import safe_href

EVENT = {"exported_at": "2025-06-01T12:00:00.000Z", "host": "lawfirm-pc", "user": "custodian"}
RLO = "\u202e"


def summary_of(store, config, tmp_path, sealing=None) -> str:
    path = export_bundle(
        store, config, "listing", 1, tmp_path / "b.zip", event=EVENT, sealing=sealing
    ).path
    with zipfile.ZipFile(path) as archive:
        return archive.read("summary.html").decode()


@pytest.fixture
def hostile_listing(crawl, page):
    url = "http://127.0.0.1:8301/item/1.html"
    seller = Seller(name=f"Best{RLO}pohS\u200b Phones", url="JavaScript:alert(1)")
    listing = Listing(
        url=url,
        canonical_url=url,
        is_product=True,
        title=f"Xiaomi 14 {RLO}gnp.exe",
        price="499.00",
        currency="USD",
        seller=seller.name,
    )
    crawl([page(url, b"<html><body><h1>x</h1></body></html>", listing=listing, seller=seller)])


def test_seller_text_is_isolated_and_its_invisible_characters_are_shown(
    hostile_listing, store, config, tmp_path
):
    html = summary_of(store, config, tmp_path)
    assert RLO not in html and "\u200b" not in html
    assert '<bdi dir="auto">Best<span class="invisible"' in html
    assert "[U+202E]" in html and "[U+200B]" in html
    assert "RIGHT-TO-LEFT OVERRIDE" in html  # the mark's title names the character


def test_only_web_addresses_become_links(hostile_listing, store, config, tmp_path):
    # the store no longer keeps a JavaScript: profile URL; one written by an older version may
    store.db.execute("UPDATE sellers SET profile_url = 'JavaScript:alert(1)'")
    store.db.conn.commit()
    html = summary_of(store, config, tmp_path)
    assert 'href="JavaScript' not in html and "JavaScript:alert(1)" in html  # shown as text


@pytest.mark.parametrize(
    ("value", "linked"),
    [
        ("https://shop.example/p", True),
        ("http://127.0.0.1:8301/x", True),
        ("JavaScript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("&#106;avascript:alert(1)", False),
        (" \x01javascript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("//evil.example/", False),
        ("/relative", False),
        (None, False),
    ],
)
def test_summary_links_only_web_urls(value, linked):
    assert (safe_href(value) is not None) is linked


def test_untrusted_escapes_markup():
    assert str(untrusted("<b>x</b>")) == '<bdi dir="auto">&lt;b&gt;x&lt;/b&gt;</bdi>'


def test_the_seal_is_described_in_plain_words(two_runs, store, config, tmp_path, sealing, tsa):
    unsealed = summary_of(store, config, tmp_path)
    assert "not signed." in unsealed and "not certified by anyone else" in unsealed
    sealed = summary_of(store, config, tmp_path, sealing)
    fingerprint = signer_info(sealing.signing_key.public_key()).fingerprint
    assert "signed</span> with the Ed25519 key" in sealed
    assert f"verify --fingerprint {fingerprint} BUNDLE" in sealed
    assert f'time-stamping authority\n<span class="mono">{tsa.url}</span>' in sealed
