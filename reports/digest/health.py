"""Crawl health: per source, how much the latest crawl saw, compared with the run before.

A monitor that quietly stops seeing is worse than none, so a source that yields nothing, or
whose share of listings with a price, a seller or a title drops sharply, becomes a warning
sentence that the digest puts at the top."""

from __future__ import annotations

SHARE_DROP_WARNING = 0.20  # a fall of 20 points in a field's share means extraction broke
SHARE_FIELDS = (("price", "with_price"), ("seller", "with_seller"), ("title", "with_title"))
RUN_FIELDS = ("id", "started_at", "finished_at", "status")


def crawl_health(
    latest_run: dict | None,
    previous_run: dict | None,
    latest_stats: list[dict],
    previous_stats: list[dict],
) -> dict:
    """Per-source figures of the latest run beside the previous one, and warnings."""
    if latest_run is None:
        return {
            "run": None,
            "previous_run": None,
            "sources": [],
            "warnings": ["No finished crawl run is recorded: nothing has been checked yet."],
        }
    before = {row["source"]: source_figures(row) for row in previous_stats}
    sources = []
    for row in sorted(latest_stats, key=lambda r: r["source"]):
        figures = source_figures(row)
        figures["previous"] = before.get(row["source"])
        sources.append(figures)
    warnings = run_warnings(latest_run)
    for figures in sources:
        warnings += source_warnings(figures)
    seen = {figures["source"] for figures in sources}
    for name, figures in sorted(before.items()):
        if name not in seen:
            warnings.append(
                f"{name}: no figures in this run (previous run: {figures['listings']} listings)."
            )
    return {
        "run": {k: latest_run.get(k) for k in RUN_FIELDS},
        "previous_run": {k: previous_run.get(k) for k in RUN_FIELDS} if previous_run else None,
        "sources": sources,
        "warnings": warnings,
    }


def source_figures(row: dict) -> dict:
    listings = row.get("listings") or 0
    shares = {
        name: (round((row.get(column) or 0) / listings, 4) if listings else None)
        for name, column in SHARE_FIELDS
    }
    return {
        "source": row["source"],
        "pages_fetched": row.get("pages_fetched") or 0,
        "listings": listings,
        "failures": row.get("failures") or 0,
        "shares": shares,
    }


def run_warnings(run: dict) -> list[str]:
    if run.get("status") == "finished":
        return []
    why = f" because {run['error']}" if run.get("error") else ""  # a write that failed
    return [
        f"Crawl run {run['id']} ended {run.get('status')}{why}: "
        "the figures below are partial and some listings were not checked."
    ]


def source_warnings(figures: dict) -> list[str]:
    name, previous = figures["source"], figures["previous"]
    if figures["listings"] == 0:
        was = f" (previous run: {previous['listings']})" if previous else ""
        return [
            f"{name}: yielded no listings from {figures['pages_fetched']} pages{was}. "
            "The site may have changed or blocked the crawler."
        ]
    warnings = []
    for field, share in figures["shares"].items():
        before = (previous or {}).get("shares", {}).get(field)
        if before is None or share is None:
            continue
        if before - share >= SHARE_DROP_WARNING:
            warnings.append(
                f"{name}: listings with a {field} fell from {before:.0%} to {share:.0%}."
                " Extraction may have broken."
            )
    return warnings
