"""When a site's collection has stopped, by its heartbeat: the rule as a table of cases, and
the alarm it raises and clears in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from ingest.heartbeat import (
    Heartbeat,
    Stopped,
    changes,
    message,
    stale_after_s,
    stopped,
    watch,
)

NOW = datetime(2026, 3, 3, 21, 40, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=1)
DENVER = ZoneInfo("America/Denver")
# Watching since long before any test: no time given to a heartbeat to arrive.
EVER = datetime(2000, 1, 1, tzinfo=UTC)


def beat(component: str, kind: str, age_s: float, **detail: object) -> Heartbeat:
    return Heartbeat(component, kind, NOW - timedelta(seconds=age_s), detail)


def writer(age_s: float, **detail: object) -> Heartbeat:
    return beat("writer", "writer", age_s, **detail)


PLC = "modbus:plc-process"
SCADA = "opcua:scada"


@pytest.mark.parametrize(
    ("beats", "watching_since", "expected"),
    [
        ([], LONG_AGO, []),  # nothing ever collected here
        ([writer(10), beat(PLC, "modbus_device", 10)], LONG_AGO, []),
        ([writer(30), beat(PLC, "modbus_device", 30)], LONG_AGO, []),  # 30 s is not stale
        (
            [writer(31), beat(PLC, "modbus_device", 31), beat(SCADA, "opcua_server", 31)],
            LONG_AGO,
            [(PLC, 31), (SCADA, 31)],
        ),
        # A device an earlier configuration had is not this one's any more.
        (
            [
                writer(600),
                beat(PLC, "modbus_device", 600),
                beat("modbus:old", "modbus_device", 9e4),
            ],
            LONG_AGO,
            [(PLC, 600)],
        ),
        # A writer that collected from nothing: the collectors as a whole.
        ([writer(60)], LONG_AGO, [("writer", 60)]),
        # A writer that beats every 20 s is stale after three beats, not after 30 s.
        ([writer(50, health_interval_s=20), beat(PLC, "modbus_device", 50)], LONG_AGO, []),
        (
            [writer(61, health_interval_s=20), beat(PLC, "modbus_device", 61)],
            LONG_AGO,
            [(PLC, 61)],
        ),
        # Just started watching: the heartbeat is given its time to arrive first.
        ([writer(3600), beat(PLC, "modbus_device", 3600)], NOW - timedelta(seconds=10), []),
        (
            [writer(3600), beat(PLC, "modbus_device", 3600)],
            NOW - timedelta(seconds=31),
            [(PLC, 3600)],
        ),
    ],
)
def test_collection_stopped_when_the_writers_heartbeat_is_stale(
    beats: list[Heartbeat], watching_since: datetime, expected: list[tuple[str, float]]
) -> None:
    found = stopped(beats, NOW, watching_since)
    assert [(s.component, (NOW - s.since).total_seconds()) for s in found] == expected


def test_how_old_a_heartbeat_may_be() -> None:
    assert stale_after_s({}) == 30
    assert stale_after_s({"health_interval_s": 5}) == 30
    assert stale_after_s({"health_interval_s": 60}) == 180
    assert stale_after_s({"health_interval_s": True}) == 30


@pytest.mark.parametrize(
    ("component", "kind", "since", "words"),
    [
        (
            PLC,
            "modbus_device",
            NOW,
            "Data collection stopped: Modbus device plc-process since 14:40",
        ),
        (SCADA, "opcua_server", NOW, "Data collection stopped: OPC UA server scada since 14:40"),
        ("writer", "writer", NOW, "Data collection stopped: the collectors since 14:40"),
        # Another day in the plant's zone says which.
        (PLC, "modbus_device", NOW - timedelta(days=1), "plc-process since 02 Mar 14:40"),
    ],
)
def test_the_alarm_names_the_device_and_the_plants_time(
    component: str, kind: str, since: datetime, words: str
) -> None:
    assert words in message(Stopped(component, kind, since), NOW, DENVER)


def test_alarms_are_raised_once_and_cleared_when_their_collection_is_back() -> None:
    plc, scada = Stopped(PLC, "modbus_device", NOW), Stopped(SCADA, "opcua_server", NOW)
    found = changes([plc, scada], [SCADA, "modbus:gone"])
    assert (found.raised, found.cleared) == ([plc], ["modbus:gone"])
    assert changes([], [PLC]).cleared == [PLC]


def _site(conn: psycopg.Connection[object]) -> int:
    row = conn.execute(
        "INSERT INTO sites (code, name, timezone) VALUES ('plant', 'Plant', 'America/Denver')"
        " RETURNING id"
    ).fetchone()
    assert row is not None
    return int(row[0])


def _beat(conn: psycopg.Connection[object], age: str) -> None:
    for component, kind in (("writer", "writer"), (PLC, "modbus_device")):
        conn.execute(
            "INSERT INTO ingest_health (site_code, component, kind, state, detail, updated_at)"
            " VALUES ('plant', %s, %s, 'up', '{\"health_interval_s\": 5}', now() - %s::interval)"
            " ON CONFLICT (site_code, component) DO UPDATE SET updated_at = excluded.updated_at",
            (component, kind, age),
        )


async def _watch(db_url: str, site_id: int) -> list[tuple[str, str, bool]]:
    async with await psycopg.AsyncConnection.connect(db_url) as conn:
        await watch(conn, site_id, "plant", DENVER, EVER)
        await conn.commit()
        cur = await conn.execute(
            "SELECT source, message, ended_at IS NOT NULL FROM events WHERE code ="
            " 'collection_stopped' ORDER BY id"
        )
        return [(r[0], r[1], r[2]) for r in await cur.fetchall()]


async def test_the_alarm_is_an_event_raised_once_and_cleared(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        site_id = _site(conn)
        _beat(conn, "2 seconds")
        # A tag steady under its deadband: no reading for an hour, but the heartbeat goes on.
        tag = conn.execute(
            "INSERT INTO tags (site_id, name, source_protocol, expected_interval_s)"
            " VALUES (%s, 'level', 'modbus', 60) RETURNING id",
            (site_id,),
        ).fetchone()
        assert tag is not None
        conn.execute(
            "INSERT INTO readings (time, tag_id, value, status) VALUES (now() - interval '1 hour',"
            " %s, 2.5, 0)",
            (tag[0],),
        )
    assert await _watch(db_url, site_id) == []
    with psycopg.connect(db_url) as conn:
        _beat(conn, "45 seconds")
    [(source, words, ended)] = await _watch(db_url, site_id)
    assert source == PLC and not ended
    assert words.startswith("Data collection stopped: Modbus device plc-process since ")
    assert await _watch(db_url, site_id) == [(source, words, False)]  # raised once
    with psycopg.connect(db_url) as conn:
        _beat(conn, "1 second")
    assert await _watch(db_url, site_id) == [(source, words, True)]
