"""The OPC UA face browsed and read by node-opcua (not asyncua), and faults seen by a client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio
from asyncua import Client, ua
from pymodbus.client import AsyncModbusTcpClient

from simulators.runtime import PlantSimulator
from tests.simulators.clients import node_opcua
from tests.simulators.conftest import START

AREAS = {"Influent", "Aeration", "Effluent", "LiftStation", "Disinfection"}

# asyncua takes ~3 s to build its standard address space, so the tests of this
# module share one simulator (and one event loop); each test leaves no faults.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_sim(sim_data_dir: Path) -> AsyncIterator[PlantSimulator]:
    async with PlantSimulator(
        seed=7, speed=0, start=START, modbus_port=0, opcua_port=0, data_dir=sim_data_dir
    ) as sim:
        yield sim


@pytest_asyncio.fixture(loop_scope="module")
async def full_sim(shared_sim: PlantSimulator) -> AsyncIterator[PlantSimulator]:
    yield shared_sim
    shared_sim.faults.clear()
    await shared_sim.sync()


async def test_node_opcua_browses_folders_and_reads_every_tag(
    full_sim: PlantSimulator, tmp_path: Path
):
    sim = full_sim
    sim.advance(5 * 3600)
    await sim.sync()
    doc = await node_opcua(endpoint=sim.opcua_endpoint, pki=str(tmp_path / "pki"))
    assert doc["exit_code"] == 0, doc
    tree = {e["path"]: e for e in doc["tree"]}
    site = sim.plant_map.site.name
    assert {p.split("/")[1] for p in tree if p.count("/") == 1} == AREAS
    assert all(tree[f"{site}/{a}"]["nodeClass"] == "Object" for a in AREAS)
    variables = doc["variables"]
    assert len(variables) == len(sim.plant_map.tags)
    for tag in sim.plant_map.tags:
        assert tag.opcua is not None
        got = variables[tag.opcua.node_id]
        shown = sim.published(tag.name)
        assert got["value"] == shown.value, tag.name
        assert got["statusName"] == "Good"
        assert datetime.fromisoformat(got["sourceTimestamp"]) == shown.source_time.replace(
            microsecond=shown.source_time.microsecond // 1000 * 1000
        )
        if isinstance(shown.value, bool):
            assert "EURange" not in got
        else:
            lo, hi = tag.eng_range or (
                sim.model.variables[tag.name].lo,
                sim.model.variables[tag.name].hi,
            )
            assert got["EURange"] == {"low": lo, "high": hi}, tag.name
            assert got["EngineeringUnits"]["displayName"] == tag.unit
    flow = variables["ns=2;s=Influent.Flow"]
    assert flow["path"] == f"{site}/Influent/Flow"
    assert flow["EngineeringUnits"]["unitId"] == int.from_bytes(b"MQH", "big")


@pytest.mark.parametrize("mode", ["SignAndEncrypt", "Sign"])
async def test_node_opcua_reads_over_basic256sha256_with_username(
    full_sim: PlantSimulator, tmp_path: Path, mode: str
):
    sim = full_sim
    sim.faults.status("effluent.turbidity", "BadSensorFailure")
    sim.faults.status("aeration.do", "uncertain")
    await sim.sync()
    ids = [t.opcua.node_id for t in sim.plant_map.tags if t.opcua]
    doc = await node_opcua(
        endpoint=sim.opcua_endpoint,
        mode=mode,
        policy="Basic256Sha256",
        user="operator",
        password="operator",
        browse=False,
        read=ids,
        pki=str(tmp_path / "pki"),
    )
    assert doc["exit_code"] == 0, doc
    read = doc["read"]
    for tag in sim.plant_map.tags:
        assert tag.opcua is not None
        if tag.name == "effluent.turbidity":
            # A Bad status carries no value (OPC UA Part 4, 7.7.1).
            assert read[tag.opcua.node_id]["statusName"] == "BadSensorFailure"
            assert read[tag.opcua.node_id]["value"] is None
            continue
        assert read[tag.opcua.node_id]["value"] == sim.value(tag.name)
    assert read["ns=2;s=Aeration.DO"]["statusName"] == "Uncertain"
    assert read["ns=2;s=Influent.Flow"]["statusName"] == "Good"


async def test_node_opcua_wrong_password_is_refused(full_sim: PlantSimulator, tmp_path: Path):
    doc = await node_opcua(
        endpoint=full_sim.opcua_endpoint,
        mode="SignAndEncrypt",
        policy="Basic256Sha256",
        user="operator",
        password="nope",
        browse=False,
        read=["ns=2;s=Influent.Flow"],
        pki=str(tmp_path / "pki"),
    )
    assert doc["exit_code"] != 0
    assert "BadUserAccessDenied" in doc["error"]


async def test_same_value_on_both_faces(full_sim: PlantSimulator):
    sim = full_sim
    sim.advance(777)
    await sim.sync()
    modbus = AsyncModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=2, retries=0)
    await modbus.connect()
    try:
        async with Client(sim.opcua_endpoint) as ua_client:
            rr = await modbus.read_holding_registers(0, count=2, device_id=1)
            via_modbus = modbus.convert_from_registers(rr.registers, modbus.DATATYPE.FLOAT32)
            via_opcua = await ua_client.get_node("ns=2;s=Influent.Flow").read_value()
            assert via_modbus == via_opcua == sim.value("influent.flow")
            rr = await modbus.read_holding_registers(4, count=4, device_id=3)
            words = rr.registers
            via_modbus = modbus.convert_from_registers(words[::-1], modbus.DATATYPE.FLOAT64)
            node = ua_client.get_node("ns=2;s=Disinfection.Chlorine.Residual")
            assert via_modbus == await node.read_value() == sim.value("disinfection.cl2.residual")
    finally:
        modbus.close()


async def test_status_faults_and_out_of_range(full_sim: PlantSimulator):
    sim = full_sim
    async with Client(sim.opcua_endpoint) as client:
        flow = client.get_node("ns=2;s=Influent.Flow")
        do = client.get_node("ns=2;s=Aeration.DO")
        sim.faults.status("influent.flow", "bad")
        sim.faults.status("aeration.do", "UncertainLastUsableValue")
        await sim.sync()
        dv = await flow.read_data_value(raise_on_bad_status=False)
        assert dv.StatusCode is not None and dv.StatusCode.is_bad()
        dv = await do.read_data_value(raise_on_bad_status=False)
        assert dv.StatusCode is not None and dv.StatusCode.is_uncertain()
        sim.faults.clear("status")
        sim.faults.out_of_range("influent.flow")
        await sim.sync()
        dv = await flow.read_data_value()
        assert dv.StatusCode is not None and dv.StatusCode.is_good()
        # A quarter span above its range, 0-2500 m3/h.
        assert dv.Value.Value == sim.value("influent.flow") == 3125.0


async def test_restart_drops_sessions_and_comes_back_on_the_same_port(full_sim: PlantSimulator):
    sim = full_sim
    endpoint = sim.opcua_endpoint
    assert endpoint
    client = Client(endpoint, timeout=2)
    await client.connect()
    try:
        await sim.restart_opcua()
        with pytest.raises((ConnectionError, ua.UaError, asyncio.TimeoutError)):
            await client.get_node("ns=2;s=Influent.Flow").read_value()
    finally:
        try:
            await client.disconnect()
        except Exception:
            pass
    assert sim.opcua_endpoint == endpoint
    async with Client(endpoint) as again:
        assert await again.get_node("ns=2;s=Influent.Flow").read_value() == sim.value(
            "influent.flow"
        )


async def test_anonymous_can_be_refused(sim_data_dir: Path):
    async with PlantSimulator(
        speed=0,
        modbus=False,
        opcua_port=0,
        data_dir=sim_data_dir,
        allow_anonymous=False,
        users={"alice": "s3cret"},
    ) as sim:
        assert sim.opcua_endpoint
        with pytest.raises(ua.UaError):
            async with Client(sim.opcua_endpoint) as client:
                await client.get_node("ns=2;s=Influent.Flow").read_value()
        client = Client(sim.opcua_endpoint)
        client.set_user("alice")
        client.set_password("s3cret")
        async with client:
            assert await client.get_node("ns=2;s=Influent.Flow").read_value() == sim.value(
                "influent.flow"
            )
