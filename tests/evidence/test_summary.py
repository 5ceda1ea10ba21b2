"""summary.html, the page a lawyer reads: seller text isolated and its invisible characters
shown, links only to web addresses, the seal described in plain words, the price timeline one
row for each price a listing held."""

from __future__ import annotations

import json
import re
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


def _obs(listing_id, at, run, price, title="Xiaomi 14", currency="USD"):
    return {
        "listing_id": listing_id,
        "crawl_run_id": run,
        "observed_at": at,
        "title": title,
        "price": price,
        "currency": currency,
    }


def test_the_price_timeline_shows_each_price_a_listing_held_once():
    from reports.evidence.docs import price_stretches

    timeline = [  # the timeline's order: time, then listing
        _obs(1, "2026-01-01T00:00:00.000Z", 1, "499.00"),
        _obs(2, "2026-01-01T00:00:00.000Z", 1, "99.00", "Redmi 13"),
        _obs(1, "2026-01-02T00:00:00.000Z", 2, "459.00"),
        _obs(2, "2026-01-02T00:00:00.000Z", 2, "99.00", "Redmi 13"),
        _obs(1, "2026-01-03T00:00:00.000Z", 3, "459.00"),
        _obs(2, "2026-01-03T00:00:00.000Z", 3, "99.00", "Redmi 13 5G"),  # a new title
        _obs(1, "2026-01-05T00:00:00.000Z", 5, "499.00"),  # back to the first price
        _obs(1, "2026-01-06T00:00:00.000Z", 6, "499.00", currency="EUR"),
    ]
    shown = [
        (s["listing_id"], s["price"], s["currency"], s["title"], s["times"])
        + (s["first_run"], s["last_run"], s["first_observed"][8:10], s["last_observed"][8:10])
        for s in price_stretches(timeline)
    ]
    assert shown == [
        (1, "499.00", "USD", "Xiaomi 14", 1, 1, 1, "01", "01"),
        (2, "99.00", "USD", "Redmi 13", 2, 1, 2, "01", "02"),
        (1, "459.00", "USD", "Xiaomi 14", 2, 2, 3, "02", "03"),
        (2, "99.00", "USD", "Redmi 13 5G", 1, 3, 3, "03", "03"),
        (1, "499.00", "USD", "Xiaomi 14", 1, 5, 5, "05", "05"),
        (1, "499.00", "EUR", "Xiaomi 14", 1, 6, 6, "06", "06"),
    ]
    assert sum(s["times"] for s in price_stretches(timeline)) == len(timeline)
    assert price_stretches([]) == []


def test_a_row_spans_the_runs_it_was_seen_in_lowest_to_highest_and_unpriced_rows_join():
    """Not seen in runs 3 and 4: one row from run 2 to run 5, seen twice. A run id out of step
    with the clock still gives the lowest and highest. No price and no title join as such."""
    from reports.evidence.docs import price_stretches

    timeline = [
        _obs(1, "2026-01-02T00:00:00.000Z", 2, "459.00"),
        _obs(1, "2026-01-05T00:00:00.000Z", 5, "459.00"),
        _obs(1, "2026-01-06T00:00:00.000Z", 4, "459.00"),  # a worker's clock ahead
        _obs(2, "2026-01-06T00:00:00.000Z", 6, None, None),
        _obs(2, "2026-01-07T00:00:00.000Z", 7, None, None),
        _obs(2, "2026-01-08T00:00:00.000Z", 8, "10.00", None),
    ]
    rows = price_stretches(timeline)
    assert [(r["listing_id"], r["first_run"], r["last_run"], r["times"]) for r in rows] == [
        (1, 2, 5, 3),
        (2, 6, 7, 2),
        (2, 8, 8, 1),
    ]
    assert rows[0]["last_observed"] == "2026-01-06T00:00:00.000Z"


def test_the_summary_counts_the_observations_and_the_manifest_keeps_each(
    two_runs, store, config, tmp_path
):
    """499 in the first run, 459 in the next two: two rows in the summary, the listing's URL
    on the first, three points in the manifest."""
    path = export_bundle(store, config, "listing", 1, tmp_path / "b.zip", event=EVENT).path
    with zipfile.ZipFile(path) as archive:
        html = archive.read("summary.html").decode()
        manifest = json.loads(archive.read("manifest.json"))
    assert [t["price"] for t in manifest["price_timeline"]] == ["499.00", "459.00", "459.00"]
    what = _section(html, "What: the listings and their prices")
    assert "1 listing, observed 3 times." in what
    marked = _rows(what)
    cells = [re.split(r"</td>\s*<td[^>]*>", row) for _, row in marked]
    url = manifest["subject"]["url"]
    assert [c[0] for c in cells] == [
        f'#1<br><span class="mono"><bdi dir="auto">{url}</bdi></span>',
        "#1",
    ]
    # the second price continues the listing: printed on the sheet of the row with its URL
    assert [mark for mark, _ in marked] == ["", ' class="keep-with-previous"']
    assert [(c[2], c[4], c[5]) for c in cells] == [
        ("499.00 USD", "1", "1"),
        ("459.00 USD", "2", "2 … 3"),
    ]
    first, last = (t["observed_at"] for t in manifest["price_timeline"][1:])
    assert cells[1][3] == f"{first}<br>to {last}"
    assert "&lt;script&gt;x&lt;/script&gt;" in cells[1][1] and "<script>x" not in what
    assert "<h2>Price timeline</h2>" not in html  # the rows above are the timeline


def _rows(what: str) -> list[tuple[str, str]]:
    """The listing table's rows in a "What" section: each row's class attribute ("" or
    ` class="…"`) and its cells' text."""
    table = what[what.index("<table>") :]
    return re.findall(r'<tr((?: class="[^"]*")?)><td[^>]*>(.*?)</td></tr>', table, flags=re.S)


def _section(html: str, heading: str) -> str:
    """The text of the summary's section under `<h2>heading</h2>`, up to the next heading."""
    start = html.index(f"<h2>{heading}</h2>")
    end = html.find("<h2>", start + 1)
    return html[start : end if end != -1 else len(html)]


def _listing(listing_id, price, title, first, last, currency="USD"):
    return {
        "id": listing_id,
        "url": f"https://shop.example/{listing_id}",
        "title": title,
        "price": price,
        "currency": currency,
        "first_seen": first,
        "last_seen": last,
    }


def test_each_listing_is_a_row_for_each_price_it_held_in_the_subjects_order():
    """The rows follow the listings as the subject lists them, not the clock; a listing
    with no observation recorded still has its row, from the listing itself."""
    from reports.evidence.docs import listing_rows

    day = "2026-01-0{}T00:00:00.000Z".format
    listings = [
        _listing(2, "99.00", "Redmi 13", day(1), day(2)),
        _listing(1, "459.00", "Xiaomi 14", day(1), day(2)),
        _listing(3, None, "Poco F6", day(1), day(4), currency=None),
    ]
    timeline = [
        _obs(1, day(1), 1, "499.00"),
        _obs(2, day(1), 1, "99.00", "Redmi 13"),
        _obs(1, day(2), 2, "459.00"),
        _obs(2, day(2), 2, "99.00", "Redmi 13"),
    ]
    rows = listing_rows(listings, timeline)
    assert [(r["listing_id"], r["url"], r["price"], r["times"], r["stored"]) for r in rows] == [
        (2, "https://shop.example/2", "99.00", 2, None),
        (1, "https://shop.example/1", "499.00", 1, None),
        (1, None, "459.00", 1, None),
        (3, "https://shop.example/3", None, 0, "no observation"),
    ]
    assert (rows[3]["first_observed"], rows[3]["last_observed"]) == (day(1), day(4))
    assert rows[3]["first_run"] is None
    assert sum(r["times"] for r in rows) == len(timeline)
    assert listing_rows([], []) == []


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ({}, False),
        ({"price": "449.00"}, True),  # met twice in run 2: the listing kept the second price
        ({"currency": "EUR"}, True),
        ({"title": "Xiaomi 14 Ultra"}, True),
        ({"first_seen": "2025-12-31T00:00:00.000Z"}, True),  # seen before observations were kept
        ({"last_seen": "2026-01-02T00:00:01.000Z"}, False),  # met again in run 2: as usual
    ],
)
def test_the_listing_as_stored_is_shown_where_its_observations_do_not_say_it(stored, shown):
    from reports.evidence.docs import listing_rows

    day = "2026-01-0{}T00:00:00.000Z".format
    listing = {**_listing(1, "459.00", "Xiaomi 14", day(1), day(2)), **stored}
    timeline = [_obs(1, day(1), 1, "499.00"), _obs(1, day(2), 2, "459.00")]
    rows = listing_rows([listing], timeline)
    assert [r["times"] for r in rows] == ([1, 1, 0] if shown else [1, 1])
    if shown:
        last = rows[-1]
        assert last["stored"] == "as stored" and last["url"] is None
        assert (last["price"], last["currency"], last["title"]) == (
            listing["price"],
            listing["currency"],
            listing["title"],
        )
        assert (last["first_observed"], last["last_observed"]) == (
            listing["first_seen"],
            listing["last_seen"],
        )


def test_why_flagged_joins_the_subjects_judged_alike_and_the_manifest_keeps_each(
    crawl, listing_page, store, config, tmp_path
):
    from grayhound.pipeline import detect

    crawl(
        [
            listing_page("/item/1.html", "Xiaomi 14 Pro 512GB", "199.00"),
            listing_page("/item/2.html", "Redmi Note 13 case", "9.00"),
            listing_page("/item/3.html", "Redmi Note 13 case", "9.00"),
            listing_page("/item/4.html", "Redmi Note 13 case", "9.00"),
        ]
    )
    detect(config)
    (seller,) = store.sellers()
    path = export_bundle(
        store, config, "seller", seller["id"], tmp_path / "s.zip", event=EVENT
    ).path
    with zipfile.ZipFile(path) as archive:
        html = archive.read("summary.html").decode()
        manifest = json.loads(archive.read("manifest.json"))
    why = _section(html, "Why flagged")
    current = [f for f in manifest["findings"] if f["is_current"]]
    listings = {f["subject_id"]: f for f in current if f["subject_kind"] == "listing"}
    assert set(listings) == {1, 2, 3, 4}
    alike = [listings[i] for i in (2, 3, 4)]
    assert len({(f["verdict"], f["score"], tuple(f["reasons"])) for f in alike}) == 1
    assert f"(seller #{seller['id']}, " in why and "(listing #1, " in why
    assert "(3 listings, " in why and "): #2, #3, #4</p>" in why
    assert why.count('<span class="verdict">') == 3


def test_findings_join_only_when_kind_verdict_score_time_and_reasons_agree():
    from reports.evidence.docs import finding_groups

    def finding(kind, subject_id, verdict="clean", score=0.1, at="T1", reasons=("r",)):
        return {
            "subject_kind": kind,
            "subject_id": subject_id,
            "verdict": verdict,
            "score": score,
            "detected_at": at,
            "reasons": None if reasons is None else list(reasons),
        }

    findings = [
        finding("seller", 7, "suspicious", 0.5),
        finding("listing", 1),
        finding("listing", 2, score=0.2),
        finding("listing", 3),
        finding("listing", 4, at="T2"),
        finding("listing", 5, reasons=("r", "s")),
        finding("listing", 6, verdict="suspicious"),
        finding("listing", 8, reasons=()),
        finding("listing", 9, reasons=None),
        finding("seller", 10),  # another kind: a seller of a network, never with listings
        finding("listing", 11),
    ]
    shown = [(g["subject_kind"], g["ids"]) for g in finding_groups(findings)]
    assert shown == [
        ("seller", [7]),
        ("listing", [1, 3, 11]),
        ("listing", [2]),
        ("listing", [4]),
        ("listing", [5]),
        ("listing", [6]),
        ("listing", [8, 9]),
        ("seller", [10]),
    ]


def _rendered_what(listings: list[dict], timeline: list[dict]) -> str:
    from reports.evidence.docs import render_summary
    from reports.evidence.layout import LAYOUTS
    from reports.evidence.pictures import Images

    subject = {
        "identity": {"kind": "listing", "id": listings[0]["id"], "url": listings[0]["url"]},
        "seller": None,
        "listings": listings,
    }
    seal = {"signature": None, "timestamp": None}
    html = render_summary(
        subject, [], [], timeline, "0", layout=LAYOUTS["zip"], seal=seal, images=Images()
    ).decode()
    return _section(html, "What: the listings and their prices")


def test_a_listing_without_observations_shows_when_it_was_seen():
    """A listing kept from before observations were recorded: its row says none was, and
    when the listing was first and last seen."""
    listing = _listing(
        7, "99.00", "Redmi <b>13</b>", "2026-01-01T00:00:00.000Z", "2026-01-04T00:00:00.000Z"
    )
    what = _rendered_what([listing], [])
    assert "1 listing." in what and "observed" not in what.split("\n")[1]
    assert (
        'no observation recorded<br>first seen <span class="nowrap">2026-01-01T00:00:00.000Z'
        '</span><br>last seen <span class="nowrap">2026-01-04T00:00:00.000Z</span>' in what
    )
    assert "Redmi &lt;b&gt;13&lt;/b&gt;" in what and "99.00 USD" in what


def test_the_listing_as_stored_is_a_last_row_marked_as_such():
    day = "2026-01-0{}T00:00:00.000Z".format
    listing = _listing(1, "449.00", "Xiaomi 14", day(1), day(2))  # kept another price
    what = _rendered_what([listing], [_obs(1, day(1), 1, "459.00"), _obs(1, day(2), 2, "459.00")])
    assert "1 listing, observed 2 times." in what
    cells = [re.split(r"</td>\s*<td[^>]*>", row) for _, row in _rows(what)]
    assert [(c[0].split("<br>")[0], c[2], c[4]) for c in cells] == [
        ("#1", "459.00 USD", "2"),
        ("#1", "449.00 USD", "0"),
    ]
    assert cells[1][3] == (
        "the listing as last stored, not an observation<br>first seen "
        f'<span class="nowrap">{day(1)}</span><br>last seen <span class="nowrap">{day(2)}</span>'
    )


@pytest.mark.parametrize("pictured", [3, 40])
def test_the_summary_shows_the_first_pictures_and_says_where_the_rest_are(pictured):
    """A seller's bundle pictures every distinct page of every listing: the summary shows the
    top of the first `PICTURES_SHOWN` and says how many more there are, and where."""
    from reports.evidence.docs import PICTURES_SHOWN, render_summary
    from reports.evidence.layout import LAYOUTS
    from reports.evidence.pictures import Images

    layout = LAYOUTS["zip"]
    shown = [
        {"url": f"https://shop.example/{n}", "fetched_at": "2026-01-01T00:00:00.000Z",
         "png": layout.image(n, "png")}
        for n in range(1, pictured + 1)
    ]  # fmt: skip
    images = Images(rendered=pictured, shown=shown)
    listing = _listing(1, "10.00", "Xiaomi 14", "2026-01-01", "2026-01-02")
    subject = {"identity": {"kind": "seller", "id": 1}, "seller": None, "listings": [listing]}
    seal = {"signature": None, "timestamp": None}
    html = render_summary(subject, [], [], [], "0", layout=layout, seal=seal, images=images)
    section = _section(html.decode(), "The pages as captured")
    drawn = re.findall(r'<img src="[^"]*(images/capture-\d+\.png)"', section)
    assert drawn == [layout.image(n, "png") for n in range(1, min(pictured, PICTURES_SHOWN) + 1)]
    if pictured > PICTURES_SHOWN:
        assert f"The first {PICTURES_SHOWN} of {pictured} pictures are shown here" in section
        assert "images/" in section and "manifest.json" in section
    else:
        assert "are shown here" not in section
