"""The collector against the bundled plant simulator, configured by the simulator's own map."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ingest.status_codes import BAD_COMMUNICATION_ERROR, BAD_DEVICE_FAILURE, GOOD
from simulators.address_map import DEFAULT_MAP
from simulators.runtime import PlantSimulator
from sitefile.load import load_config
from sitefile.models import ModbusSection, SiteConfig
from tests.ingest.harness import wait_for
from tests.ingest.modbus.harness import Collected


def pointed_at(port: int, **device: object) -> SiteConfig:
    """The simulator's map as a collector configuration, on the port the test got."""
    config = load_config(DEFAULT_MAP)
    devices = [
        d.model_copy(update={"port": port, "poll_interval_s": 0.2, "timeout_s": 0.5, **device})
        for d in config.modbus.devices
    ]
    return config.model_copy(update={"modbus": ModbusSection(devices=devices)})


@pytest.fixture
async def sim(tmp_path) -> AsyncIterator[PlantSimulator]:
    # speed=0 stops the plant clock, so the values read can be compared exactly.
    async with PlantSimulator(seed=7, speed=0, modbus_port=0, opcua=False, data_dir=tmp_path) as s:
        yield s


def device_tags(config: SiteConfig, device: str) -> set[str]:
    return {t.name for t in config.modbus_tags(device)}


async def test_reads_what_the_simulator_publishes(sim: PlantSimulator) -> None:
    config = pointed_at(sim.modbus_port or 0)
    c = Collected(config)
    wanted = {t.name for t in config.tags if t.source == "modbus" and t.modbus}
    wanted -= {t.name for t in config.tags if t.modbus and t.modbus.type == "string"}
    async with c.running():
        await wait_for(lambda: wanted <= set(c.latest()))
    latest = c.latest()
    for name in wanted:
        published = sim.value(name)
        expected = float(published) if not isinstance(published, bool) else float(published)
        assert latest[name] == pytest.approx(expected, rel=1e-6, abs=1e-9), name
    assert all(r[3] == GOOD for r in c.rows)


async def test_stall_past_the_timeout_loses_the_link_of_that_device_only(
    sim: PlantSimulator,
) -> None:
    config = pointed_at(sim.modbus_port or 0, retries=0)
    c = Collected(config)
    stalled = device_tags(config, "plc-process")
    others = device_tags(config, "plc-liftstation")
    async with c.running():
        await wait_for(lambda: stalled <= set(c.latest()) and others <= set(c.latest()))
        sim.faults.stall("plc-process", 2)
        await wait_for(lambda: c.pollers[0].health.state == "down", 5)
        n_other = len([r for r in c.rows if c.names[r[1]] in others])
        await asyncio.sleep(1.0)
        # The liftstation, on the same server, kept being read meanwhile.
        assert len([r for r in c.rows if c.names[r[1]] in others]) > n_other
        sim.faults.clear("stall")
        await wait_for(lambda: c.pollers[0].health.state == "up", 15)
        await wait_for(lambda: all(c.of(n)[-1][3] == GOOD for n in stalled), 5)
    for name in stalled:
        statuses = [r[3] for r in c.of(name)]
        assert statuses.count(BAD_COMMUNICATION_ERROR) == 1, name
    assert c.pollers[0].health.timeouts >= 1
    assert all(r[3] == GOOD for r in c.rows if c.names[r[1]] in others)


async def test_exception_answers_mark_tags_bad_while_the_link_stays_up(
    sim: PlantSimulator,
) -> None:
    config = pointed_at(sim.modbus_port or 0)
    c = Collected(config)
    lift = device_tags(config, "plc-liftstation")
    poller = next(p for p in c.pollers if p.device.name == "plc-liftstation")
    async with c.running():
        await wait_for(lambda: lift <= set(c.latest()))
        sim.faults.exception("plc-liftstation", "busy")
        await wait_for(lambda: poller.health.exception_answers >= 8)
        assert poller.health.state == "up"
        sim.faults.clear("exception")
        await wait_for(lambda: all(c.of(n)[-1][3] == GOOD for n in lift), 5)
    for name in lift:
        statuses = [r[3] for r in c.of(name)]
        # Several polls answered with exceptions, stored once.
        assert statuses.count(BAD_DEVICE_FAILURE) == 1, name
        bad = next(r for r in c.of(name) if r[3] == BAD_DEVICE_FAILURE)
        assert bad[2] is None
    assert poller.health.links_lost == 0


async def test_faults_through_the_whole_service_every_reading_stored_once(
    sim: PlantSimulator, db_url: str, tmp_path
) -> None:
    import psycopg

    from ingest.service import IngestService, spool_path
    from ingest.spool import Spool
    from ingest.writer import Writer
    from sitefile.models import IngestOptions

    config = pointed_at(sim.modbus_port or 0).model_copy(
        update={"ingest": IngestOptions(flush_interval_s=0.1, health_interval_s=0.5)}
    )
    writer = Writer(db_url, Spool(spool_path(tmp_path, "demo-wwtp"), 10**9), config.ingest)
    taken: list = []
    submit = writer.submit

    def record(rows) -> None:
        taken.extend(rows)
        submit(rows)

    writer.submit = record  # type: ignore[method-assign]
    async with IngestService(config, db_url, tmp_path, writer=writer) as service:
        await wait_for(lambda: writer.stats.rows_committed >= 20, 10)
        sim.faults.add("drop:modbus")
        await wait_for(lambda: all(p.health.connects >= 2 for p in service.pollers), 15)
        sim.faults.exception("plc-liftstation", "device_failure")
        await asyncio.sleep(0.6)
        sim.faults.clear("exception")
        sim.advance(30)  # the plant moves on: new values to store
        await wait_for(lambda: all(p.health.state == "up" for p in service.pollers), 10)
        await asyncio.sleep(0.6)
    with psycopg.connect(db_url) as conn:
        stored = conn.execute(
            "SELECT time, tag_id, value, status, server_time FROM readings ORDER BY time, tag_id"
        ).fetchall()
        devices = conn.execute(
            "SELECT count(*) FROM events WHERE kind = 'device' AND ended_at IS NOT NULL"
        ).fetchone()
    assert len(stored) == len(taken)
    assert stored == sorted(taken, key=lambda r: (r[0], r[1]))
    statuses = {r[3] for r in stored}
    assert {GOOD, BAD_COMMUNICATION_ERROR, BAD_DEVICE_FAILURE} <= statuses
    assert devices is not None and devices[0] >= 3  # each device lost and back
