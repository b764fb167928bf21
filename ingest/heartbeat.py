"""The collectors' heartbeat, and the "data collection stopped" alarm when it stops.

The ingest process publishes its health to ``ingest_health`` every
``health_interval_s`` (5 s by default): a row per Modbus device and OPC UA server and
the writer's, in one transaction, so they share one ``updated_at``. A process that is
killed (kill -9 writes nothing on its way out), hangs, or cannot reach the database
stops refreshing them. A site's collection has stopped when its writer's row is older
than :func:`stale_after_s`; the devices and servers stopped are those published with
that last heartbeat (rows an earlier configuration left behind are older still, and
are not its devices any more). A tag that is steady under its deadband stores no
readings for minutes, but the heartbeat goes on: it is no part of this.

No collector is left to raise the alarm once the collectors are dead, so the reader
raises it: :func:`watch` compares the heartbeat with the open "collection stopped"
events of a site, raising one per device or server stopped and clearing them when the
heartbeat comes back; the floor calls it on every refresh of its tiles (every 5 s). The
alarm is an ordinary ``events`` row (kind ``device``, code ``collection_stopped``,
source the device's component name): it shows on the floor's alarm bar and is
acknowledged like any other.

A web app that has just started (with the collectors, as ``clearwell demo`` does)
first gives the heartbeat ``stale_after_s`` to arrive: a heartbeat left by an earlier
run is not an alarm of the start's own making.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import psycopg

# A component not refreshed for this long is stale (at least; see stale_after_s).
STALE_AFTER_S = 30.0
# Heartbeats a stale component has missed, when the writer says how often it beats.
MISSED_BEATS = 3
CODE = "collection_stopped"
# When this process began watching: the heartbeat is given time to arrive after that.
WATCHING_SINCE = datetime.now(UTC)

_KIND_WORDS = {"modbus_device": "Modbus device", "opcua_server": "OPC UA server"}


def stale_after_s(writer_detail: Mapping[str, Any]) -> float:
    """How old the heartbeat may be: 30 s, or three beats where the writer beats slower."""
    interval = writer_detail.get("health_interval_s")
    if isinstance(interval, int | float) and not isinstance(interval, bool):
        return max(STALE_AFTER_S, MISSED_BEATS * float(interval))
    return STALE_AFTER_S


@dataclass(frozen=True)
class Heartbeat:
    """A component's row in ``ingest_health``."""

    component: str
    kind: str
    updated_at: datetime
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class Stopped:
    """A device or server whose collection stopped, and its last heartbeat."""

    component: str
    kind: str
    since: datetime


def stopped(
    beats: Sequence[Heartbeat], now: datetime, watching_since: datetime = WATCHING_SINCE
) -> list[Stopped]:
    """The devices and servers of a site whose collection stopped (none while it beats)."""
    writer = next((b for b in beats if b.kind == "writer"), None)
    if writer is None:
        return []
    waited_from = max(writer.updated_at, watching_since)
    if (now - waited_from).total_seconds() <= stale_after_s(writer.detail):
        return []
    last = [
        Stopped(b.component, b.kind, b.updated_at)
        for b in beats
        if b.kind != "writer" and b.updated_at >= writer.updated_at
    ]
    return last or [Stopped(writer.component, writer.kind, writer.updated_at)]


def what(component: str, kind: str) -> str:
    """``modbus:plc-process`` -> "Modbus device plc-process"."""
    if kind not in _KIND_WORDS:
        return "the collectors"
    return f"{_KIND_WORDS[kind]} {component.partition(':')[2] or component}"


def message(s: Stopped, now: datetime, tz: tzinfo) -> str:
    """The alarm's words, with the time of the last heartbeat in the plant's zone."""
    since, today = s.since.astimezone(tz), now.astimezone(tz)
    at = since.strftime("%H:%M") if since.date() == today.date() else since.strftime("%d %b %H:%M")
    return f"Data collection stopped: {what(s.component, s.kind)} since {at}"


@dataclass(frozen=True)
class Changes:
    """The alarms to raise and the sources whose alarm to clear."""

    raised: list[Stopped]
    cleared: list[str]


def changes(now_stopped: Iterable[Stopped], open_sources: Iterable[str]) -> Changes:
    stopped_now = {s.component: s for s in now_stopped}
    opened = set(open_sources)
    return Changes(
        [s for c, s in sorted(stopped_now.items()) if c not in opened],
        sorted(opened - set(stopped_now)),
    )


_BEATS = (
    "SELECT n.now, h.component, h.kind, h.updated_at, h.detail FROM (SELECT now()) n"
    " LEFT JOIN ingest_health h ON h.site_code = %s"
)
_OPEN = (
    "SELECT source FROM events WHERE site_id = %s AND kind = 'device' AND code = %s"
    " AND ended_at IS NULL"
)
_RAISE = (
    "INSERT INTO events (site_id, source, kind, code, severity, message, started_at,"
    " last_seen_at) VALUES (%s, %s, 'device', %s, 'alarm', %s, %s, %s)"
    " ON CONFLICT (site_id, (coalesce(tag_id, 0)), source, kind, code) WHERE ended_at IS NULL"
    " DO NOTHING"
)
_CLEAR = (
    "UPDATE events SET ended_at = greatest(started_at, now())"
    " WHERE site_id = %s AND tag_id IS NULL AND kind = 'device' AND code = %s"
    " AND source = ANY(%s) AND ended_at IS NULL"
)


async def watch(
    conn: psycopg.AsyncConnection[Any],
    site_id: int,
    site_code: str,
    tz: tzinfo,
    watching_since: datetime | None = None,
) -> Changes:
    """Raises a site's "collection stopped" alarms and clears those whose collection is
    back, in the caller's transaction; returns what it changed. ``watching_since``
    defaults to when this process began watching."""
    cur = await conn.execute(_BEATS, (site_code,))
    rows = await cur.fetchall()
    now = rows[0][0]
    beats = [Heartbeat(r[1], r[2], r[3], r[4]) for r in rows if r[1] is not None]
    cur = await conn.execute(_OPEN, (site_id, CODE))
    opened = [str(r[0]) for r in await cur.fetchall()]
    since = WATCHING_SINCE if watching_since is None else watching_since
    found = changes(stopped(beats, now, since), opened)
    for s in found.raised:
        await conn.execute(
            _RAISE, (site_id, s.component, CODE, message(s, now, tz), s.since, s.since)
        )
    if found.cleared:
        await conn.execute(_CLEAR, (site_id, CODE, found.cleared))
    return found
