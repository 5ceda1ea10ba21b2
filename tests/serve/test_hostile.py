"""Seller names, aliases, URLs and network signals are crawled text: on every page that shows
them they are escaped, isolated in <bdi>, their invisible characters written visibly, and a
URL is a link only when `reports.links.safe_href` says so."""

from __future__ import annotations

import lxml.html
import pytest

from tests.serve.conftest import (
    HOSTILE_ADDRESS,
    HOSTILE_ALIAS,
    HOSTILE_SELLER,
    HOSTILE_URL,
    IMPERSONATOR,
)

# Raw, these would be markup or would bend the text around them.
RAW = ("<script>window.__pwned = 5", "<img src=x onerror", "\u200b", "\u202e", "\u202c")


@pytest.fixture(scope="module")
def pages(served_store):
    """Every page that shows the hostile seller, as served to a signed-in reviewer."""
    from grayhound.store import open_store
    from reports.serve.app import build_datasette
    from tests.serve.conftest import Client

    _, config = served_store
    with open_store(config.storage.database) as store:
        seller = next(row for row in store.seller_rows() if row["name"] == HOSTILE_SELLER)
        tied = next(row for row in store.seller_rows() if row["name"] == IMPERSONATOR)
        (listing,) = [row for row in store.listings() if row["seller_id"] == seller["id"]]
    client = Client(build_datasette(config))
    client.sign_in()
    paths = {
        "seller": f"/-/grayhound/seller/{seller['id']}",
        "network": f"/-/grayhound/network/{seller['network_id']}",
        "address holder": f"/-/grayhound/seller/{tied['id']}",
        "queue": "/triage/queue",
        "one seller's queue": f"/triage/queue?seller_id={seller['id']}",
        "listing": f"/-/grayhound/listing/{listing['id']}",
        "raw sellers": "/grayhound/sellers",
        "raw aliases": "/grayhound/seller_aliases",
        "raw networks": "/grayhound/networks",
    }
    shown = {name: client.get(path).text for name, path in paths.items()}
    client.close()
    return shown


@pytest.mark.parametrize(
    "name", ["seller", "network", "queue", "one seller's queue", "listing", "raw sellers"]
)
def test_a_hostile_seller_name_is_isolated_with_its_invisible_characters_shown(pages, name):
    page = pages[name]
    for raw in RAW:
        assert raw not in page, (name, raw)
    doc = lxml.html.document_fromstring(page)
    isolated = [" ".join(b.text_content().split()) for b in doc.xpath("//bdi")]
    assert "Xiao⟨U+200B⟩mi ⟨U+202E⟩selaD⟨U+202C⟩ Hub" in isolated, name
    markers = doc.xpath("//span[@class='gh-invisible']")
    assert {m.text for m in markers} >= {"⟨U+200B⟩", "⟨U+202E⟩", "⟨U+202C⟩"}, name
    assert not doc.xpath("//script[contains(., '__pwned')]"), name


@pytest.mark.parametrize("name", ["seller", "raw aliases"])
def test_a_hostile_alias_and_profile_url_stay_text(pages, name):
    doc = lxml.html.document_fromstring(pages[name])
    text = doc.text_content()
    assert HOSTILE_ALIAS in text and HOSTILE_URL in text, name
    hrefs = doc.xpath("//@href") + doc.xpath("//@src")
    assert not [h for h in hrefs if "javascript" in h.lower() or "__pwned" in h], name


def test_a_hostile_network_signal_is_text(pages):
    for name in ("network", "address holder", "raw networks"):
        doc = lxml.html.document_fromstring(pages[name])
        assert not doc.xpath("//img[@onerror] | //*[@onerror]"), name
        assert HOSTILE_ADDRESS[:19] in doc.text_content(), name  # "<img src=x onerror"


def test_the_page_title_isolates_and_marks_the_name(pages):
    title = lxml.html.document_fromstring(pages["seller"]).findtext(".//title")
    assert title == "Seller: \u2068Xiao⟨U+200B⟩mi ⟨U+202E⟩selaD⟨U+202C⟩ Hub\u2069"


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://shop.example/a b", "https://shop.example/a%20b"),
        ("javascript:alert(1)", None),
        ("JaVa\tScRiPt:alert(1)", None),
        ("&#106;avascript:alert(1)", None),
        ("data:text/html,<script>x</script>", None),
        ("//evil.example/x", None),
        ('http://x.example/"><script>', "http://x.example/%22%3E%3Cscript%3E"),
    ],
)
def test_a_crawled_url_is_a_link_only_through_safe_href(url, link):
    from reports.serve.shown import outside_link

    doc = lxml.html.fragment_fromstring(str(outside_link(url)), create_parent="div")
    anchors = doc.xpath("//a")
    if link is None:
        assert anchors == [] and doc.text_content() == url
    else:
        (anchor,) = anchors
        assert anchor.get("href") == link and anchor.get("rel") == "noopener noreferrer nofollow"
        assert anchor.text_content() == url
