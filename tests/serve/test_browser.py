"""End to end in a real browser: `grayhound serve` over loopback on a store crawled from the
fixture sites (plus one listing whose title is hostile, and a seller network across two sources
with a hostile seller in it), driven by Playwright in Debian's chromium. A reviewer signs in,
filters the queue by brand and by seller verdict, opens an impersonating seller, reads its
aliases and its network, confirms it with a note and downloads its evidence bundle, then the
network's; the review log and `grayhound evidence verify` agree. A listing's page image is
rendered from its capture on request. No script from a crawled page runs anywhere."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import grayhound as run_cli
from tests.e2e.conftest import write_config_for
from tests.serve.conftest import (
    HOSTILE_TITLE,
    IMPERSONATOR,
    PASSWORD,
    PHONE,
    add_network,
    offer_page,
    start_serve,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="chromium is not installed (apt-get install chromium); Playwright's own "
        "browser download is not used",
    ),
]
START_TIMEOUT = 60  # seconds for `grayhound serve` to answer


@pytest.fixture(scope="module")
def crawled_store(tmp_path_factory):
    """The fixture sites crawled and judged, a hostile listing added, a user configured."""
    from grayhound.config import load_config
    from grayhound.demo.sites import serve_sites
    from reports.serve.auth import hash_password
    from tests.evidence.conftest import simulate_run

    directory = tmp_path_factory.mktemp("browser")
    with serve_sites({"bazaar": 0, "mi-official-store": 0, "gadgetcorner": 0}) as sites:
        config_path = write_config_for(sites, directory)
        crawl = run_cli(config_path, "crawl")
        assert crawl.returncode == 0, crawl.stderr[-2000:]
    users = f'\n[serve.users]\nanalyst = "{hash_password(PASSWORD, iterations=1000)}"\n'
    config_path.write_text(config_path.read_text() + users)
    hostile = offer_page("/item/hostile.html", HOSTILE_TITLE, "450.00", "Gadget Hut")
    simulate_run(load_config(config_path), [hostile])
    add_network(load_config(config_path))
    detect = run_cli(config_path, "detect")
    assert detect.returncode == 0, detect.stderr[-2000:]
    return config_path


@pytest.fixture(scope="module")
def server(crawled_store):
    """`grayhound serve` in a child process on a free loopback port; yields its base URL."""
    process, base = start_serve(crawled_store, "/-/login", START_TIMEOUT)
    yield base
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        yield page
        browser.close()
        assert dialogs == [], f"a page opened dialogs: {dialogs}"


def no_script_ran(page) -> None:
    for frame in page.frames:
        assert frame.evaluate("typeof window.__pwned") == "undefined", frame.url


def sign_in(page, server: str, path: str = "/triage/queue") -> None:
    page.goto(server + path)
    assert "/-/login" in page.url  # nothing is shown before signing in
    page.fill("input[name=username]", "analyst")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path)))


def test_a_reviewer_triages_a_seller_in_the_browser(page, server, crawled_store, tmp_path):
    sign_in(page, server)

    # the hostile title is in the queue, as text
    assert page.get_by_text("<script>window.__pwned = 1</script>", exact=False).count() >= 1
    no_script_ran(page)

    # the brand facet filters
    page.locator(".facet-info[data-column=brand] a", has_text="xiaomi").first.click()
    page.wait_for_url(re.compile(r"brand=xiaomi"))
    brands = page.locator("td.col-brand").all_inner_texts()
    assert brands and set(brands) == {"xiaomi"}

    # the seller verdict facet filters to the cases of impersonating sellers
    page.goto(server + "/triage/queue")
    facet = page.locator(".facet-info[data-column=seller_verdict] a", has_text="impersonation")
    facet.first.click()
    page.wait_for_url(re.compile(r"seller_verdict=impersonation"))
    verdicts = page.locator("td.col-seller_verdict").all_inner_texts()
    assert verdicts and set(verdicts) == {"impersonation"}

    # open the impersonating seller that is part of a network
    row = page.locator("tbody tr", has=page.locator("td.col-kind", has_text="seller")).filter(
        has=page.locator("td.col-subject", has_text=IMPERSONATOR)
    )
    row.locator("td.col-subject a").click()
    page.wait_for_url(re.compile(r"/-/grayhound/seller/\d+$"))
    seller_id = int(page.url.rsplit("/", 1)[1])
    assert IMPERSONATOR in page.locator("h1").inner_text()
    assert page.locator("h1 .gh-verdict").inner_text() == "impersonation"

    # its aliases, with where each was read
    aliases = page.locator("table.gh-aliases")
    assert aliases.locator("tr", has_text="Redmi Outlet").locator("td").nth(2).inner_text() == (
        "listing text seller name"
    )
    assert aliases.get_by_text(PHONE).count() == 1

    # its network: the sellers it is tied to, across sources, on the network's page
    network = page.locator(".gh-network")
    assert network.get_by_text("Phone Deals Direct").count() >= 1
    network.locator("a", has_text="Network #").click()
    page.wait_for_url(re.compile(r"/-/grayhound/network/\d+$"))
    network_url = page.url
    members = page.locator("h2:has-text('Its sellers') + table tbody tr").all_inner_texts()
    assert any("shopfront" in m for m in members) and any(IMPERSONATOR in m for m in members)
    no_script_ran(page)
    page.go_back()
    page.wait_for_url(re.compile(rf"/-/grayhound/seller/{seller_id}$"))

    # confirm it with a note
    note = "Confirmed: Redmi's name on an outlet, tied to two more sellers (browser test)"
    page.fill("input[name=note]", note)
    page.click("button[value=confirmed]")
    page.wait_for_load_state()
    assert page.get_by_text("→ confirmed, by analyst").count() == 1
    assert page.locator(".gh-case .gh-state").inner_text() == "confirmed"

    # download its evidence bundle, then the network's
    bundles = {}
    for kind, url in (("seller", None), ("network", network_url)):
        if url:
            page.goto(url)
        with page.expect_download() as download_info:
            page.click("form.gh-export button")
        bundles[kind] = tmp_path / f"{kind}.zip"
        download_info.value.save_as(bundles[kind])
    no_script_ran(page)

    # the review log (through grayhound's own CLI) and the bundles agree
    listed = run_cli(crawled_store, "review", "list", "--state", "confirmed", "--format", "json")
    cases = [
        c
        for c in json.loads(listed.stdout)
        if (c["kind"], c["subject_id"]) == ("seller", seller_id)
    ]
    assert cases and cases[0]["state"] == "confirmed"
    from grayhound.config import load_config
    from grayhound.store import open_store

    with open_store(load_config(crawled_store).storage.database) as store:
        entry = store.review_log(cases[0]["case_id"])[-1]
    assert (entry["by"], entry["state"], entry["note"]) == ("analyst", "confirmed", note)
    for kind, bundle in bundles.items():
        verified = run_cli(crawled_store, "evidence", "verify", str(bundle))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "intact" in verified.stdout, kind


def test_a_listing_page_image_is_rendered_from_its_capture(page, server):
    # a listing no exported bundle pictures (the network's sellers' are exported above)
    sign_in(page, server, "/triage/queue?kind=listing&source=gadgetcorner")
    page.locator("td.col-subject a").first.click()
    page.wait_for_url(re.compile(r"/-/grayhound/listing/\d+$"))
    page.click("form.gh-render button")
    page.wait_for_load_state()
    image = page.locator("figure.gh-page-image img")
    image.wait_for()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1280
    assert "rendered on request" in page.locator("figure.gh-page-image figcaption").inner_text()
    no_script_ran(page)


def test_a_hostile_listing_shows_as_text_and_its_capture_runs_nothing(page, server):
    sign_in(page, server, "/triage/queue?kind=listing&subject__contains=__pwned")
    page.locator("td.col-subject a", has_text="window.__pwned").first.click()
    page.wait_for_url(re.compile(r"/-/grayhound/listing/\d+$"))
    assert HOSTILE_TITLE in page.locator("h1").inner_text()
    frame_element = page.locator("iframe.gh-capture")
    assert frame_element.get_attribute("sandbox") == ""
    capture = next(frame for frame in page.frames if "/-/grayhound/capture/" in frame.url)
    assert capture.locator("script").count() == 0
    assert "Evidence snapshot" in capture.locator("#grayhound-banner").inner_text()
    no_script_ran(page)


def test_a_hostile_seller_shows_its_hidden_characters_and_runs_nothing(page, server):
    from tests.serve.conftest import HOSTILE_ALIAS

    sign_in(page, server, "/triage/queue?kind=seller&subject__contains=Hub")
    page.locator("td.col-subject a", has_text="selaD").first.click()
    page.wait_for_url(re.compile(r"/-/grayhound/seller/\d+$"))
    heading = page.locator("h1 bdi")
    assert heading.inner_text().startswith("Xiao⟨U+200B⟩mi ⟨U+202E⟩selaD⟨U+202C⟩ Hub")
    assert page.locator("h1 .gh-invisible").count() == 3
    assert page.locator("table.gh-aliases").get_by_text(HOSTILE_ALIAS).count() == 1
    assert page.locator("a[href^='javascript']").count() == 0
    no_script_ran(page)
