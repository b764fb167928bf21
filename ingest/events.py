"""Events the collectors raise and clear, and how they land in the ``events`` table.

Repeats are folded by the database: raising a condition that already has an
open row (the partial unique index ``events_open_condition``) adds one to its
``occurrences`` and moves ``last_seen_at`` instead of inserting a second row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg

LIMIT_SOURCE = ""  # limit events are identified by their tag alone


@dataclass(frozen=True)
class EventChange:
    action: Literal["raise", "clear"]
    site_id: int
    tag_id: int | None
    source: str
    kind: Literal["limit", "device", "quality"]
    code: str
    severity: str
    message: str
    time: datetime
    value: float | None = None
    threshold: float | None = None


def link_event(
    action: Literal["raise", "clear"],
    site_id: int,
    source: str,
    what: str,
    at: datetime,
    why: str = "",
) -> EventChange:
    """A device or server that stopped answering (raise), or answers again (clear)."""
    return EventChange(
        action=action,
        site_id=site_id,
        tag_id=None,
        source=source,
        kind="device",
        code="communication",
        severity="alarm",
        message=f"{what} not answering: {why}",
        time=at,
    )


_RAISE = """
INSERT INTO events (site_id, tag_id, source, kind, code, severity, message, value, threshold,
                    started_at, last_seen_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (site_id, (coalesce(tag_id, 0)), source, kind, code) WHERE ended_at IS NULL
DO UPDATE SET occurrences = events.occurrences + 1,
              last_seen_at = greatest(events.last_seen_at, excluded.last_seen_at),
              value = excluded.value
"""

_CLEAR = """
UPDATE events SET ended_at = greatest(started_at, %s)
WHERE site_id = %s AND coalesce(tag_id, 0) = coalesce(%s, 0) AND source = %s AND kind = %s
  AND code = %s AND ended_at IS NULL
"""


def apply_events(conn: psycopg.Connection[Any], changes: Iterable[EventChange]) -> int:
    """Write event changes in order, inside the caller's transaction; returns how many."""
    n = 0
    with conn.cursor() as cur:
        for c in changes:
            if c.action == "raise":
                cur.execute(
                    _RAISE,
                    (
                        c.site_id,
                        c.tag_id,
                        c.source,
                        c.kind,
                        c.code,
                        c.severity,
                        c.message,
                        c.value,
                        c.threshold,
                        c.time,
                        c.time,
                    ),
                )
            else:
                cur.execute(_CLEAR, (c.time, c.site_id, c.tag_id, c.source, c.kind, c.code))
            n += 1
    return n


def open_limit_events(conn: psycopg.Connection[Any], site_id: int) -> set[tuple[int, str]]:
    """(tag id, limit code) of the limit events still open, to resume tracking them."""
    rows = conn.execute(
        "SELECT tag_id, code FROM events"
        " WHERE site_id = %s AND kind = 'limit' AND ended_at IS NULL AND tag_id IS NOT NULL",
        (site_id,),
    ).fetchall()
    return {(int(r[0]), str(r[1])) for r in rows}
