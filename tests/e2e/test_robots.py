"""robots.txt holds for every request, including the many that are in flight before robots.txt
has arrived (a source given as a list of product URLs)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.slow


def test_disallowed_start_url_among_many_is_never_fetched(
    served_sites, tmp_path, config_for, ground_truth, run_cli
):
    config_path = config_for(served_sites, tmp_path)
    origin = served_sites.urls["bazaar"]
    items = [origin + t["canonical_path"] for t in ground_truth["listings"][:12]]
    trap = origin + ground_truth["robots_trap"]
    urls = ", ".join(f'"{u}"' for u in [*items[:6], trap, *items[6:]])
    text = config_path.read_text()
    text = re.sub(
        r'start_urls = \["http://127\.0\.0\.1:\d+/search/[^"]+"\]',
        f"start_urls = [{urls}]",
        text,
        count=1,
    )
    config_path.write_text(text)
    served_sites.clear_requests()

    result = run_cli(config_path, "crawl", "--source", "bazaar")

    assert result.returncode == 0, result.stderr[-3000:]
    fetched = [path for site, _m, path in served_sites.requests if site == "bazaar"]
    assert ground_truth["robots_trap"] not in fetched
    assert sum(p.startswith("/item/") for p in fetched) >= 12  # the allowed ones were fetched
