"""What the collectors' and the writer's health snapshots share."""

from __future__ import annotations

from datetime import UTC, datetime


def epoch_iso(t: float | None) -> str | None:
    """An epoch time (``time.time()``) as ISO 8601 in UTC, for the status endpoint."""
    return datetime.fromtimestamp(t, UTC).isoformat() if t is not None else None
