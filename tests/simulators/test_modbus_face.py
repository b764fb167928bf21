"""The Modbus face read by Debian's mbpoll (and pymodbus' client for connection faults)."""

from __future__ import annotations

import asyncio

import pytest
from pymodbus.client import AsyncModbusTcpClient

from simulators.runtime import PlantSimulator
from tests.simulators.clients import mbpoll, reference_decode

_KIND = {"coil": "0", "discrete": "1", "input": "3", "holding": "4"}


async def read_device_memory(sim: PlantSimulator, unit: int) -> dict[str, list[int]]:
    """Every word/bit of one device, read with mbpoll."""
    assert sim.modbus_port
    memory: dict[str, list[int]] = {}
    for area, cells in sim._images[unit].areas.items():
        if not cells:
            continue
        kind = _KIND[area] + (":hex" if area in ("input", "holding") else "")
        rc, values, out = await mbpoll(sim.modbus_port, unit, kind, 0, len(cells))
        assert rc == 0, out
        memory[area] = [int(values[a], 0) for a in range(len(cells))]
    return memory


async def test_mbpoll_reads_every_mapped_point_as_the_map_says(modbus_sim: PlantSimulator):
    sim = modbus_sim
    sim.advance(3 * 3600)  # away from the start values
    checked = 0
    for device in sim.plant_map.devices:
        memory = await read_device_memory(sim, device.unit_id)
        for tag in sim.plant_map.modbus_tags(device.name):
            p = tag.modbus
            assert p is not None
            if p.kind in ("coil", "discrete"):
                got = bool(memory[p.kind][p.address])
            else:
                words = memory[p.kind][p.address : p.address + p.count]
                got = reference_decode(words, p.type, p.word_order, p.scale, p.offset)
            assert got == sim.value(tag.name), tag.name
            model = sim.model_value(tag.name)
            if isinstance(model, bool):
                assert got is model
            elif p.type in ("float32",):
                assert got == pytest.approx(model, rel=1e-6), tag.name
            elif p.type != "float64":
                assert abs(got - model) <= p.scale / 2 + 1e-9, tag.name
            else:
                assert got == model
            checked += 1
    assert checked == len(sim.plant_map.tags)


async def test_mbpoll_typed_reads_agree_for_both_word_orders(modbus_sim: PlantSimulator):
    """mbpoll's own 32-bit decoding: -B is ABCD, its default is CDAB (word-swapped)."""
    sim = modbus_sim
    assert sim.modbus_port
    seen = set()
    for tag in sim.plant_map.tags:
        p = tag.modbus
        if p is None or p.type not in ("float32", "uint32") or p.word_order not in ("ABCD", "CDAB"):
            continue
        unit = sim.plant_map.device(p.device).unit_id
        kind = _KIND[p.kind] + (":float" if p.type == "float32" else ":int")
        extra = ["-B"] if p.word_order == "ABCD" else []
        rc, values, out = await mbpoll(sim.modbus_port, unit, kind, p.address, 1, *extra)
        assert rc == 0, out
        raw = float(values[p.address])
        shown = sim.value(tag.name)
        assert isinstance(shown, float | int)
        # mbpoll prints six significant digits.
        assert raw * p.scale + p.offset == pytest.approx(shown, rel=1e-5), tag.name
        seen.add((p.type, p.word_order))
    assert seen == {
        ("float32", "ABCD"),
        ("float32", "CDAB"),
        ("uint32", "ABCD"),
        ("uint32", "CDAB"),
    }


async def test_exception_faults_answer_per_device(modbus_sim: PlantSimulator):
    sim = modbus_sim
    assert sim.modbus_port
    sim.faults.exception("plc-liftstation", "busy")
    sim.faults.exception("plc-disinfection", "illegal_address")
    rc, _, out = await mbpoll(sim.modbus_port, 2, "4", 0, 1)
    assert rc != 0 and "busy" in out.lower()
    rc, _, out = await mbpoll(sim.modbus_port, 3, "4", 0, 1)
    assert rc != 0 and "illegal data address" in out.lower()
    rc, values, out = await mbpoll(sim.modbus_port, 1, "4", 0, 1)
    assert rc == 0 and 0 in values, out
    sim.faults.clear("exception")
    rc, _, out = await mbpoll(sim.modbus_port, 2, "4", 0, 1)
    assert rc == 0, out


async def test_stall_makes_one_device_answer_past_the_timeout(modbus_sim: PlantSimulator):
    sim = modbus_sim
    assert sim.modbus_port
    sim.faults.stall("plc-process", 1.5)
    rc, values, out = await mbpoll(sim.modbus_port, 1, "4", 0, 1)
    assert rc != 0 and not values, out
    rc, values, out = await mbpoll(sim.modbus_port, 2, "4", 0, 1)
    assert rc == 0 and values, out


async def test_reads_past_the_memory_unknown_units_and_writes_are_refused(
    modbus_sim: PlantSimulator,
):
    sim = modbus_sim
    assert sim.modbus_port
    size = len(sim._images[1].areas["holding"])
    rc, _, out = await mbpoll(sim.modbus_port, 1, "4", size - 1, 2)
    assert rc != 0 and "illegal data address" in out.lower()
    rc, _, out = await mbpoll(sim.modbus_port, 9, "4", 0, 1)
    assert rc != 0 and "target device failed to respond" in out.lower()
    client = AsyncModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=2, retries=0)
    await client.connect()
    try:
        rr = await client.write_register(0, 1, device_id=1)
        assert rr.isError() and rr.exception_code == 1  # ILLEGAL FUNCTION: read-only plant
    finally:
        client.close()


async def test_values_follow_the_plant_clock(modbus_sim: PlantSimulator):
    sim = modbus_sim
    assert sim.modbus_port
    _, before, _ = await mbpoll(sim.modbus_port, 1, "4:float", 0, 1, "-B")
    sim.advance(1800)
    _, after, _ = await mbpoll(sim.modbus_port, 1, "4:float", 0, 1, "-B")
    assert before[0] != after[0]
    assert float(after[0]) == pytest.approx(sim.value("influent.flow"), rel=1e-5)


async def test_drop_closes_client_connections(modbus_sim: PlantSimulator):
    sim = modbus_sim
    assert sim.modbus_port
    client = AsyncModbusTcpClient(
        "127.0.0.1", port=sim.modbus_port, timeout=2, retries=0, reconnect_delay=0
    )
    await client.connect()
    try:
        rr = await client.read_holding_registers(0, count=2, device_id=1)
        assert not rr.isError()
        assert sim.modbus_connections == 1
        assert sim.drop_modbus_connections() == 1
        for _ in range(50):
            if not client.connected:
                break
            await asyncio.sleep(0.02)
        assert not client.connected
        assert sim.modbus_connections == 0
    finally:
        client.close()


async def test_periodic_drop_fault_keeps_dropping():
    async with PlantSimulator(
        speed=0, modbus_port=0, opcua=False, faults=["drop:modbus=0.2"], tick_s=0.05
    ) as sim:
        assert sim.modbus_port
        for _ in range(2):
            client = AsyncModbusTcpClient(
                "127.0.0.1", port=sim.modbus_port, timeout=2, retries=0, reconnect_delay=0
            )
            await client.connect()
            assert client.connected
            await asyncio.sleep(0.5)
            assert not client.connected
            client.close()
