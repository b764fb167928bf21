"""The address map: the demo map covers the model; what the simulator checks beyond the site file.

What any site file may not say is tested with the loader, in ``tests/sitefile``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from asyncua import Client

from simulators.address_map import DEFAULT_MAP, PlantMap, load_map, parse_map
from simulators.model.plant import VARIABLES
from simulators.opcua_face import NAMESPACE_URI
from simulators.runtime import PlantSimulator
from simulators.synthetic import dump_map
from sitefile.load import SiteConfigError

MODEL_TAGS = [v.name for v in VARIABLES]

BASE = textwrap.dedent(
    """\
    site: {code: t1, name: "Test", timezone: America/Denver}
    modbus:
      devices:
        - {name: plc1, host: 127.0.0.1, port: 5020, unit_id: 1}
        - {name: plc2, host: 127.0.0.1, port: 5020, unit_id: 2}
    opcua:
      servers:
        - {name: scada, endpoint: "opc.tcp://127.0.0.1:4840/x/", security_policy: None}
    tags:
      - name: influent.flow
        unit: m3/h
        eng_range: [0, 2000]
        source: modbus
        modbus: {device: plc1, register: holding, address: 0, type: float32}
        opcua: {server: scada, node_id: "ns=2;s=Influent.Flow"}
      - name: aeration.do
        unit: mg/L
        source: opcua
        modbus: {device: plc2, register: holding, address: 2, type: float32, word_order: CDAB}
        opcua: {server: scada, node_id: "ns=2;s=Aeration.DO"}
    """
)


def test_demo_map_covers_the_model_and_is_valid():
    plant_map = load_map(DEFAULT_MAP, known_tags=MODEL_TAGS)
    assert sorted(t.name for t in plant_map.tags) == sorted(MODEL_TAGS)
    assert [d.unit_id for d in plant_map.devices] == [1, 2, 3]
    process = plant_map.modbus_tags("plc-process")
    assert min(t.modbus.address for t in process if t.modbus.kind == "holding") == 0
    kinds = {(t.modbus.kind, t.modbus.type, t.modbus.word_order) for t in plant_map.tags}
    # The variety the collectors must handle, as real PLCs present it.
    for needed in [
        ("holding", "float32", "ABCD"),
        ("holding", "float32", "CDAB"),
        ("holding", "float64", "ABCD"),
        ("holding", "uint32", "ABCD"),
        ("holding", "uint32", "CDAB"),
        ("coil", "bool", "ABCD"),
        ("discrete", "bool", "ABCD"),
    ]:
        assert needed in kinds, needed
    assert any(t.modbus.type == "int16" and t.modbus.scale != 1 for t in plant_map.tags)
    assert all(t.opcua is not None for t in plant_map.tags)


def test_every_point_of_a_tag_is_served_whichever_its_collectors_read():
    m = parse_map(BASE, "t.yaml")
    do = m.tag("aeration.do")
    # Read over OPC UA by the collectors, its registers are served all the same.
    assert do.source == "opcua" and m.modbus_tags("plc2") == [do]
    assert m.config.modbus_tags("plc2") == []
    assert [t.name for t in m.opcua_tags("scada")] == ["influent.flow", "aeration.do"]
    assert m.device("plc2").unit_id == 2 and m.site.timezone == "America/Denver"
    problem = m.tag_problem("aeration.do", "not served", "opcua", "node_id")
    assert str(m.error([problem])) == "t.yaml:20: tags[1].opcua.node_id: not served"


def test_dumped_map_parses_back_identically():
    m = load_map(DEFAULT_MAP)
    again = parse_map(dump_map(m), "dumped.yaml")
    assert again.config == m.config


@pytest.mark.parametrize(
    ("text", "known", "expected"),
    [
        (
            BASE + "  - {name: mystery.tag, modbus: {device: plc2, register: input, address: 0}}\n",
            MODEL_TAGS,
            "t.yaml:21: tags[2].name: unknown tag 'mystery.tag': the simulator's model has no"
            " variable of that name",
        ),
        (
            BASE.replace("port: 5020, unit_id: 2", "port: 5021, unit_id: 1"),
            None,
            "t.yaml:5: modbus.devices[1].unit_id: unit id 1 is device 'plc1' already: the"
            " simulator answers for every unit id on one port",
        ),
    ],
    ids=["unknown tag", "same unit id twice"],
)
def test_what_the_simulator_cannot_serve_is_refused_naming_file_line_and_field(
    text, known, expected
):
    with pytest.raises(SiteConfigError) as info:
        parse_map(text, "t.yaml", known_tags=known)
    assert str(info.value) == expected


def one_tag_map(node_id: str) -> PlantMap:
    text = (
        "site: {code: t1, name: Test}\n"
        "opcua:\n  servers: [{name: scada, endpoint: 'opc.tcp://127.0.0.1:4840/'}]\n"
        "tags:\n  - name: influent.flow\n    source: opcua\n"
        f"    opcua: {{server: scada, node_id: '{node_id}'}}\n"
    )
    return parse_map(text, "t.yaml")


async def test_a_node_named_by_namespace_uri_is_served_in_the_simulators_namespace(
    sim_data_dir: Path,
):
    plant_map = one_tag_map(f"nsu={NAMESPACE_URI};s=Influent.Flow")
    async with PlantSimulator(
        plant_map=plant_map, speed=0, modbus=False, opcua_port=0, data_dir=sim_data_dir
    ) as sim:
        assert sim.opcua_endpoint
        async with Client(sim.opcua_endpoint) as client:
            node = client.get_node("ns=2;s=Influent.Flow")
            assert await node.read_value() == sim.value("influent.flow")


async def test_a_node_outside_the_simulators_namespace_is_refused_naming_its_line(
    sim_data_dir: Path,
):
    sim = PlantSimulator(
        plant_map=one_tag_map("ns=3;s=Influent.Flow"),
        speed=0,
        modbus=False,
        opcua_port=0,
        data_dir=sim_data_dir,
    )
    with pytest.raises(SiteConfigError) as info:
        await sim.start()
    assert str(info.value) == (
        "t.yaml:7: tags[0].opcua.node_id: namespace ns=3 is not served; the simulator's"
        f" namespace is ns=2 (nsu={NAMESPACE_URI})"
    )
