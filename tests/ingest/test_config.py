"""The site configuration: the simulator's map is valid; bad input names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.config import SiteConfigError, load_config, parse_config
from simulators.address_map import DEFAULT_MAP

HEAD = """\
site: {code: demo, name: Demo, timezone: UTC}
modbus:
  devices:
    - {name: plc, host: 127.0.0.1, port: 5020, max_registers_per_request: 100}
opcua:
  servers:
    - {name: scada, endpoint: "opc.tcp://127.0.0.1:4840/"}
tags:
  - name: first
    modbus: {device: plc, register: holding, address: 10, type: float32}
"""  # the first tag is on lines 9-10


def test_simulator_map_is_a_valid_configuration() -> None:
    config = load_config(DEFAULT_MAP)
    assert config.site.code == "demo-wwtp"
    assert len(config.modbus.devices) >= 1
    flow = next(t for t in config.tags if t.name == "influent.flow")
    assert flow.modbus is not None and flow.modbus.kind == "holding"
    assert flow.modbus.address == 0 and flow.modbus.type == "float32"
    assert flow.limits.hi == 1500
    # Every Modbus tag names a device of the map.
    names = {d.name for d in config.modbus.devices}
    assert all(t.modbus.device in names for t in config.tags if t.modbus)


def test_defaults_and_keys() -> None:
    config = parse_config(HEAD)
    device = config.modbus.devices[0]
    assert (device.unit_id, device.timeout_s, device.gap_fill) == (1, 1.0, 10)
    tag = config.tags[0]
    assert tag.modbus is not None and tag.modbus.word_order == "ABCD" and tag.modbus.count == 2
    assert tag.key == "modbus:plc/holding/10"
    assert tag.address_text == "plc;holding;10"
    with_id = parse_config(HEAD + "    id: flow-1\n")
    assert with_id.tags[0].key == "id:flow-1"


@pytest.mark.parametrize(
    ("tail", "line", "field", "words"),
    [
        (
            "  - {name: x, modbus: {device: plc, register: holding, address: 0, type: float33}}\n",
            11,
            "tags[1].modbus.type",
            "float33",
        ),
        (
            "  - {name: x, modbus: {device: plc, register: holding, address: 11, type: int16}}\n",
            11,
            "tags[1].modbus.address",
            "overlaps tag 'first'",
        ),
        (
            "  - {name: x, modbus: {device: plc, register: input, address: 65535, type: int32}}\n",
            11,
            "tags[1].modbus.address",
            "runs past 65535",
        ),
        (
            "  - {name: x, modbus: {device: plc, register: input, address: 70000}}\n",
            11,
            "tags[1].modbus.address",
            "less than or equal to 65535",
        ),
        (
            "  - name: x\n    modbus:\n      device: plc\n      register: input\n"
            "      address: 0\n      type: string\n      length: 101\n",
            17,
            "tags[1].modbus.length",
            "more than one request",
        ),
        (
            "  - {name: x, modbus: {device: nope, register: input, address: 0}}\n",
            11,
            "tags[1].modbus.device",
            "no Modbus device named 'nope'",
        ),
        (
            "  - {name: first, modbus: {device: plc, register: input, address: 0}}\n",
            11,
            "tags[1].name",
            "duplicate tag 'first'",
        ),
        (
            "  - {name: x, modbus: {device: plc, register: coil, address: 0, type: int16}}\n",
            11,
            "tags[1].modbus",
            "type must be bool",
        ),
        (
            "  - name: x\n    limits: {lo: 5, hi: 1}\n"
            "    modbus: {device: plc, register: input, address: 0}\n",
            12,
            "tags[1].limits",
            "limits must increase",
        ),
        (
            "  - {name: 'bad name', modbus: {device: plc, register: input, address: 0}}\n",
            11,
            "tags[1].name",
            "pattern",
        ),
        (
            "  - {name: x, colour: red, modbus: {device: plc, register: input, address: 0}}\n",
            11,
            "tags[1].colour",
            "unknown field",
        ),
        ("  - {name: x, source: modbus}\n", 11, "tags[1]", "no modbus: section"),
    ],
)
def test_errors_name_file_line_and_field(tail: str, line: int, field: str, words: str) -> None:
    with pytest.raises(SiteConfigError) as info:
        parse_config(HEAD + tail, "site.yaml")
    message = str(info.value)
    assert f"site.yaml:{line}: {field}: " in message, message
    assert words in message, message


def test_all_problems_reported_at_once() -> None:
    tail = (
        "  - {name: x, modbus: {device: nope, register: input, address: 0}}\n"
        "  - {name: y, modbus: {device: plc, register: holding, address: 11}}\n"
    )
    with pytest.raises(SiteConfigError) as info:
        parse_config(HEAD + tail, "site.yaml")
    assert len(info.value.problems) == 2
    assert "2 problems in site.yaml" in str(info.value)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(HEAD + "  - {name: x, modbus: [unclosed\n")
    with pytest.raises(SiteConfigError, match=r"broken\.yaml:\d+: \(syntax\): not valid YAML"):
        load_config(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="cannot read the site configuration"):
        load_config(tmp_path / "nope.yaml")


def test_opcua_section_accepted_but_shape_checked() -> None:
    bad = HEAD.replace('endpoint: "opc.tcp://127.0.0.1:4840/"', 'endpoint: "http://x"')
    with pytest.raises(SiteConfigError, match=r"opcua\.servers\[0\]\.endpoint"):
        parse_config(bad, "site.yaml")
