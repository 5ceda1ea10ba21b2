"""The one timestamp format of the store: UTC ISO 8601 with milliseconds and a Z."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """Now, as the store writes every time: `2026-12-03T04:18:40.123Z`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
