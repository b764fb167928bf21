"""What the collectors' and the writer's health snapshots share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def epoch_iso(t: float | None) -> str | None:
    """An epoch time (``time.time()``) as ISO 8601 in UTC, for the status endpoint."""
    return datetime.fromtimestamp(t, UTC).isoformat() if t is not None else None


@dataclass
class LinkHealth:
    """A collector's link to one device or server: what every protocol reports alike.

    Each protocol's collector extends it with its own counters, :meth:`errors` and
    :meth:`details`; the status endpoint and the floor read the common keys.
    """

    name: str
    endpoint: str
    state: str = "starting"  # starting, up, down
    since: float | None = None
    last_good_read: float | None = None
    last_error: str | None = None
    connects: int = 0
    connect_failures: int = 0

    def errors(self) -> dict[str, int]:
        """Error counters beyond ``connect_failures``."""
        return {}

    def details(self) -> dict[str, Any]:
        """Keys beyond the common ones."""
        return {}

    def snapshot(self) -> dict[str, Any]:
        return {
            "device": self.name,
            "endpoint": self.endpoint,
            "state": self.state,
            "connected": self.state == "up",
            "since": epoch_iso(self.since),
            "last_good_read": epoch_iso(self.last_good_read),
            "last_error": self.last_error,
            "errors": {"connect_failures": self.connect_failures, **self.errors()},
            "connects": self.connects,
            **self.details(),
        }
