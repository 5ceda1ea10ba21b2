"""The human-readable parts of an evidence bundle: summary and declaration (the custody log is
in `custody`).

Both are functions of the store's data, so the same database renders the same bytes. Listing
text is escaped by jinja2 in HTML and has its control characters removed in text files."""

from __future__ import annotations

import re

from jinja2 import Environment, PackageLoader, StrictUndefined

from grayhound.errors import UsageError
from reports.evidence import texts

FINDING_FIELDS = (
    "id",
    "subject_kind",
    "subject_id",
    "subject",
    "detected_at",
    "crawl_run_id",
    "verdict",
    "score",
    "flags",
    "reasons",
    "brand",
    "model",
    "msrp",
    "msrp_currency",
    "price_ratio",
    "is_current",
)
CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
# pictures the summary shows the top of: a seller's bundle pictures every distinct page of
# every listing (hundreds), all in images/; printing each in the summary made a summary of
# hundreds of sheets, ~20 s of a 400-listing seller's export (issue 19, round 50)
PICTURES_SHOWN = 12


def subject_of(store, kind: str, subject_id: int) -> dict:
    """The listing, seller or seller network an export is about, with its seller(s) and
    listings. A merged seller's id leads to the seller it joined."""
    if kind == "network":
        return _network_subject(store, subject_id)
    if kind == "seller":
        subject_id = store.resolved_seller_id(subject_id)
    if kind == "listing":
        listing = store.listing_by_id(subject_id)
        if listing is None:
            raise UsageError(
                f"--listing {subject_id}: no listing with id {subject_id} in the store"
            )
        seller = store.seller_by_id(listing["seller_id"]) if listing["seller_id"] else None
        listings = [listing]
    elif kind == "seller":
        seller = store.seller_by_id(subject_id)
        if seller is None:
            raise UsageError(f"--seller {subject_id}: no seller with id {subject_id} in the store")
        listings = list(store.listings("seller_id = ?", [subject_id]))
    else:
        raise ValueError(f"unknown subject kind {kind!r}")
    identity = {"kind": kind, "id": subject_id}
    if kind == "listing":
        identity.update({k: listings[0][k] for k in ("url", "canonical_url", "title", "source")})
    else:
        identity.update({k: seller[k] for k in ("name", "profile_url", "domain", "source")})
    return {"identity": identity, "seller": seller, "listings": listings}


def _network_subject(store, network_id: int) -> dict:
    """A seller network: its sellers (every one it ever held, if none is current) and all
    their listings."""
    network = store.network_by_id(network_id)
    if network is None:
        raise UsageError(
            f"--network {network_id}: no seller network with id {network_id} in the store"
        )
    members = network["sellers"] or store.network_members(network["id"], ever=True)
    sellers = [store.seller_by_id(seller_id) for seller_id in members]
    listings = [row for s in sellers for row in store.listings("seller_id = ?", [s["id"]])]
    identity = {
        "kind": "network",
        "id": network["id"],
        "sellers": [{k: s[k] for k in ("id", "name", "source", "profile_url")} for s in sellers],
        "signals": network["signals"],
    }
    return {"identity": identity, "seller": None, "sellers": sellers, "listings": listings}


def findings_of(store, subject: dict) -> list[dict]:
    """Every finding (current and past) about the subject, its seller(s) and its listings."""
    keys = [("listing", listing["id"]) for listing in subject["listings"]]
    for seller in reversed(subject.get("sellers") or []):
        keys.insert(0, ("seller", seller["id"]))
    if subject["seller"]:
        keys.insert(0, ("seller", subject["seller"]["id"]))
    found = []
    for kind, subject_id in keys:
        for row in store.finding_history(kind, subject_id):
            found.append({k: row.get(k) for k in FINDING_FIELDS})
    return found


def timeline_of(store, subject: dict) -> list[dict]:
    """Each listing's observations, run by run: its price history."""
    rows = []
    for listing in subject["listings"]:
        for obs in store.observations(listing["id"]):
            rows.append(
                {
                    "listing_id": listing["id"],
                    "crawl_run_id": obs["crawl_run_id"],
                    "observed_at": obs["observed_at"],
                    "title": obs["title"],
                    "price": obs["price"],
                    "currency": obs["currency"],
                    "availability": obs["availability"],
                    "url": obs["url"],
                }
            )
    return sorted(rows, key=lambda r: (r["observed_at"], r["listing_id"]))


def price_stretches(timeline: list[dict]) -> list[dict]:
    """The price timeline as the summary shows it: one row for each run of a listing's
    observations, one after the other, at the same price, currency and title. Each row has
    its first and last observation time, its lowest and highest crawl run and how many
    observations it stands for (the listing need not have been seen in every run between);
    the rows are in the order they began (the timeline's order: time, then listing). A
    price that goes back to an earlier one starts a new row. Every observation stays, one by
    one, in manifest.json's `price_timeline`."""
    open_rows: dict = {}  # listing id -> its latest row
    stretches = []
    for obs in timeline:
        row = open_rows.get(obs["listing_id"])
        shown = (obs["price"], obs["currency"], obs["title"])
        if row is not None and (row["price"], row["currency"], row["title"]) == shown:
            row["last_observed"] = obs["observed_at"]
            row["first_run"] = min(row["first_run"], obs["crawl_run_id"])  # never NULL
            row["last_run"] = max(row["last_run"], obs["crawl_run_id"])
            row["times"] += 1
            continue
        row = open_rows[obs["listing_id"]] = {
            "listing_id": obs["listing_id"],
            "price": obs["price"],
            "currency": obs["currency"],
            "title": obs["title"],
            "first_observed": obs["observed_at"],
            "last_observed": obs["observed_at"],
            "first_run": obs["crawl_run_id"],
            "last_run": obs["crawl_run_id"],
            "times": 1,
        }
        stretches.append(row)
    return stretches


def listing_rows(listings: list[dict], timeline: list[dict]) -> list[dict]:
    """The summary's "What": the subject's listings in their order, each as its price
    stretches (`price_stretches`), oldest first; the first row of a listing carries its URL,
    the others are marked as continuing it (`continues`: kept on its sheet when printed).
    Where the listing as stored says what its observations do not (no observation recorded;
    a price, currency or title other than the last observation's, as when a listing met twice
    in one crawl run keeps the second price and the run's observation the first; first seen
    before its first observation), a last row shows the listing as stored (`times` 0,
    `stored` set). A seller's listings mostly held one price throughout: one row each, where
    a list of the listings and a price timeline after it said the same twice."""
    stretches: dict[int, list[dict]] = {}
    for row in price_stretches(timeline):
        stretches.setdefault(row["listing_id"], []).append(row)
    rows = []
    for listing in listings:
        held = stretches.get(listing["id"], [])
        stored = _as_stored(listing, observed=bool(held))
        if not held or _differs(stored, held):
            held.append(stored)
        for n, row in enumerate(held):  # the rows are this function's own: filled in place
            row.setdefault("stored", None)
            row["url"] = None if n else listing["url"]
            row["continues"] = n > 0  # printed on the sheet of the listing's first row
        rows += held
    return rows


def _as_stored(listing: dict, observed: bool) -> dict:
    return {
        "listing_id": listing["id"],
        "price": listing.get("price"),
        "currency": listing.get("currency"),
        "title": listing.get("title"),
        "first_observed": listing.get("first_seen"),
        "last_observed": listing.get("last_seen"),
        "first_run": None,
        "last_run": None,
        "times": 0,
        "stored": "as stored" if observed else "no observation",
    }


def _differs(stored: dict, held: list[dict]) -> bool:
    """The listing as stored says something its observations (`held`, oldest first) do not
    (ISO times in one format: compared as text)."""
    last = held[-1]
    if any(stored[k] != last[k] for k in ("price", "currency", "title")):
        return True
    # not its last_seen: a listing met again in the same crawl run (a feed, then its page)
    # is seen later than the run's one observation of it, seconds apart
    first_seen = stored["first_observed"]
    return bool(first_seen and first_seen < held[0]["first_observed"])


def finding_groups(findings: list[dict]) -> list[dict]:
    """The current findings as the summary's "Why flagged" shows them: one paragraph for the
    subjects of one kind judged the same at the same time (verdict, score, reasons), with
    their ids in the order the findings come (the seller first, then its listings); a
    seller's hundreds of listings mostly share a few judgements. Each finding, one by one,
    is in manifest.json's `findings`."""
    groups: dict = {}
    for finding in findings:
        reasons = tuple(finding["reasons"] or ())
        key = (finding["subject_kind"], finding["verdict"], finding["score"])
        key += (finding["detected_at"], reasons)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "subject_kind": finding["subject_kind"],
                "verdict": finding["verdict"],
                "score": finding["score"],
                "detected_at": finding["detected_at"],
                "reasons": list(reasons),
                "ids": [],
            }
        group["ids"].append(finding["subject_id"])
    return list(groups.values())


def render_summary(
    subject, captures, findings, timeline, version: str, *, layout, seal: dict, images, files=()
) -> bytes:
    """summary.html: who, what (the listings and their price timeline), when, why flagged,
    the page images, the digests, and what the signature and timestamp will prove, in plain
    words."""
    template = _templates().get_template("summary.html.j2")
    times = [c["fetched_at"] for c in captures]
    html = template.render(
        seal=seal,
        images=images,
        pictures_shown=PICTURES_SHOWN,
        files=files,
        up=layout.up,
        warc=layout.warc,
        manifest=layout.manifest,
        subject=subject,
        identity=subject["identity"],
        seller=subject["seller"],
        listing_count=len(subject["listings"]),
        rows=listing_rows(subject["listings"], timeline),
        captures=captures,
        current=finding_groups([f for f in findings if f["is_current"]]),
        history=[f for f in findings if not f["is_current"]],
        observations=len(timeline),
        first_capture=min(times) if times else None,
        last_capture=max(times) if times else None,
        version=version,
    )
    return html.encode("utf-8")


def render_declaration(subject, captures, files, version: str) -> bytes:
    identity = subject["identity"]
    lines = [
        "DECLARATION OF EVIDENCE CAPTURE",
        "",
        f"Subject: {identity['kind']} #{identity['id']}"
        f" ({_text(identity.get('url') or identity.get('profile_url') or '')})",
        f"Tool: grayhound {version}",
        "",
        "Capture process: grayhound's crawler wrote every HTTP response it received, with the",
        "request that produced it, to WARC files (ISO 28500) at the moment of download, before",
        "any processing. Each record carries a SHA-256 digest of its payload and block. This",
        "bundle copies those records byte for byte into evidence.warc.gz; the snapshots are",
        "inert renderings of the same payloads. A SHA-256 proves the files are unchanged since",
        "the digests were computed; it does not by itself prove who captured them.",
        "",
        "Captures (UTC time, HTTP status, URL, payload SHA-256):",
    ]
    for c in captures:
        lines.append(f"  #{c['capture_id']} {c['fetched_at']} {c['status']} {_text(c['url'])}")
        lines.append(f"      payload sha256 {c['payload_sha256']}")
    lines += ["", "Files (SHA-256, bytes, name):"]
    lines += [f"  {f['sha256']}  {f['size']:>10}  {f['path']}" for f in files]
    lines += [
        "",
        "custody.log and manifest.json are listed, with their SHA-256, by `grayhound evidence",
        "export` when the bundle is made; record that manifest SHA-256 here:",
        "",
        "  manifest.json SHA-256: ____________________________________________________________",
        "",
        "I declare that the above describes the capture and export of this evidence.",
        "",
        "Custodian name: ______________________________  Signature: ____________________",
        "Date: ____________  Place: ______________________________",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def _text(value: str) -> str:
    return CONTROL.sub(" ", value or "")


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("reports.evidence", "templates"),
        autoescape=True,  # every value may be listing text
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    texts.install(env)
    return env
