"""A collector's link to one Modbus device or OPC UA server: what both protocols share.

Its health (:class:`LinkHealth`, extended by each protocol's counters), the
reconnection backoff, where the collector's rows and events go, and how the link
going down and coming back is reported (:class:`Link`): once each way, whatever
the protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ingest.events import EventChange, link_event
from ingest.readings import Row

BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 30.0

RowSink = Callable[[list[Row]], None]
EventSink = Callable[[list[EventChange]], None]
# Appends, for a link lost at (epoch time, datetime), each tag's reading and events.
MarkBad = Callable[[float, datetime, list[Row], list[EventChange]], None]


def backoff_delays(
    initial: float = BACKOFF_INITIAL_S, cap: float = BACKOFF_MAX_S
) -> Iterator[float]:
    """Seconds to wait before each reconnection: doubling from ``initial`` up to ``cap``."""
    delay = initial
    while True:
        yield delay
        delay = min(delay * 2, cap)


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
    state: str = "starting"  # starting, up, down (the link; reported_state adds degraded)
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

    def failing(self) -> list[str]:
        """Tags failing while the link is up, each with why (a Modbus address the device
        refuses, a node the server will not monitor)."""
        return []

    @property
    def reported_state(self) -> str:
        """``state``, except that a link up with failing tags is ``degraded``."""
        return "degraded" if self.state == "up" and self.failing() else self.state

    def snapshot(self) -> dict[str, Any]:
        failing = self.failing() if self.state == "up" else []
        if failing:
            more = f" and {len(failing) - 1} more" if len(failing) > 1 else ""
            last_error: str | None = failing[0] + more
        else:
            last_error = self.last_error
        return {
            "device": self.name,
            "endpoint": self.endpoint,
            "state": self.reported_state,
            "connected": self.state == "up",
            "since": epoch_iso(self.since),
            "last_good_read": epoch_iso(self.last_good_read),
            "last_error": last_error,
            "failing_tags": failing,
            "errors": {"connect_failures": self.connect_failures, **self.errors()},
            "connects": self.connects,
            **self.details(),
        }


class Link:
    """Where a collector's rows and events go, and its link's transitions up and down.

    Losing the link is reported once: logged once, every tag marked (by the collector's
    ``mark_bad``, a reading with ``BadCommunicationError`` each) and a device event
    raised under ``source``; while it stays down only the last error is kept. Its return
    clears the event.
    """

    def __init__(
        self,
        health: LinkHealth,
        site_id: int,
        source: str,
        what: str,
        submit_rows: RowSink,
        submit_events: EventSink,
        mark_bad: MarkBad,
        log: logging.Logger,
    ) -> None:
        self.health = health
        self.site_id = site_id
        self.source = source  # "modbus:<name>": the events' source
        self.what = what  # "Modbus device <name>": how logs and events name it
        self._submit_rows = submit_rows
        self._submit_events = submit_events
        self._mark_bad = mark_bad
        self._log = log

    def submit(self, rows: list[Row], events: list[EventChange]) -> None:
        if rows:
            self._submit_rows(rows)
        if events:
            self._submit_events(events)

    def down(self, when: float, why: str) -> bool:
        """The link is lost (at ``when``, epoch seconds); whether it was not down already."""
        h = self.health
        h.last_error = why
        if h.state == "down":
            return False
        h.state, h.since = "down", when
        self._log.warning("%s down: %s (tags marked BadCommunicationError)", self.what, why)
        at = datetime.fromtimestamp(when, UTC)
        rows: list[Row] = []
        events: list[EventChange] = []
        self._mark_bad(when, at, rows, events)
        events.append(link_event("raise", self.site_id, self.source, self.what, at, why))
        self.submit(rows, events)
        return True

    def up(self, when: float, detail: str = "") -> None:
        """The link answers (again); ``detail`` ends the line logged."""
        h = self.health
        if h.state == "up":
            return
        if h.state == "down":
            down_for = f" after {when - h.since:.1f} s" if h.since else ""
            self._log.warning("%s answering again%s%s", self.what, down_for, detail)
            at = datetime.fromtimestamp(when, UTC)
            self.submit([], [link_event("clear", self.site_id, self.source, self.what, at)])
        else:
            self._log.info("%s connected (%s)%s", self.what, h.endpoint, detail)
        h.state, h.since = "up", when
