"""The database stopped and restarted during ingest: every reading taken arrives exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
import pytest

from clearwell.migrate import migrate
from ingest.readings import Row
from ingest.service import IngestService, spool_path
from ingest.spool import Spool
from ingest.writer import Writer
from sitefile.load import parse_config
from tests.ingest.harness import wait_for
from tests.ingest.modbus.layout import LayoutServer
from tests.support.pg_cluster import LocalCluster

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster() -> Iterator[tuple[LocalCluster, str]]:
    with LocalCluster() as c:
        with psycopg.connect(c.admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE ingest")
        url = c.url("ingest")
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        yield c, url


def site_text(port: int) -> str:
    tags = "".join(
        f"  - {{name: t{i}, modbus: {{device: plc, register: holding, address: {i}}}}}\n"
        for i in range(20)
    )
    return (
        "site: {code: restart, name: Restart}\n"
        "modbus:\n  devices:\n"
        f"    - {{name: plc, host: 127.0.0.1, port: {port}, poll_interval_s: 0.05}}\n"
        "ingest: {flush_interval_s: 0.1, batch_rows: 200, health_interval_s: 0.5}\n"
        "tags:\n" + tags
    )


async def test_database_restart_mid_ingest_loses_and_duplicates_nothing(
    cluster: tuple[LocalCluster, str], tmp_path: Path
) -> None:
    pg, url = cluster
    server = LayoutServer({1: {"holding": list(range(100, 120))}})
    port = await server.start()
    config = parse_config(site_text(port))
    taken: list[Row] = []
    writer = Writer(
        url,
        Spool(spool_path(tmp_path, "restart"), 10**9),
        config.ingest,
        site_code="restart",
    )
    submit = writer.submit

    def record(rows: Sequence[Row]) -> None:
        taken.extend(rows)
        submit(rows)

    writer.submit = record  # type: ignore[method-assign]
    service = IngestService(config, url, tmp_path, writer=writer)
    try:
        async with service:
            await wait_for(lambda: writer.stats.rows_committed >= 200, 20)
            # A value changes while the database is away, so the spooled rows differ.
            await asyncio.to_thread(pg.stop, "fast")
            await server.set(1, "holding", 0, [7])
            await wait_for(lambda: writer.stats.state == "down", 10)
            await wait_for(lambda: writer.spool.rows >= 400, 20)
            spooled_at_peak = writer.spool.rows
            await asyncio.to_thread(pg.start)
            await wait_for(lambda: writer.stats.state == "up" and writer.spool.rows == 0, 30)
            await asyncio.sleep(0.3)
        # Stopped: the pollers' last readings were flushed by the writer on its way out.
        assert writer.spool.rows == 0
        with psycopg.connect(url) as conn:
            stored = conn.execute(
                "SELECT time, tag_id, value, status, server_time FROM readings"
                " ORDER BY time, tag_id"
            ).fetchall()
            health = conn.execute("SELECT count(*) FROM ingest_health").fetchone()
        assert len(stored) == len(taken)
        assert stored == sorted(taken, key=lambda r: (r[0], r[1]))
        assert spooled_at_peak >= 400
        assert any(r[2] == 7.0 for r in stored)
        assert health == (2,)  # the device and the writer
    finally:
        await server.stop()


async def test_collection_starts_once_the_database_answers(
    cluster: tuple[LocalCluster, str], tmp_path: Path
) -> None:
    pg, url = cluster
    server = LayoutServer({1: {"holding": list(range(20))}})
    port = await server.start()
    await asyncio.to_thread(pg.stop, "fast")
    service = IngestService(parse_config(site_text(port)), url, tmp_path)
    starting = asyncio.create_task(service.start())
    try:
        await asyncio.sleep(1.5)
        assert not starting.done()  # waiting for tag ids from the database
        await asyncio.to_thread(pg.start)
        await asyncio.wait_for(starting, 20)
        writer = service.writer
        assert writer is not None
        await wait_for(lambda: writer.stats.rows_committed >= 40, 10)
    finally:
        if not starting.done():
            starting.cancel()
        await service.stop()
        await server.stop()
