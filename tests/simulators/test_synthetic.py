"""Synthetic load-test plants: the sizes the collector benchmarks need, served by the same faces."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pymodbus.client import AsyncModbusTcpClient

from simulators.address_map import parse_map
from simulators.registers import decode
from simulators.runtime import PlantSimulator
from simulators.synthetic import dump_map, parse_size, synthetic_plant

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_issue4_size_is_a_valid_map_with_every_tag_changing_each_second():
    plant_map, model = synthetic_plant(10, 200, start=START)
    assert len(plant_map.tags) == 2000 and len(plant_map.devices) == 10
    assert {d.unit_id for d in plant_map.devices} == set(range(1, 11))
    # Dumping and parsing runs every check of the loader: names, overlaps, references.
    again = parse_map(dump_map(plant_map), "synthetic.yaml", known_tags=model.variables)
    assert [t.modbus for t in again.tags] == [t.modbus for t in plant_map.tags]
    before = model.values()
    model.step(1.0)
    after = model.values()
    assert all(before[n] != after[n] for n in before)
    model.step(0.4)
    assert model.values() == after  # values change on whole plant seconds only


def test_issue5_size_has_5000_distinct_node_ids():
    plant_map, _ = synthetic_plant(10, 500)
    ids = {t.opcua.node_id for t in plant_map.tags if t.opcua}
    assert len(ids) == 5000


@pytest.mark.parametrize(("text", "size"), [("10x200", (10, 200)), (" 1x5 ", (1, 5))])
def test_parse_size(text, size):
    assert parse_size(text) == size


async def test_served_registers_decode_to_the_published_values():
    plant_map, model = synthetic_plant(10, 200, start=START)
    async with PlantSimulator(
        plant_map=plant_map, model=model, speed=0, modbus_port=0, opcua=False
    ) as sim:
        sim.advance(12.0)
        client = AsyncModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=3, retries=0)
        await client.connect()
        try:
            rr = await client.read_holding_registers(0, count=125, device_id=10)
            assert not rr.isError()
            checked = 0
            for tag in sim.plant_map.modbus_tags("dev10"):
                p = tag.modbus
                assert p is not None
                if p.address + p.count > 125:
                    continue
                words = rr.registers[p.address : p.address + p.count]
                got = decode(words, p.type, p.word_order, p.scale, p.offset)
                assert got == sim.value(tag.name)
                checked += 1
            # The pattern's 4 tags take 7 registers: 17 rounds and 3 tags in the first 125.
            assert checked == 71
        finally:
            client.close()
