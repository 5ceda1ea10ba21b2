"""The page image on a listing's page: the PNG of the latest exported bundle that pictures the
listing (its own, its seller's or its network's), or one rendered on request from the stored
capture by the bundles' renderer; the image routes serve only names grayhound chose."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import lxml.html
import pytest

from tests.serve.conftest import IMPERSONATOR, build_store, write_config

PNG = b"\x89PNG\r\n\x1a\n"
needs_chromium = pytest.mark.skipif(
    not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")),
    reason="Chromium is not installed (apt-get install chromium): page images need it",
)


@pytest.fixture
def fresh(tmp_path, client_for):
    from grayhound.config import load_config

    config = load_config(write_config(tmp_path))
    build_store(config)
    client = client_for(config)
    client.sign_in()
    return client, config


def impersonators_listing(config) -> tuple[int, int]:
    """(listing id, seller id) of the impersonator's one listing."""
    from grayhound.store import open_store

    with open_store(config.storage.database) as store:
        seller = next(row for row in store.sellers() if row["name"] == IMPERSONATOR)
        (listing,) = [row for row in store.listings() if row["seller_id"] == seller["id"]]
    return listing["id"], seller["id"]


def image_section(html: str):
    doc = lxml.html.document_fromstring(html)
    heading = doc.xpath("//h2[.='The page image']")[0]
    section = []
    for sibling in heading.itersiblings():
        if sibling.tag == "h2":
            break
        section.append(sibling)
    return section


def test_a_listing_with_no_picture_offers_to_render_one(fresh, tmp_path, client_for):
    from grayhound.config import load_config

    client, config = fresh
    listing_id, _ = impersonators_listing(config)
    (form,) = image_section(client.get(f"/-/grayhound/listing/{listing_id}").text)
    assert form.get("action") == "/-/grayhound/render"
    assert form.xpath("string(.//button)").startswith("Render the page image of capture #")
    assert "never the live site" in form.text_content()
    (tmp_path / "read").mkdir()
    reader_config = load_config(write_config(tmp_path / "read", anonymous="read"))
    shutil.copytree(config.storage.evidence_dir, reader_config.storage.evidence_dir)
    shutil.copy(config.storage.database, reader_config.storage.database)
    reader = client_for(reader_config)
    shown = image_section(reader.get(f"/-/grayhound/listing/{listing_id}").text)
    assert "Sign in" in shown[0].text_content() and not shown[0].xpath(".//form")
    token = reader.csrftoken("/-/login")
    refused = reader.post(
        "/-/grayhound/render", {"capture_id": "1", "listing_id": "1", "csrftoken": token}
    )
    assert refused.status_code == 403


@needs_chromium
def test_a_capture_rendered_on_request_shows_on_the_listing_page(fresh):
    client, config = fresh
    listing_id, _ = impersonators_listing(config)
    page = f"/-/grayhound/listing/{listing_id}"
    form = image_section(client.get(page).text)[0]
    fields = {i.get("name"): i.get("value") for i in form.xpath(".//input")}
    without_token = {k: v for k, v in fields.items() if k != "csrftoken"}
    assert client.post("/-/grayhound/render", without_token).status_code == 403
    response = client.post("/-/grayhound/render", fields)
    assert response.status_code == 302 and response.headers["location"] == page
    html = client.get(page).text
    assert "Rendered capture #" in html
    (img,) = lxml.html.document_fromstring(html).xpath("//figure[@class='gh-page-image']//img")
    assert re.fullmatch(r"/-/grayhound/rendered/capture-\d{8}-[0-9a-f]{16}\.png", img.get("src"))
    picture = client.get(img.get("src"))
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.content.startswith(PNG) and len(picture.content) > 5000
    caption = " ".join(img.getparent().getparent().xpath("string(figcaption)").split())
    assert "rendered on request from the stored copy" in caption
    assert not image_section(html)[-1].xpath(".//form")  # nothing left to render


@needs_chromium
def test_the_latest_exported_bundles_picture_shows_on_its_listings_pages(fresh):
    client, config = fresh
    listing_id, seller_id = impersonators_listing(config)
    seller_page = f"/-/grayhound/seller/{seller_id}"
    exported = client.post(
        "/-/grayhound/export",
        {
            "kind": "seller",
            "subject_id": str(seller_id),
            "csrftoken": client.csrftoken(seller_page),
        },
    )
    assert exported.status_code == 303
    name = exported.headers["location"].rsplit("/", 1)[1]
    html = client.get(f"/-/grayhound/listing/{listing_id}").text
    (img,) = lxml.html.document_fromstring(html).xpath("//figure[@class='gh-page-image']//img")
    match = re.fullmatch(r"/-/grayhound/bundle-image/([^/]+)/(capture-\d{8}\.png)", img.get("src"))
    assert match and match.group(1) == name
    picture = client.get(img.get("src"))
    assert picture.status_code == 200 and picture.content.startswith(PNG)
    with zipfile.ZipFile(Path(config.storage.evidence_dir) / "exports" / name) as bundle:
        assert picture.content == bundle.read(f"images/{match.group(2)}")
    assert name in " ".join(img.getparent().getparent().xpath("string(figcaption)").split())


@pytest.mark.parametrize(
    "path",
    [
        "/-/grayhound/bundle-image/grayhound.toml/capture-00000001.png",
        "/-/grayhound/bundle-image/..%2Fgrayhound.db/capture-00000001.png",
        "/-/grayhound/bundle-image/listing-1-20260101T000000Z.zip/capture-00000001.png",
        "/-/grayhound/rendered/..%2F..%2Fgrayhound.toml",
        "/-/grayhound/rendered/capture-00000001-0123456789abcdef.png",
    ],
)
def test_the_image_routes_serve_only_names_grayhound_chose(served_store, client_for, path):
    _, config = served_store
    client = client_for(config)
    client.sign_in()
    response = client.get(path)
    if response.status_code == 302:  # Datasette's tilde form of an encoded "/": still no file
        assert "~2F" in response.headers["location"]
        response = client.get(response.headers["location"].replace("~2Epng", ".png"))
    assert response.status_code == 404
