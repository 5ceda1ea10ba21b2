"""The daily digest as data: what brand-protection staff read every morning.

`build_digest` is pure: it takes the rows the store gave (`DigestInputs`) and returns a
`Digest` whose `to_dict()` is the JSON contract (`as_page()`, the same without copying the
items, is what every renderer reads). Items are
grouped as *new* (never shown in a digest before the reference point), *changed* (evidence or
judgement differs from what was last shown) and *still open*, each ranked by risk."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from grayhound.errors import UsageError
from grayhound.store.digests import Record, columns_of
from grayhound.triage import SHOWN_STATES, evidence_changes, evidence_of, judgement_changes
from reports.currency import format_money
from reports.digest.health import crawl_health

GROUPS = ("new", "changed", "still_open")
GROUP_TITLES = {"new": "New", "changed": "Changed", "still_open": "Still open"}
SEVERITIES = ("critical", "high", "watch")
SINCE_RE = re.compile(r"^([0-9]{1,30})\s*([mhdw])$")
SINCE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
ITEM_FIELDS = (
    "case_id", "group", "state", "kind", "subject_id", "severity", "verdict", "score", "brand",
    "flags", "reasons", "title", "seller", "seller_domain", "source", "url", "model", "price",
    "currency", "msrp", "msrp_currency", "price_ratio", "price_text", "listing_count",
    "first_seen", "last_seen", "changes", "capture", "finding_id", "fingerprint", "evidence",
    "seller_id",
)  # fmt: skip
ITEM_COLUMNS = columns_of(ITEM_FIELDS)  # shared by every item: a digest may hold 100,000


@dataclass
class DigestInputs:
    """Everything the digest reads, as the store returned it."""

    now: str
    reference: str  # compare against what was shown at or before this moment
    rows: list[Mapping]  # flagged findings joined with their subjects (store.flagged_*)
    cases: dict[tuple, Mapping]  # (subject_kind, subject_id) -> case row
    shown: Mapping[int, dict] = field(default_factory=dict)  # case id -> evidence last shown
    captures: dict[int, dict] = field(default_factory=dict)  # listing id -> capture row
    runs: list[dict] = field(default_factory=list)  # finished crawl runs, newest first (≤ 2)
    source_stats: dict[int, list[dict]] = field(default_factory=dict)  # run id -> rows
    failures: list[dict] = field(default_factory=list)  # of the latest run
    previous_digest_at: str | None = None
    sellers: Mapping[int, Mapping] = field(default_factory=dict)  # id -> store.seller_rows() row
    networks: list[Mapping] = field(default_factory=list)  # store.networks()


@dataclass
class Digest:
    created_at: str
    reference: str
    previous_digest_at: str | None
    items: dict[str, list[Record]]  # each item a read-only mapping of ITEM_FIELDS
    counts: dict
    health: dict
    failures: list[dict]
    views: dict = field(default_factory=dict)  # reports.digest.sellers.seller_views

    def to_dict(self) -> dict:
        """The JSON contract, as plain dicts and lists."""
        page = self.as_page()
        page["groups"] = {group: [dict(item) for item in page["groups"][group]] for group in GROUPS}
        return page

    def as_page(self) -> dict:
        """What `to_dict` holds, its items left as the digest's read-only records (not copied):
        what the renderers read."""
        return {
            "created_at": self.created_at,
            "since": self.reference,
            "previous_digest_at": self.previous_digest_at,
            "counts": self.counts,
            "crawl_health": self.health,
            "groups": {group: self.items[group] for group in GROUPS},
            "sellers": self.views.get("sellers", []),
            "networks": self.views.get("networks", []),
            "failures": self.failures,
        }

    def all_items(self) -> Iterator[Record]:
        """Every item, group by group, riskiest first: read one at a time."""
        return (item for group in GROUPS for item in self.items[group])

    def close(self) -> None:
        """Let go of what the digest reads while it is written (nothing here; a spooled
        digest's book, with the snapshot it keeps)."""


def parse_since(text: str, now: datetime) -> str:
    """`24h`, `90m`, `7d`, `2w` before `now`, or an ISO date/time; an ISO UTC timestamp."""
    match = SINCE_RE.match(text.strip().lower())
    try:
        if match:
            amount, unit = int(match.group(1)), SINCE_UNITS[match.group(2)]
            return iso(now - timedelta(**{unit: amount}))
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    except OverflowError:
        raise UsageError(f"--since: {text!r} reaches before the year 1") from None
    except ValueError:
        raise UsageError(
            f"--since: expected 24h, 90m, 7d or an ISO date such as 2026-11-01, got {text!r}"
        ) from None


def iso(moment: datetime) -> str:
    """The store's timestamp format: UTC, milliseconds, Z."""
    utc = moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_digest(inputs: DigestInputs) -> Digest:
    from reports.digest.sellers import seller_views

    items: dict[str, list[Record]] = {group: [] for group in GROUPS}
    for row in inputs.rows:
        case = inputs.cases.get((row["subject_kind"], row["subject_id"]))
        if case is None or case["state"] not in SHOWN_STATES:
            continue
        item = digest_item(row.as_dict() if isinstance(row, Record) else row, case, inputs)
        items[item["group"]].append(item)
    for group in GROUPS:
        items[group].sort(key=risk_order)
    views = seller_views(
        [item for group in GROUPS for item in items[group]], inputs.sellers, inputs.networks
    )
    counts = count_items(items)
    counts["sellers"] = seller_counts(views, len(views["unattributed"]))
    return assemble(inputs, items, views, counts)


def assemble(inputs: DigestInputs, items: dict, views: dict, counts: dict) -> Digest:
    """The digest of these items, views and counts, with the crawl health of `inputs`."""
    latest_run = inputs.runs[0] if inputs.runs else None
    previous_run = inputs.runs[1] if len(inputs.runs) > 1 else None
    health = crawl_health(
        latest_run,
        previous_run,
        inputs.source_stats.get(latest_run["id"], []) if latest_run else [],
        inputs.source_stats.get(previous_run["id"], []) if previous_run else [],
    )
    return Digest(
        created_at=inputs.now,
        reference=inputs.reference,
        previous_digest_at=inputs.previous_digest_at,
        items=items,
        views=views,
        counts=counts,
        health=health,
        failures=[
            {k: f.get(k) for k in ("source", "url", "status", "reason", "failed_at")}
            for f in inputs.failures
        ],
    )


def seller_counts(views: dict, unattributed: int) -> dict:
    return {
        "total": len(views["sellers"]),
        "to_act_on": sum(1 for view in views["sellers"] if not view["informational"]),
        "informational": sum(1 for view in views["sellers"] if view["informational"]),
        "networks": len(views["networks"]),
        "listings_without_seller": unattributed,
    }


def digest_item(row: Mapping, case: Mapping, inputs: DigestInputs) -> Record:
    capture = inputs.captures.get(row["subject_id"]) if row["subject_kind"] == "listing" else None
    return Record.of(ITEM_COLUMNS, item_fields(row, case, inputs.shown.get(case["id"]), capture))


def item_fields(row: Mapping, case: Mapping, shown: Mapping | None, capture: dict | None) -> dict:
    """One case as the digest shows it, against the evidence last `shown` of it (None: never
    shown before the reference point), with its listing's newest `capture`."""
    evidence = evidence_of(row)
    group, changes = compare(shown, evidence)
    return case_fields(row, case, group, changes, capture, evidence)


def compare(shown: Mapping | None, evidence: dict) -> tuple[str, list[str]]:
    """The group of a case whose evidence is now `evidence` (None: never shown before), and
    the sentences saying what changed."""
    changes = []
    if shown is not None:
        changes = evidence_changes(shown, evidence) + judgement_changes(shown, evidence)
    return "new" if shown is None else "changed" if changes else "still_open", changes


def case_fields(
    row: Mapping, case: Mapping, group: str, changes: list, capture: dict | None, evidence: dict
) -> dict:
    """`item_fields` once the group and changes are known."""
    is_listing = row["subject_kind"] == "listing"
    return {
        "case_id": case["id"],
        "group": group,
        "state": case["state"],
        "kind": row["subject_kind"],
        "subject_id": row["subject_id"],
        "severity": severity(row),
        "verdict": row["verdict"],
        "score": round(row.get("score") or 0.0, 4),
        "brand": row.get("brand"),
        "flags": list(row.get("flags") or ()),
        "reasons": list(row.get("reasons") or ()),
        "title": row.get("title") if is_listing else None,
        "seller": row.get("seller_name") or row.get("subject"),
        "seller_domain": row.get("seller_domain"),
        "source": row.get("source"),
        "url": row.get("url"),
        "model": row.get("model"),
        "price": row.get("price"),
        "currency": row.get("currency"),
        "msrp": row.get("msrp"),
        "msrp_currency": row.get("msrp_currency"),
        "price_ratio": _ratio(row),
        "price_text": price_text(row) if is_listing else None,
        "listing_count": row.get("listing_count"),
        "first_seen": row.get("first_seen"),
        "last_seen": row.get("last_seen"),
        "changes": changes,
        "capture": capture_summary(capture) if is_listing else None,
        "finding_id": row["id"],
        "fingerprint": row["fingerprint"],
        "evidence": evidence,
        "seller_id": row.get("seller_id"),
    }


def capture_summary(capture: dict | None) -> dict | None:
    """The stored capture of a listing, in the digest's own stable keys."""
    if not capture:
        return None
    return {
        "url": capture.get("url"),
        "warc_file": capture.get("warc_file"),
        "offset": capture.get("offset"),
        "length": capture.get("length"),
        "sha256": capture.get("payload_sha256"),
        "fetched_at": capture.get("fetched_at"),
    }


def severity(row: Mapping) -> str:
    """Critical: impersonation; high: suspicious, or a high score; watch: the rest (an
    unauthorized reseller of genuine goods is informational)."""
    if row["verdict"] == "impersonation":
        return "critical"
    if row["verdict"] == "suspicious" or (row.get("score") or 0) >= 0.5:
        return "high"
    return "watch"


def risk_order(item: Mapping) -> tuple:
    """Most severe first, then highest score, then the deepest discount."""
    ratio = item["price_ratio"] if item["price_ratio"] is not None else 9.0
    return (SEVERITIES.index(item["severity"]), -item["score"], ratio, item["case_id"])


def price_text(row: Mapping) -> str:
    """ "$449.00 — 45 % of MSRP $999.00"; the price alone when no MSRP is known."""
    get = row.get
    return price_sentence(
        get("price"), get("currency"), get("msrp"), get("msrp_currency"), _ratio(row)
    )


def price_sentence(price, currency, msrp, msrp_currency, ratio, money=None) -> str:
    """`price_text` of these columns and the price ratio, each amount written by
    `money(amount, currency)` (`format_money` of its float by default)."""
    if price is None:
        return "no price on the page"
    money = money or _money
    text = money(price, currency)
    if msrp is None or ratio is None:
        return text
    return f"{text} — {round(ratio * 100)} % of MSRP {money(msrp, msrp_currency)}"


def _money(amount, currency) -> str:
    return format_money(float(amount), currency)


def _ratio(row: Mapping) -> float | None:
    get = row.get
    return ratio_of(
        get("price_ratio"), get("msrp"), get("price"), get("currency"), get("msrp_currency")
    )


def ratio_of(price_ratio, msrp, price, currency, msrp_currency) -> float | None:
    """The price as a share of the MSRP: the stored ratio, else made from the price when the
    currencies agree."""
    if price_ratio is not None:
        return round(float(price_ratio), 4)
    if msrp and price and currency == msrp_currency:
        return round(float(price) / float(msrp), 4)
    return None


def count_items(items: dict[str, list[Record]]) -> dict:
    return counts_of(item for group in GROUPS for item in items[group])


def counts_of(items: Iterable[Mapping]) -> dict:
    """Counts per group, flag, severity and state of these items, read once, one at a time."""
    return tally((i["group"], i["severity"], i["state"], i["flags"], 1) for i in items)


def tally(rows: Iterable[tuple]) -> dict:
    """The digest's counts from (group, severity, state, flags, how many) rows."""
    flags: dict[str, int] = {}
    severities = dict.fromkeys(SEVERITIES, 0)
    states: dict[str, int] = {}
    groups = dict.fromkeys(GROUPS, 0)
    for group, severity, state, row_flags, number in rows:
        groups[group] += number
        severities[severity] += number
        states[state] = states.get(state, 0) + number
        for flag in row_flags:
            flags[flag] = flags.get(flag, 0) + number
    return {
        "total": sum(groups.values()),
        "groups": groups,
        "flags": dict(sorted(flags.items(), key=lambda kv: (-kv[1], kv[0]))),
        "severities": severities,
        "states": dict(sorted(states.items())),
    }
