"""The database stopped and restarted during ingest, or away when ingest starts: every
reading taken arrives exactly once."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from clearwell.migrate import migrate
from ingest.readings import Row
from ingest.service import IngestService, spool_path
from ingest.spool import Spool
from ingest.writer import Writer
from sitefile.load import parse_config
from sitefile.models import SiteConfig
from tests.ingest.harness import stored_rows, wait_for
from tests.ingest.modbus.layout import LayoutServer
from tests.ingest.modbus.libmodbus import Layout, LibmodbusServer, cli_env
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


def recording_writer(url: str, tmp_path: Path, config: SiteConfig) -> tuple[Writer, list[Row]]:
    """A writer that also keeps every row submitted to it, in the list returned with it."""
    taken: list[Row] = []
    writer = Writer(
        url, Spool(spool_path(tmp_path, "restart"), 10**9), config.ingest, site_code="restart"
    )
    submit = writer.submit

    def record(rows: Sequence[Row]) -> None:
        taken.extend(rows)
        submit(rows)

    writer.submit = record  # type: ignore[method-assign]
    return writer, taken


async def test_database_restart_mid_ingest_loses_and_duplicates_nothing(
    cluster: tuple[LocalCluster, str], tmp_path: Path
) -> None:
    pg, url = cluster
    server = LayoutServer({1: {"holding": list(range(100, 120))}})
    port = await server.start()
    config = parse_config(site_text(port))
    writer, taken = recording_writer(url, tmp_path, config)
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


async def test_collection_starts_without_the_database_and_replays_once_it_answers(
    cluster: tuple[LocalCluster, str], tmp_path: Path
) -> None:
    pg, url = cluster
    server = LayoutServer({1: {"holding": list(range(20))}})
    port = await server.start()
    await asyncio.to_thread(pg.stop, "fast")
    config = parse_config(site_text(port))
    writer, taken = recording_writer(url, tmp_path, config)
    service = IngestService(config, url, tmp_path, writer=writer)
    try:
        # Started from the configuration alone: polling at once, under provisional ids.
        await asyncio.wait_for(service.start(), 10)
        provisional = {st.tag.name: st.tag_id for st in service.pollers[0].tag_states}
        assert all(i < 0 for i in provisional.values())
        await wait_for(lambda: writer.spool.rows >= 200, 10)
        assert writer.snapshot()["state"] == "down"
        await asyncio.to_thread(pg.start)
        await wait_for(lambda: writer.stats.state == "up" and writer.spool.rows == 0, 20)
        await asyncio.sleep(0.3)
        real = {st.tag.name: st.tag_id for st in service.pollers[0].tag_states}
    finally:
        await service.stop()
        await server.stop()
    assert all(i > 0 for i in real.values())
    # Nothing spooled carries a provisional id any more: the spool forgot them.
    with sqlite3.connect(spool_path(tmp_path, "restart")) as spool:
        assert spool.execute("SELECT count(*) FROM tag_keys").fetchone() == (0,)
    ids = {provisional[n]: real[n] for n in real}
    expected = sorted(((r[0], ids.get(r[1], r[1]), *r[2:]) for r in taken), key=lambda r: r[:2])
    with psycopg.connect(url) as conn:
        stored = conn.execute(
            "SELECT time, tag_id, value, status, server_time FROM readings ORDER BY time, tag_id"
        ).fetchall()
    # Every reading taken while the database was away arrived once, under its tag's id.
    assert stored == expected


async def test_a_collector_restarted_while_the_database_is_down_misses_no_second(
    cluster: tuple[LocalCluster, str], tmp_path: Path
) -> None:
    # The reboot, shortened: the database stops, the collector is killed (-9)
    # and started again while it is down, and the database comes back 4 s later (20 s
    # in the issue). Every tag must have a reading in every second once the collector
    # runs again, each poll stored once, in order.
    pg, url = cluster
    layout = Layout().count("input", 0).put("holding", 10, [7, 8])
    device = LibmodbusServer(layout, tmp_path)
    port = await device.start()
    config = tmp_path / "site.yaml"
    config.write_text(
        "site: {code: reboot, name: Reboot}\n"
        "modbus:\n  devices:\n"
        f"    - {{name: plc, host: 127.0.0.1, port: {port}, poll_interval_s: 0.5}}\n"
        "ingest: {flush_interval_s: 0.2, health_interval_s: 1}\n"
        "tags:\n"
        "  - {name: polls, modbus: {device: plc, register: input, address: 0}}\n"
        "  - {name: a, modbus: {device: plc, register: holding, address: 10}}\n"
        "  - {name: b, modbus: {device: plc, register: holding, address: 11}}\n"
    )
    env = cli_env(url, tmp_path / "var")
    logs = [tmp_path / "first.log", tmp_path / "second.log"]

    async def collector(log: Path) -> asyncio.subprocess.Process:
        with log.open("wb") as out:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "clearwell.cli", "ingest", "--config", str(config),
                env=env, stdout=out, stderr=out,
            )  # fmt: skip

    first = await collector(logs[0])
    second: asyncio.subprocess.Process | None = None
    try:
        while len(stored_rows(url).get("polls", [])) < 4:
            await asyncio.sleep(0.2)
        await asyncio.to_thread(pg.stop, "fast")
        await asyncio.sleep(1.0)
        first.kill()
        await first.wait()
        restarted = datetime.now(UTC)
        second = await collector(logs[1])
        deadline = time.monotonic() + 30
        while "collecting 1 Modbus devices" not in logs[1].read_text():
            assert time.monotonic() < deadline, logs[1].read_text()
            await asyncio.sleep(0.1)
        await asyncio.sleep(4.0)
        await asyncio.to_thread(pg.start)
        back = time.monotonic()
        # Live readings flow again within a moment of the database's return.
        while not any(t > datetime.now(UTC) - timedelta(seconds=0.5)
                      for t, *_ in stored_rows(url).get("polls", [])):  # fmt: skip
            assert time.monotonic() - back < 5, logs[1].read_text()
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 20) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()
        await device.stop()
    text = logs[1].read_text()
    assert "collecting from the configuration alone" in text, text
    assert "reachable again; replaying" in text, text
    assert "Traceback" not in text, text
    readings = stored_rows(url)
    assert set(readings) == {"polls", "a", "b"}
    for name, rows in readings.items():
        assert {status for _, _, status in rows} == {0}, name
        after = [t for t, _, _ in rows if t >= restarted]
        # One reading at least in every whole second from the restarted collector's
        # first reading to its last (it polls every 0.5 s).
        seconds = {int(t.timestamp()) for t in after}
        span = range(int(after[0].timestamp()) + 1, int(after[-1].timestamp()))
        assert [s for s in span if s not in seconds] == [], name
        assert len(span) >= 4, name  # the 4 s without a database, and after
    polls = [v for _, v, _ in readings["polls"]]
    restart_at = next(i for i, (t, _, _) in enumerate(readings["polls"]) if t >= restarted)
    # Each poll of the restarted collector stored once, in order; the first collector's
    # polls too, up to what it held in memory when it was killed.
    assert polls == sorted(set(polls))
    again = polls[restart_at:]
    assert again == [float(n) for n in range(int(again[0]), int(again[0]) + len(again))]
    before = polls[:restart_at]
    assert before == [float(n) for n in range(1, len(before) + 1)]
