"""A crawl run told in a few lines: per source figures and the URLs that finally failed."""

from __future__ import annotations

from grayhound.text import terminal_text

MAX_FAILURES_SHOWN = 20


def format_run_summary(summary: dict, failures: list[dict] | None = None) -> str:
    lines = [
        f"crawl run {summary['run_id']} {summary['status']}: "
        f"{summary.get('pages_fetched', 0)} pages, {summary.get('listings_extracted', 0)} listings, "
        f"{summary.get('failures', 0)} failures"
    ]
    for name, f in sorted(summary.get("figures", {}).get("sources", {}).items()):
        lines.append(
            f"  {name}: {f['pages_fetched']} pages, {f['listings']} listings "
            f"({f['with_price']} with price, {f['with_seller']} with seller), "
            f"{f['failures']} failures"
        )
    for failure in (failures or [])[:MAX_FAILURES_SHOWN]:
        lines.append(
            f"  failed {terminal_text(failure['url'])}: {terminal_text(failure['reason'])}"
        )
    if failures and len(failures) > MAX_FAILURES_SHOWN:
        lines.append(f"  … and {len(failures) - MAX_FAILURES_SHOWN} more failures")
    return "\n".join(lines)
