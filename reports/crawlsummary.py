"""A crawl run told in a few lines: per source figures and the URLs that finally failed."""

from __future__ import annotations

import re
from collections import Counter

from grayhound.text import terminal_text

MAX_FAILURES_SHOWN = 20
# "not a product page (a list page: …)", "HTTP 404", "refused: redirect to …": the words a
# reason starts with name its kind.
_KIND_END = re.compile(r"\s*[(:]")


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
    for source, kinds in sorted(failure_kinds(failures or []).items()):
        counted = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
        lines.append(f"  {source}: no listing from {sum(kinds.values())} URLs: {counted}")
    for failure in (failures or [])[:MAX_FAILURES_SHOWN]:
        lines.append(
            f"  failed {terminal_text(failure['url'])}: {terminal_text(failure['reason'])}"
        )
    if failures and len(failures) > MAX_FAILURES_SHOWN:
        lines.append(f"  … and {len(failures) - MAX_FAILURES_SHOWN} more failures")
    return "\n".join(lines)


def failure_kinds(failures: list[dict]) -> dict[str, Counter]:
    """Per source, how many URLs failed for each kind of reason."""
    kinds: dict[str, Counter] = {}
    for failure in failures:
        reason = failure.get("reason") or "unknown"
        kind = _KIND_END.split(reason, maxsplit=1)[0].strip() or reason
        kinds.setdefault(failure.get("source") or "?", Counter())[kind] += 1
    return kinds
