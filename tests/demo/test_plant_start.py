"""The demo's plant starts without an alarm of its own making: the collectors start once
the simulator listens on both faces, so neither a communication alarm nor a bad reading
is recorded at start (it used to raise "OPC UA server scada not answering" every time)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import psycopg

from clearwell.settings import Settings
from demo.steps import collect
from simulators.address_map import DEFAULT_MAP
from simulators.runtime import PlantSimulator
from sitefile.load import load_config
from sitefile.models import OpcuaSection, SiteConfig
from tests.support.pg_cluster import free_port


def demo_site(modbus_port: int, opcua_port: int) -> SiteConfig:
    """The demo's site file with the simulator on these ports."""
    config = load_config(DEFAULT_MAP)
    devices = [d.model_copy(update={"port": modbus_port}) for d in config.modbus.devices]
    endpoint = f"opc.tcp://127.0.0.1:{opcua_port}/clearwell/"
    servers = [s.model_copy(update={"endpoint": endpoint}) for s in config.opcua.servers]
    return config.model_copy(
        update={
            "modbus": config.modbus.model_copy(update={"devices": devices}),
            "opcua": OpcuaSection(servers=servers),
        }
    )


def counts(db_url: str) -> tuple[int, int, int]:
    """Readings of the OPC UA tags, readings of any bad quality, events of any kind."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM readings r JOIN tags t ON t.id = r.tag_id"
            " WHERE t.source_protocol = 'opcua'),"
            " (SELECT count(*) FROM readings WHERE status <> 0),"
            " (SELECT count(*) FROM events)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


async def test_the_demo_plant_starts_without_an_alarm(db_url: str, tmp_path: Path) -> None:
    modbus_port, opcua_port = free_port(), free_port()
    settings = Settings(database_url=db_url, data_dir=tmp_path)
    simulator = PlantSimulator(
        modbus_port=modbus_port, opcua_port=opcua_port, data_dir=tmp_path / "simulator"
    )
    task = asyncio.create_task(collect(settings, demo_site(modbus_port, opcua_port), simulator))
    try:
        for _ in range(600):
            await asyncio.sleep(0.1)
            assert not task.done(), task
            opcua, _, _ = await asyncio.to_thread(counts, db_url)
            if opcua >= 2:
                break
        await asyncio.sleep(2)  # a few more collection cycles
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    opcua, bad, events = counts(db_url)
    assert opcua >= 2
    assert (bad, events) == (0, 0)
