"""grayhound serve through Datasette's ASGI app: who may read and write, CSRF, the queue and its
facets, the subject pages, decisions and evidence exports through grayhound's own functions,
and listing text that stays text."""

from __future__ import annotations

import io
import json
import re
import zipfile

import lxml.html
import pytest

from tests.serve.conftest import HOSTILE_TITLE, PASSWORD, build_store, write_config

RAW_MARKUP = re.compile(r"<script>window\.__pwned|<img src=x onerror", re.IGNORECASE)


def listing_id(config, title_part: str) -> int:
    from grayhound.store import open_store

    with open_store(config.storage.database) as store:
        return next(row["id"] for row in store.listings() if title_part in (row["title"] or ""))


def seller_id(config, name: str) -> int:
    from grayhound.store import open_store

    with open_store(config.storage.database) as store:
        return next(row["id"] for row in store.sellers() if row["name"] == name)


def review_log(config) -> list[dict]:
    from grayhound.store import open_store

    with open_store(config.storage.database) as store:
        return store.review_log()


# -- who may do what ------------------------------------------------------------------------
def test_anonymous_visitors_see_nothing_and_are_sent_to_sign_in(served_store, client_for):
    _, config = served_store
    client = client_for(config)
    for path in ("/", "/triage/queue", "/-/grayhound/seller/1", "/grayhound/listings"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["location"].startswith("/-/login?next=")
    assert client.get("/grayhound/listings.json").status_code == 403
    assert client.get("/-/grayhound/listing/1.json").status_code in (302, 403)


def test_anonymous_readers_read_but_cannot_write(tmp_path, client_for):
    from grayhound.config import load_config

    config = load_config(write_config(tmp_path, anonymous="read"))
    build_store(config)
    client = client_for(config)
    assert client.get("/triage/queue").status_code == 200
    page = client.get(f"/-/grayhound/seller/{seller_id(config, 'Gadget Hut')}")
    assert page.status_code == 200 and "Sign in</a> to decide" in page.text
    token = client.csrftoken("/-/login")
    form = {"kind": "seller", "subject_id": "1", "state": "dismissed", "note": "x"}
    response = client.post("/-/grayhound/review", {**form, "csrftoken": token})
    assert response.status_code == 403
    export = client.post("/-/grayhound/export", {**form, "csrftoken": token})
    assert export.status_code == 403
    assert review_log(config) == []


def test_a_wrong_password_signs_nobody_in(served_store, client_for):
    _, config = served_store
    client = client_for(config)
    assert client.sign_in(password="wrong").status_code == 401
    assert client.sign_in(username="mallory", password=PASSWORD).status_code == 401
    assert client.get("/triage/queue").status_code == 302
    response = client.sign_in()
    assert response.status_code == 302
    assert client.get("/triage/queue").status_code == 200


def test_posts_without_the_csrf_token_are_refused(served_store, client_for):
    _, config = served_store
    client = client_for(config)
    client.sign_in()
    before = review_log(config)
    subject = str(seller_id(config, "Gadget Hut"))
    form = {"kind": "seller", "subject_id": subject, "state": "dismissed", "note": "no token"}
    assert client.post("/-/grayhound/review", form).status_code == 403
    forged = {**form, "csrftoken": "IjEyMyI.forged"}
    assert client.post("/-/grayhound/review", forged).status_code == 403
    assert review_log(config) == before


def test_the_store_is_read_only_to_datasette(served_store, client_for):
    _, config = served_store
    client = client_for(config)
    client.sign_in()
    database = client.datasette.get_database("grayhound")
    with pytest.raises(PermissionError):
        client.runner.run(database.execute_write("DELETE FROM cases"))
    sql = client.get("/grayhound.json", params={"sql": "delete from cases"})
    assert sql.status_code == 400
    # the config's password hashes never reach a page
    assert "pbkdf2" not in client.get("/-/metadata.json").text


def test_the_one_time_sign_in_link_works_once(served_store, client_for):
    from reports.serve.app import sign_in_url

    _, config = served_store
    client = client_for(config, sign_in_link=True)
    link = sign_in_url(client.datasette, "http://localhost")
    assert client.get(link).status_code == 302
    assert client.get("/triage/queue").status_code == 200
    other = client_for(config, sign_in_link=True)
    assert other.get(link).status_code == 403  # another server's link, or a used one
    assert client.get(link).status_code == 403


# -- the queue -------------------------------------------------------------------------------
def test_the_queue_ranks_cases_by_risk_with_facets(served_store, client_for):
    _, config = served_store
    client = client_for(config)
    client.sign_in()
    data = client.get("/triage/queue.json", params={"_shape": "objects"}).json()
    rows = data["rows"]
    risks = [row["risk"] for row in rows]
    assert risks == sorted(risks, reverse=True) and len(rows) >= 3
    assert {"brand", "flags", "source", "state", "seller_verdict", "group"} <= set(
        data["facet_results"]
    )
    assert {row["kind"] for row in rows} == {"listing", "seller"}
    samsung = client.get("/triage/queue.json", params={"brand": "samsung", "_shape": "array"})
    assert samsung.json() and {row["brand"] for row in samsung.json()} == {"samsung"}
    flagged = client.get(
        "/triage/queue.json", params={"_facet_array": "flags", "flags__arraycontains": "price_low"}
    ).json()
    assert flagged["rows"]
    listing_rows = [row for row in rows if row["kind"] == "listing"]
    assert all(row["seller_verdict"] for row in listing_rows)  # each listing names its seller
    # a view of two tables (store.queue.VIEW), headed as the cases queue all the same
    heading = lxml.html.fromstring(client.get("/triage/queue").text).xpath("//h1")[0]
    assert heading.text_content().replace("🔒", "").strip() == "Cases queue"  # 🔒: private


def test_the_queue_shows_a_decision_and_the_state_facet_follows(served_store, client_for):
    _, config = served_store
    client = client_for(config)
    client.sign_in()
    client.get("/triage/queue")  # the first look opens a case for every flagged subject
    subject = seller_id(config, "Samsung Outlet Official")
    token = client.csrftoken(f"/-/grayhound/seller/{subject}")
    form = {"kind": "seller", "subject_id": str(subject), "note": "checked the registry"}
    client.post("/-/grayhound/review", {**form, "state": "takedown-requested", "csrftoken": token})
    rows = client.get(
        "/triage/queue.json", params={"_shape": "array", "state": "takedown-requested"}
    ).json()
    assert [(row["kind"], row["subject_id"]) for row in rows] == [("seller", subject)]


# -- deciding and exporting -----------------------------------------------------------------
def test_a_signed_in_reviewer_decides_and_the_log_names_them(served_store, client_for):
    _, config = served_store
    client = client_for(config)
    client.sign_in()
    subject = seller_id(config, "Xiaomi Official Store")
    page = f"/-/grayhound/seller/{subject}"
    token = client.csrftoken(page)
    form = {"kind": "seller", "subject_id": str(subject), "csrftoken": token}
    response = client.post(
        "/-/grayhound/review", {**form, "state": "confirmed", "note": "lookalike of the brand"}
    )
    assert response.status_code == 302 and response.headers["location"] == page
    entry = review_log(config)[-1]
    assert (entry["by"], entry["state"], entry["note"]) == (
        "analyst",
        "confirmed",
        "lookalike of the brand",
    )
    shown = client.get(page).text
    assert "lookalike of the brand" in shown and "confirmed" in shown
    empty = client.post("/-/grayhound/review", {**form, "state": "dismissed", "note": "  "})
    assert empty.status_code == 302 and review_log(config)[-1]["id"] == entry["id"]
    bad = client.post("/-/grayhound/review", {**form, "state": "deleted", "note": "x"})
    assert bad.status_code == 302 and review_log(config)[-1]["id"] == entry["id"]
    assert "unknown state" in client.get(page).text


def test_an_exported_bundle_downloads_and_verifies(served_store, client_for, tmp_path):
    from reports.evidence.verify import verify_bundle

    _, config = served_store
    client = client_for(config)
    client.sign_in()
    subject = seller_id(config, "Xiaomi Official Store")
    token = client.csrftoken(f"/-/grayhound/seller/{subject}")
    response = client.post(
        "/-/grayhound/export", {"kind": "seller", "subject_id": str(subject), "csrftoken": token}
    )
    assert response.status_code == 303
    download = client.get(response.headers["location"])
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(download.content)
    result = verify_bundle(bundle)
    assert result.ok, result.problems
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        custody = archive.read("custody.log").decode()
        manifest = json.loads(archive.read("manifest.json"))
    assert "user=analyst\taction=exported" in custody
    assert manifest["export"]["via"] == "grayhound serve"
    assert len(manifest["captures"]) == 2  # both of the seller's listing pages
    assert client.get("/-/grayhound/bundles/grayhound.toml").status_code == 404
    assert client.get("/-/grayhound/bundles/..%2Fgrayhound.toml").status_code != 200


# -- hostile listing text -------------------------------------------------------------------
def test_a_hostile_title_is_text_on_every_page(served_store, client_for):
    _, config = served_store
    client = client_for(config)
    client.sign_in()
    hostile = listing_id(config, "window.__pwned")
    pages = {
        "queue": client.get("/triage/queue").text,
        "listing": client.get(f"/-/grayhound/listing/{hostile}").text,
        "seller": client.get(f"/-/grayhound/seller/{seller_id(config, 'Gadget Hut')}").text,
        "raw table": client.get("/grayhound/listings").text,
        "raw row": client.get(f"/grayhound/listings/{hostile}").text,
    }
    for name, text in pages.items():
        assert not RAW_MARKUP.search(text), name
        assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in text, name
    assert json.loads(client.get(f"/-/grayhound/listing/{hostile}.json").text)["listing"][
        "title"
    ] == (HOSTILE_TITLE)


def test_the_stored_capture_is_served_inert(served_store, client_for):
    _, config = served_store
    client = client_for(config)
    client.sign_in()
    hostile = listing_id(config, "window.__pwned")
    page = client.get(f"/-/grayhound/listing/{hostile}").text
    frame = re.search(r"<iframe[^>]*>", page).group(0)
    assert " sandbox " in frame and "allow-" not in frame
    capture = re.search(r'src="(/-/grayhound/capture/\d+)"', frame).group(1)
    response = client.get(capture)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    document = lxml.html.document_fromstring(response.content)
    assert document.xpath("//script") == []
    assert document.xpath("//@*[starts-with(name(), 'on')]") == []
    assert "Xiaomi 14 Pro 256GB" in document.xpath("string(//h1)")  # the page, as text


def test_a_revisit_capture_shows_the_page_it_revisits(tmp_path, client_for):
    from grayhound.config import load_config
    from tests.evidence.conftest import simulate_run
    from tests.serve.conftest import OFFERS, offer_page

    config = load_config(write_config(tmp_path))
    page = offer_page(*OFFERS[0])
    simulate_run(config, [page])
    simulate_run(config, [page])  # the same payload again: stored as a revisit record
    client = client_for(config)
    client.sign_in()
    for capture_id in (1, 2):
        response = client.get(f"/-/grayhound/capture/{capture_id}")
        document = lxml.html.document_fromstring(response.content)
        assert document.xpath("string(//h1)") == "Xiaomi 14 Pro 512GB Titanium"
    assert "revisit" in {row["record_type"] for row in _captures(config)}


def _captures(config) -> list[dict]:
    from grayhound.store import open_store

    with open_store(config.storage.database) as store:
        return list(store.captures())


def test_every_page_carries_a_content_security_policy(served_store, client_for):
    _, config = served_store
    client = client_for(config)
    client.sign_in()
    pages = ("/", "/triage/queue", "/triage/crawl_health", "/triage/competitors")
    for path in (*pages, "/grayhound/listings", "/-/grayhound/prices"):
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "object-src 'none'" in policy and "img-src 'self' data:" in policy, path
