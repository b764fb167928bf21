"""The address map: the demo map is complete and valid; bad maps fail naming file, line, field."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from simulators.address_map import DEFAULT_MAP, MapError, load_map, parse_map
from simulators.model.plant import VARIABLES
from simulators.synthetic import dump_map

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
        source: modbus
        modbus: {device: plc1, register: holding, address: 2, type: float32, word_order: CDAB}
        opcua: {server: scada, node_id: "ns=2;s=Aeration.DO"}
    """
)


def with_tag(extra: str) -> str:
    return BASE + textwrap.indent(textwrap.dedent(extra), "  ")


def test_demo_map_covers_the_model_and_is_valid():
    plant_map = load_map(DEFAULT_MAP, known_tags=MODEL_TAGS)
    assert sorted(t.name for t in plant_map.tags) == sorted(MODEL_TAGS)
    assert [d.unit_id for d in plant_map.devices] == [1, 2, 3]
    process = plant_map.modbus_tags("plc-process")
    assert min(t.modbus.address for t in process if t.modbus.register == "holding") == 0
    kinds = {(t.modbus.register, t.modbus.type, t.modbus.word_order) for t in plant_map.tags}
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


def test_a_valid_map_parses_into_its_parts():
    m = parse_map(BASE, "t.yaml")
    flow = m.tag("influent.flow")
    assert flow.eng_range == (0.0, 2000.0)
    assert flow.modbus.count == 2 and flow.modbus.word_order == "ABCD"
    assert flow.opcua.namespace == 2 and flow.opcua.identifier == "Influent.Flow"
    assert flow.line == 10
    assert m.device("plc2").unit_id == 2 and m.device("plc2").timeout_s == 1.0
    assert m.server("scada").security_policy == "None"


def test_dumped_map_parses_back_identically():
    m = load_map(DEFAULT_MAP)
    again = parse_map(dump_map(m), "dumped.yaml")
    assert [(t.name, t.modbus, t.opcua, t.eng_range) for t in again.tags] == [
        (t.name, t.modbus, t.opcua, t.eng_range) for t in m.tags
    ]


# (description, map text, known tags or None, expected "line: field: message" fragment)
BAD = [
    (
        "unknown tag",
        with_tag("""\
        - name: mystery.tag
          unit: m
          source: modbus
          modbus: {device: plc2, register: holding, address: 0, type: int16}
        """),
        MODEL_TAGS,
        r"t\.yaml:21: tags\.mystery\.tag: unknown tag",
    ),
    (
        "overlapping registers",
        with_tag("""\
        - name: influent.ph
          unit: pH
          source: modbus
          modbus: {device: plc1, register: holding, address: 3, type: int16}
        """),
        None,
        r"t\.yaml:21: tags\.influent\.ph\.modbus\.address: holding 3\.\.3 on plc1 "
        r"overlaps aeration\.do \(line 16\)",
    ),
    (
        "duplicate tag",
        with_tag("""\
        - name: aeration.do
          unit: mg/L
          source: opcua
          opcua: {server: scada, node_id: "ns=2;s=X"}
        """),
        None,
        r"t\.yaml:21: tags\.aeration\.do\.name: duplicate tag name \(first on line 16\)",
    ),
    (
        "unknown device",
        with_tag("""\
        - name: a.b
          unit: m
          source: modbus
          modbus: {device: plc9, register: holding, address: 9, type: int16}
        """),
        None,
        r"t\.yaml:24: tags\.a\.b\.modbus\.device: no Modbus device named 'plc9'",
    ),
    (
        "bad type",
        with_tag("""\
        - name: a.b
          unit: m
          source: modbus
          modbus: {device: plc2, register: holding, address: 9, type: float16}
        """),
        None,
        r"t\.yaml:24: tags\.a\.b\.modbus\.type: expected a type, got 'float16': must be",
    ),
    (
        "coil with a float",
        with_tag("""\
        - name: a.b
          unit: ""
          source: modbus
          modbus: {device: plc2, register: coil, address: 0, type: float32}
        """),
        None,
        r"t\.yaml:24: tags\.a\.b\.modbus\.type: a coil holds one bit",
    ),
    (
        "unknown field",
        with_tag("""\
        - name: a.b
          unit: m
          sorce: modbus
        """),
        None,
        r"t\.yaml:23: tags\.a\.b\.sorce: unknown field",
    ),
    (
        "missing field",
        with_tag("""\
        - name: a.b
          source: opcua
          opcua: {server: scada, node_id: "ns=2;s=A.B"}
        """),
        None,
        r"t\.yaml:21: tags\.a\.b\.unit: required field missing",
    ),
    (
        "bad node id",
        with_tag("""\
        - name: a.b
          unit: m
          source: opcua
          opcua: {server: scada, node_id: "A.B"}
        """),
        None,
        r"t\.yaml:24: tags\.a\.b\.opcua\.node_id: expected a node id",
    ),
    (
        "duplicate node id",
        with_tag("""\
        - name: a.b
          unit: m
          source: opcua
          opcua: {server: scada, node_id: "ns=2;s=Aeration.DO"}
        """),
        None,
        r"t\.yaml:24: tags\.a\.b\.opcua\.node_id: node id ns=2;s=Aeration\.DO already",
    ),
    (
        "reversed range",
        with_tag("""\
        - name: a.b
          unit: m
          eng_range: [10, 0]
          source: opcua
          opcua: {server: scada, node_id: "ns=2;s=A.B"}
        """),
        None,
        r"t\.yaml:23: tags\.a\.b\.eng_range: low 10 must be below high 0",
    ),
    (
        "unordered limits",
        with_tag("""\
        - name: a.b
          unit: m
          limits: {lo: 5, hi: 1}
          source: opcua
          opcua: {server: scada, node_id: "ns=2;s=A.B"}
        """),
        None,
        r"t\.yaml:23: tags\.a\.b\.limits: limits must be ordered",
    ),
    (
        "string without length",
        with_tag("""\
        - name: a.b
          unit: ""
          source: modbus
          modbus: {device: plc2, register: holding, address: 0, type: string}
        """),
        None,
        r"t\.yaml:24: tags\.a\.b\.modbus\.length: a string point needs length",
    ),
    (
        "address past the end",
        with_tag("""\
        - name: a.b
          unit: ""
          source: modbus
          modbus: {device: plc2, register: holding, address: 65535, type: float32}
        """),
        None,
        r"t\.yaml:24: tags\.a\.b\.modbus\.address: 2 registers from 65535 run past",
    ),
    (
        "source without its point",
        with_tag("""\
        - name: a.b
          unit: ""
          source: modbus
          opcua: {server: scada, node_id: "ns=2;s=A.B"}
        """),
        None,
        r"t\.yaml:23: tags\.a\.b\.source: source is modbus but the tag has no modbus",
    ),
    (
        "zero scale",
        with_tag("""\
        - name: a.b
          unit: ""
          source: modbus
          modbus: {device: plc2, register: holding, address: 0, type: int16, scale: 0}
        """),
        None,
        r"t\.yaml:24: tags\.a\.b\.modbus\.scale: expected a number, got '0': must not",
    ),
    (
        "bad tag name",
        with_tag("""\
        - name: "-bad name"
          unit: ""
          source: opcua
          opcua: {server: scada, node_id: "ns=2;s=A.B"}
        """),
        None,
        r"t\.yaml:21: tags\[2\]\.name: expected a tag name",
    ),
    (
        "duplicate device",
        BASE.replace("name: plc2", "name: plc1"),
        None,
        r"t\.yaml:5: modbus\.devices\[1\]\.name: duplicate device name 'plc1'",
    ),
    (
        "same unit id twice",
        BASE.replace("unit_id: 2", "unit_id: 1"),
        None,
        r"t\.yaml:5: modbus\.devices\[1\]\.unit_id: another device already is 127\.0\.0\.1:5020 "
        r"unit 1",
    ),
    (
        "bad timezone",
        BASE.replace("America/Denver", "Mars/Olympus"),
        None,
        r"t\.yaml:1: site\.timezone: expected an IANA time zone",
    ),
    (
        "bad port",
        BASE.replace("port: 5020, unit_id: 2", "port: 70000, unit_id: 2"),
        None,
        r"t\.yaml:5: modbus\.devices\[1\]\.port: expected a port, got '70000': must be between",
    ),
    (
        "bad security mode",
        BASE.replace(
            "security_policy: None", "security_policy: Basic256Sha256, security_mode: None"
        ),
        None,
        r"t\.yaml:8: opcua\.servers\[0\]\.security_mode: mode None does not go with policy",
    ),
    ("not YAML", "tags: [unclosed\n", None, r"t\.yaml:2: not valid YAML"),
    ("empty", "", None, r"t\.yaml:1: the map is empty"),
    ("not a mapping", "- 1\n", None, r"t\.yaml:1: map: expected a mapping"),
    ("no site", "tags: []\n", None, r"t\.yaml:1: map\.site: required field missing"),
]


@pytest.mark.parametrize(
    ("text", "known", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_maps_are_refused_naming_file_line_and_field(text, known, expected):
    with pytest.raises(MapError) as info:
        parse_map(text, "t.yaml", known_tags=known)
    assert re.search(expected, str(info.value)), str(info.value)


def test_every_problem_is_reported_not_only_the_first():
    text = with_tag("""\
        - name: a.b
          unit: m
          source: modbus
          modbus: {device: plc9, register: holding, address: 0, type: int16}
        - name: c.d
          unit: m
          colour: red
          source: opcua
          opcua: {server: scada, node_id: "ns=2;s=C.D"}
        """)
    with pytest.raises(MapError) as info:
        parse_map(text, "t.yaml")
    assert len(info.value.problems) == 2
    assert "t.yaml:24:" in info.value.problems[0] and "t.yaml:27:" in info.value.problems[1]


def test_unreadable_file_names_the_path(tmp_path: Path):
    with pytest.raises(MapError, match=r"missing\.yaml: cannot read the address map"):
        load_map(tmp_path / "missing.yaml")
