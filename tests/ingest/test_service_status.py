"""The ingest service end to end: tags synced, readings stored, health at /api/ingest/status."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import psycopg

from clearwell.app import create_app
from clearwell.settings import load_settings
from ingest.service import IngestService
from sitefile.load import parse_config
from tests.ingest.harness import wait_for
from tests.ingest.modbus.layout import LayoutServer
from tests.ingest.modbus.libmodbus import Layout, LibmodbusServer


def site_text(port: int) -> str:
    return (
        "site: {code: svc, name: Service Site}\n"
        "modbus:\n  devices:\n"
        f"    - {{name: plc, host: 127.0.0.1, port: {port}, poll_interval_s: 0.1}}\n"
        "ingest: {flush_interval_s: 0.1, health_interval_s: 0.2, event_hold_s: 0}\n"
        "tags:\n"
        "  - {name: level, unit: m, limits: {hi: 5}, deadband: 0.5,"
        " modbus: {device: plc, register: holding, address: 0, scale: 0.1}}\n"
        "  - {name: pump, modbus: {device: plc, register: coil, address: 0, type: bool}}\n"
    )


async def get_status(db_url: str) -> dict:
    app = create_app(load_settings(database_url=db_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/api/ingest/status", params={"site": "svc"})
    assert response.status_code == 200
    return response.json()


async def test_service_stores_readings_events_and_reports_health(
    db_url: str, tmp_path: Path
) -> None:
    server = LayoutServer({1: {"holding": [30], "coil": [True]}})
    port = await server.start()
    try:
        async with IngestService(parse_config(site_text(port)), db_url, tmp_path) as service:
            writer = service.writer
            assert writer is not None
            await wait_for(lambda: writer.stats.rows_committed >= 2, 10)
            await server.set(1, "holding", 0, [62])  # 6.2 m: above the hi limit
            await wait_for(lambda: writer.stats.events_written >= 1, 10)
            await server.set(1, "holding", 0, [31])
            await wait_for(lambda: writer.stats.events_written >= 2, 10)
            await wait_for(lambda: service.pollers[0].health.cycles >= 5, 10)
            await writer.flush()
            status = await get_status(db_url)
    finally:
        await server.stop()
    (site,) = status["sites"]
    (device,) = site["devices"]
    assert device["device"] == "plc" and device["state"] == "up" and device["connected"]
    assert device["last_good_read"] is not None and device["errors"]["links_lost"] == 0
    assert site["writer"]["state"] == "up" and site["writer"]["rows_committed"] >= 2
    assert {"queue_rows", "spool_rows", "rows_per_s"} <= set(site["writer"])
    with psycopg.connect(db_url) as conn:
        levels = conn.execute(
            "SELECT r.value FROM readings r JOIN tags t ON t.id = r.tag_id"
            " WHERE t.name = 'level' ORDER BY r.time"
        ).fetchall()
        event = conn.execute(
            "SELECT kind, code, severity, value, threshold, ended_at IS NOT NULL FROM events"
        ).fetchall()
        tag = conn.execute("SELECT unit, limit_hi FROM tags WHERE name = 'level'").fetchone()
    # Report by exception: 3.0 stored once however many polls, then each change.
    assert [round(v, 6) for (v,) in levels] == [3.0, 6.2, 3.1]
    assert event == [("limit", "hi", "warning", 6.2, 5.0, True)]
    assert tag == ("m", 5.0)


async def test_stale_health_is_reported_as_stale(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO ingest_health (site_code, component, kind, state, detail, updated_at)"
            " VALUES ('svc', 'modbus:plc', 'modbus_device', 'up', '{}', now() - interval '1 hour')"
        )
    status = await get_status(db_url)
    device = status["sites"][0]["devices"][0]
    assert device["state"] == "stale" and device["reported_state"] == "up"


async def test_status_without_a_database_is_503() -> None:
    from tests.support.pg_cluster import free_port

    app = create_app(load_settings(database_url=f"postgresql://u:p@127.0.0.1:{free_port()}/x"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/api/ingest/status")
    assert response.status_code == 503
    assert "unreachable" in response.json()["error"]


async def test_a_device_with_a_refused_address_is_reported_degraded_saying_which_tag_and_why(
    db_url: str, tmp_path: Path
) -> None:
    # The libmodbus server refuses holding 1, where tag 'bad' is, between two good ones.
    layout = Layout().put("holding", 0, [10, 0, 12]).refuse("holding", 1)
    server = LibmodbusServer(layout, tmp_path)
    port = await server.start()
    text = (
        "site: {code: svc, name: Service Site}\n"
        "modbus:\n  devices:\n"
        f"    - {{name: plc, host: 127.0.0.1, port: {port}, poll_interval_s: 0.1}}\n"
        "ingest: {flush_interval_s: 0.1, health_interval_s: 0.2}\n"
        "tags:\n"
        "  - {name: good1, modbus: {device: plc, register: holding, address: 0}}\n"
        "  - {name: bad, modbus: {device: plc, register: holding, address: 1}}\n"
        "  - {name: good2, modbus: {device: plc, register: holding, address: 2}}\n"
    )
    try:
        async with IngestService(parse_config(text), db_url, tmp_path) as service:
            writer = service.writer
            assert writer is not None
            await wait_for(lambda: service.pollers[0].health.refusals != {}, 10)
            await wait_for(lambda: service.pollers[0].health.cycles >= 5, 10)
            await writer.flush()
            await asyncio.sleep(0.3)
            await writer.flush()
            status = await get_status(db_url)
    finally:
        await server.stop()
    (device,) = status["sites"][0]["devices"]
    why = "tag 'bad' (holding 1): illegal data address (exception 2)"
    assert (device["state"], device["reported_state"], device["connected"]) == (
        "degraded",
        "degraded",
        True,
    )
    assert device["last_error"] == why and device["failing_tags"] == [why]
    assert device["refused"][0]["tags"] == ["bad"]
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT t.name, count(*) FILTER (WHERE r.status = 0),"
            " count(*) FILTER (WHERE r.status <> 0) FROM readings r"
            " JOIN tags t ON t.id = r.tag_id GROUP BY t.name ORDER BY t.name"
        ).fetchall()
    counts = {name: (good, bad) for name, good, bad in rows}
    assert counts["bad"] == (0, 1)
    assert counts["good1"][0] >= 5 and counts["good1"][1] == 0
    assert counts["good2"][0] >= 5 and counts["good2"][1] == 0
