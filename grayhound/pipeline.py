"""What follows a crawl: detect, then the digest. The demo, `grayhound run` and the schedule
all call these same functions."""

from __future__ import annotations

from collections.abc import Callable

from grayhound.config import Config


def after_crawl(config: Config, run_id: int, echo: Callable[[str], None] = print) -> dict:
    """Run the stages that follow a crawl; return {label: path} of what was written."""
    from grayhound.detection import detect_findings

    outputs: dict = {}
    counts = detect_findings(config, run_id)
    echo(
        f"detect: {counts['flagged_listings']} of {counts['listings']} listings flagged, "
        f"{counts['risky_sellers']} of {counts['sellers']} sellers impersonating or suspicious"
    )
    # -- digest step (reports/digest.py) goes here --
    return outputs
