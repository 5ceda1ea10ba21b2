"""What follows a crawl: detect, then the digest. The demo, `grayhound run` and the schedule
all call these same functions."""

from __future__ import annotations

from collections.abc import Callable

from grayhound.config import Config


def after_crawl(config: Config, run_id: int, echo: Callable[[str], None] = print) -> dict:
    """Run the stages that exist after a crawl; return {label: path} of what was written."""
    outputs: dict = {}
    echo(f"export: grayhound --config {config.path} export listings --format csv")
    return outputs
