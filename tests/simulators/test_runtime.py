"""The running simulator: its clock, faults on values, the admin endpoint, its Python API."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from clearwell.errors import ClearwellError
from simulators.address_map import parse_map
from simulators.runtime import PlantSimulator, parse_users
from tests.simulators.clients import mbpoll
from tests.simulators.conftest import START


async def test_clock_runs_at_speed():
    loop = asyncio.get_running_loop()
    async with PlantSimulator(
        speed=3600, start=START, modbus_port=0, opcua=False, tick_s=0.01
    ) as sim:
        began = loop.time()  # the clock starts after this, when the test first waits
        await asyncio.sleep(0.5)
        ran = loop.time() - began
        elapsed = (sim.time - START).total_seconds()
    # An hour a second: 30 minutes in the half second, never more than speed x the time
    # it ran, and less only by the lag of the last tick (0.01 s, or a busy machine's pause).
    assert 3600 * (ran - 0.1) <= elapsed <= 3600 * ran + 1e-3


async def test_speed_zero_holds_the_clock_and_advance_moves_it(modbus_sim: PlantSimulator):
    await asyncio.sleep(0.3)
    assert modbus_sim.time == START
    modbus_sim.advance(90)
    assert modbus_sim.time == START + timedelta(seconds=90)


async def test_same_seed_same_values_through_the_faces():
    async def run() -> dict[str, object]:
        async with PlantSimulator(seed=3, speed=0, start=START, modbus_port=0, opcua=False) as sim:
            sim.advance(4000)
            return {name: pub.value for name, pub in sim.snapshot().items()}

    assert await run() == await run()


async def test_freeze_holds_a_value_while_the_plant_moves(modbus_sim: PlantSimulator):
    sim = modbus_sim
    before = sim.value("influent.flow")
    sim.faults.freeze("influent.flow")
    sim.advance(1800)
    assert sim.value("influent.flow") == before
    assert sim.model_value("influent.flow") != pytest.approx(before)
    _, values, _ = await mbpoll(sim.modbus_port or 0, 1, "4:float", 0, 1, "-B")
    assert float(values[0]) == pytest.approx(before, rel=1e-5)
    sim.faults.clear("freeze", "influent.flow")
    assert sim.value("influent.flow") == pytest.approx(sim.model_value("influent.flow"), rel=1e-6)


async def test_out_of_range_and_override_reach_the_registers(modbus_sim: PlantSimulator):
    sim = modbus_sim
    sim.faults.out_of_range("liftstation.wetwell.level")  # int16 x0.001, range 0..5 m
    assert sim.value("liftstation.wetwell.level") == pytest.approx(6.25)
    sim.faults.out_of_range("aeration.mlss", "low")  # uint16: a PLC clamps at 0
    assert sim.value("aeration.mlss") == 0
    sim.faults.override("liftstation.pump1.running", True)
    _, values, out = await mbpoll(sim.modbus_port or 0, 2, "0", 0, 1)
    assert values[0] == "1", out
    _, values, out = await mbpoll(sim.modbus_port or 0, 2, "4", 0, 1)
    assert int(values[0]) == 6250, out


async def test_faults_given_at_start_are_in_force():
    async with PlantSimulator(
        speed=0, modbus_port=0, opcua=False, faults=["exception:plc-process=device_failure"]
    ) as sim:
        assert sim.faults.describe() == ["exception:plc-process=device_failure"]
        rc, _, out = await mbpoll(sim.modbus_port or 0, 1, "4", 0, 1)
        assert rc != 0 and "failure" in out.lower()


async def test_admin_endpoint_sets_lists_and_clears_faults():
    async with PlantSimulator(
        speed=0, start=START, modbus_port=0, opcua=False, admin_port=0
    ) as sim:
        base = f"http://127.0.0.1:{sim.admin_port}"
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            r = await http.post("/faults", json={"fault": "exception:plc-liftstation=busy"})
            assert r.status_code == 200, r.text
            assert r.json()["faults"] == ["exception:plc-liftstation=busy"]
            rc, _, out = await mbpoll(sim.modbus_port or 0, 2, "4", 0, 1)
            assert rc != 0 and "busy" in out.lower()

            r = await http.post("/faults", json={"fault": "freeze:no.such.tag"})
            assert r.status_code == 400 and "no tag named 'no.such.tag'" in r.json()["error"]
            r = await http.post("/faults", content=b"{not json")
            assert r.status_code == 400

            r = await http.get("/tags/influent.flow")
            assert r.status_code == 200
            assert r.json()["value"] == sim.value("influent.flow")
            assert r.json()["source_time"] == START.isoformat()
            assert (await http.get("/tags/nope")).status_code == 404
            status = (await http.get("/status")).json()
            assert status["modbus_port"] == sim.modbus_port and status["speed"] == 0

            r = await http.delete("/faults", params={"kind": "exception"})
            assert r.json() == {"cleared": ["exception:plc-liftstation=busy"], "faults": []}
            rc, _, out = await mbpoll(sim.modbus_port or 0, 2, "4", 0, 1)
            assert rc == 0, out
            r = await http.post("/faults", json={"fault": "drop:modbus"})
            assert r.status_code == 200 and r.json()["faults"] == []


def test_a_map_tag_the_model_lacks_is_refused():
    text = """\
site: {code: x, name: X}
modbus:
  devices: [{name: plc, host: 127.0.0.1, port: 5020, unit_id: 1}]
tags:
  - {name: influent.flow, unit: m3/h, source: modbus,
     modbus: {device: plc, register: holding, address: 0, type: float32}}
  - {name: influent.colour, unit: "", source: modbus,
     modbus: {device: plc, register: holding, address: 2, type: int16}}
"""
    with pytest.raises(
        ClearwellError, match=r"x\.yaml:7: tags\[1\]\.name: unknown tag 'influent\.colour'"
    ):
        PlantSimulator(plant_map=parse_map(text, "x.yaml"))


async def test_port_in_use_is_reported_with_the_port(sim_data_dir: Path):
    async with PlantSimulator(speed=0, modbus_port=0, opcua=False) as first:
        port = first.modbus_port
        assert port
        with pytest.raises(ClearwellError, match=rf"port {port} is in use"):
            async with PlantSimulator(speed=0, modbus_port=port, opcua=False):
                pass


@pytest.mark.parametrize(("specs", "users"), [(["a:b", "c:d:e"], {"a": "b", "c": "d:e"})])
def test_users_parse(specs, users):
    assert parse_users(specs) == users


@pytest.mark.parametrize("bad", ["nopassword", ":x", "x:"])
def test_bad_users_are_refused(bad):
    with pytest.raises(ClearwellError, match="expected NAME:PASSWORD"):
        parse_users([bad])
