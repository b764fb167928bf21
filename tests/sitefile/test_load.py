"""The site file's loader: the demo plant's map is valid; bad input names file, line and field.

One table of what the loader refuses, for the collectors' configuration and the
simulator's map alike (they are one file).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.address_map import DEFAULT_MAP
from sitefile.checks import Problem
from sitefile.load import MAX_SHOWN, SiteConfigError, load_config, parse_config, parse_site_file
from sitefile.models import Tag
from tests.sitefile.texts import HEAD


def test_the_demo_plants_map_is_a_valid_site_file() -> None:
    config = load_config(DEFAULT_MAP)
    assert config.site.code == "demo-wwtp" and config.site.timezone == "America/Denver"
    assert len(config.modbus.devices) == 3
    flow = next(t for t in config.tags if t.name == "influent.flow")
    assert flow.modbus is not None and flow.modbus.kind == "holding"
    assert flow.modbus.address == 0 and flow.modbus.type == "float32"
    assert flow.limits.hi == 1500
    # Every Modbus tag names a device of the map.
    names = {d.name for d in config.modbus.devices}
    assert all(t.modbus.device in names for t in config.tags if t.modbus)
    (server,) = config.opcua.servers
    assert server.security_policy == "None" and server.mode == "None"
    # Every tag has its OPC UA point, checked like the Modbus one.
    assert all(t.opcua is not None and t.opcua.server == server.name for t in config.tags)
    assert all(t.opcua.node_id.startswith("ns=2;s=") for t in config.tags if t.opcua)
    assert config.permit is not None and config.permit["number"] == "UT0099999"


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
        (
            "  - {name: first, modbus: {device: plc, register: input, address: 0}}\n",
            11,
            "tags[1].name",
            "duplicate tag 'first' (first on line 9)",
        ),
        (
            "  - {unit: m, modbus: {device: plc, register: input, address: 0}}\n",
            11,
            "tags[1].name",
            "Field required",
        ),
        (
            "  - name: x\n    eng_range: [10, 0]\n"
            "    modbus: {device: plc, register: input, address: 0}\n",
            12,
            "tags[1].eng_range",
            "must be [low, high] with low < high, got [10.0, 0.0]",
        ),
        (
            "  - {name: x, modbus: {device: plc, register: input, address: 0, type: string}}\n",
            11,
            "tags[1].modbus",
            "a string needs length",
        ),
        (
            "  - {name: x, modbus: {device: plc, register: input, address: 0, scale: 0}}\n",
            11,
            "tags[1].modbus.scale",
            "scale must not be 0",
        ),
        # A long string covers the tags after it, not only the next one.
        (
            "  - {name: s, modbus: {device: plc, register: input, address: 0, type: string,"
            " length: 8}}\n"
            "  - {name: a, modbus: {device: plc, register: input, address: 2}}\n"
            "  - {name: b, modbus: {device: plc, register: input, address: 5}}\n",
            13,
            "tags[3].modbus.address",
            "overlaps tag 's' (plc input 0-7)",
        ),
        # Numbers are numbers: YAML's true, a quoted "5" and .nan are not.
        (
            "  - {name: x, modbus: {device: plc, register: input, address: true}}\n",
            11,
            "tags[1].modbus.address",
            "Input should be a valid integer",
        ),
        (
            "  - {name: x, modbus: {device: plc, register: input, address: '5'}}\n",
            11,
            "tags[1].modbus.address",
            "Input should be a valid integer",
        ),
        (
            "  - {name: x, modbus: {device: plc, register: input, address: 0, scale: .nan}}\n",
            11,
            "tags[1].modbus.scale",
            "finite number",
        ),
        # One limit for a tag's name, the database's: 128 characters.
        (
            "  - {name: " + "x" * 129 + ", modbus: {device: plc, register: input, address: 0}}\n",
            11,
            "tags[1].name",
            "pattern",
        ),
        (
            "  - {name: x, id: first, modbus: {device: plc, register: input, address: 0}}\n"
            "  - {name: y, id: first, modbus: {device: plc, register: input, address: 1}}\n",
            12,
            "tags[2].id",
            "same id as tag 'x' (first on line 11)",
        ),
        (
            "  - {name: x, name: y, modbus: {device: plc, register: input, address: 0}}\n",
            11,
            "tags[1].name",
            "given twice (first on line 11)",
        ),
    ],
)
def test_errors_name_file_line_and_field(tail: str, line: int, field: str, words: str) -> None:
    with pytest.raises(SiteConfigError) as info:
        parse_config(HEAD + tail, "site.yaml")
    message = str(info.value)
    assert f"site.yaml:{line}: {field}: " in message, message
    assert words in message, message


DEVICE = "    - {name: plc, host: 127.0.0.1, port: 5020, max_registers_per_request: 100}\n"


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("", None, "(top level)", "the file is empty"),
        ("- 1\n", 1, "(top level)", "expected a mapping"),
        ("tags: []\n", 1, "site", "Field required"),
        (HEAD.replace("timezone: UTC", "timezone: Mars/Olympus"), 1, "site.timezone", "Mars"),
        (HEAD.replace("code: demo", "code: Demo"), 1, "site.code", "pattern"),
        (HEAD.replace("port: 5020", "port: 70000"), 4, "modbus.devices[0].port", "65535"),
        (
            HEAD.replace(DEVICE, DEVICE + DEVICE),
            5,
            "modbus.devices[1].name",
            "duplicate device 'plc' (first on line 4)",
        ),
        (
            HEAD.replace("site: {", "site: {name: Other, "),
            1,
            "site.name",
            "given twice (first on line 1)",
        ),
    ],
)
def test_file_and_device_errors_name_line_and_field(
    text: str, line: int | None, field: str, words: str
) -> None:
    with pytest.raises(SiteConfigError) as info:
        parse_config(text, "site.yaml")
    message = str(info.value)
    where = f"site.yaml:{line}" if line else "site.yaml"
    assert f"{where}: {field}: " in message, message
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


def test_field_problems_of_several_tags_are_reported_at_once_in_file_order() -> None:
    tail = (
        "  - {name: x, colour: red, modbus: {device: plc, register: input, address: 0}}\n"
        "  - {name: y, modbus: {device: plc, register: input, address: 70000}}\n"
    )
    with pytest.raises(SiteConfigError) as info:
        parse_config(HEAD.replace("name: Demo", "name: Demo, name: Again") + tail, "site.yaml")
    assert [line for line, _, _ in info.value.problems] == [1, 11, 12]


def test_a_file_wrong_throughout_shows_the_first_problems_and_counts_the_rest() -> None:
    tail = "".join(
        f"  - {{name: t{i}, modbus: {{device: nope, register: input, address: {i}}}}}\n"
        for i in range(MAX_SHOWN + 5)
    )
    with pytest.raises(SiteConfigError) as info:
        parse_config(HEAD + tail, "site.yaml")
    assert len(info.value.problems) == MAX_SHOWN + 5
    message = str(info.value).splitlines()
    assert message[0] == f"{MAX_SHOWN + 5} problems in site.yaml:"
    assert len(message) == 1 + MAX_SHOWN + 1 and message[-1].strip() == "… and 5 more"


def test_a_readers_own_checks_are_reported_with_the_files() -> None:
    def no_first(config):
        return [Problem(("tags", 0, "name"), "first is reserved")]

    with pytest.raises(SiteConfigError) as info:
        parse_site_file(HEAD, "site.yaml", checks=[no_first])
    assert str(info.value) == "site.yaml:9: tags[0].name: first is reserved"
    site = parse_site_file(HEAD, "site.yaml")
    # Valid, it keeps its lines for the reader's later problems.
    assert site.lines[("tags", 0, "modbus")] == 10
    error = site.error([Problem(("tags", 0, "modbus", "scale"), "too coarse")])
    assert str(error) == "site.yaml:10: tags[0].modbus.scale: too coarse"


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(HEAD + "  - {name: x, modbus: [unclosed\n")
    with pytest.raises(SiteConfigError, match=r"broken\.yaml:\d+: \(syntax\): not valid YAML"):
        load_config(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="cannot read the site configuration"):
        load_config(tmp_path / "nope.yaml")


SERVER = '    - {name: scada, endpoint: "opc.tcp://127.0.0.1:4840/"}\n'


def opcua_case(server: str, tag: str = "") -> str:
    """HEAD with its server replaced: the server is on line 7, an added tag on line 11."""
    return HEAD.replace(SERVER, server) + tag


OPCUA_TAG = "  - {name: x, source: opcua, opcua: {server: scada, node_id: 'ns=2;s=X'%s}}\n"


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        (
            opcua_case(SERVER.replace("}", ", password: hunter2}")),
            7,
            "opcua.servers[0].password",
            "never written in the site file",
        ),
        (
            opcua_case(SERVER.replace("}", ", security_policy: Basic256}")),
            7,
            "opcua.servers[0].security_policy",
            "'Basic256'",
        ),
        (
            opcua_case(SERVER.replace("}", ", security_policy: Basic256Sha256}")),
            7,
            "opcua.servers[0]",
            "needs server_certificate",
        ),
        (
            opcua_case(SERVER.replace("}", ", security_mode: Sign}")),
            7,
            "opcua.servers[0]",
            "needs a security_policy",
        ),
        (
            opcua_case(SERVER.replace("}", ", username: op}")),
            7,
            "opcua.servers[0]",
            "needs password_env or password_file",
        ),
        (
            opcua_case(SERVER.replace("}", ", username: op, password_env: A, password_file: f}")),
            7,
            "opcua.servers[0]",
            "not both",
        ),
        (
            opcua_case(SERVER.replace("}", ", password_env: 'no spaces'}")),
            7,
            "opcua.servers[0].password_env",
            "pattern",
        ),
        (
            opcua_case(SERVER.replace("}", ", certificate: c.der}")),
            7,
            "opcua.servers[0]",
            "go together",
        ),
        (
            opcua_case(SERVER.replace("}", ", colour: red}")),
            7,
            "opcua.servers[0].colour",
            "unknown field",
        ),
        (
            opcua_case(SERVER.replace("opc.tcp://127.0.0.1:4840/", "http://x")),
            7,
            "opcua.servers[0].endpoint",
            "pattern",
        ),
        (
            opcua_case(SERVER, OPCUA_TAG.replace("scada", "nope") % ""),
            11,
            "tags[1].opcua.server",
            "no OPC UA server named 'nope'",
        ),
        (
            opcua_case(SERVER, OPCUA_TAG.replace("ns=2;s=X", "Flow") % ""),
            11,
            "tags[1].opcua.node_id",
            "pattern",
        ),
        (opcua_case(SERVER, OPCUA_TAG % ", mode: push"), 11, "tags[1].opcua.mode", "'push'"),
        (
            opcua_case(SERVER, OPCUA_TAG % ", deadband: 1, deadband_percent: 2"),
            11,
            "tags[1].opcua",
            "not both",
        ),
        (
            opcua_case(SERVER, OPCUA_TAG % ", deadband_percent: 101"),
            11,
            "tags[1].opcua.deadband_percent",
            "less than or equal to 100",
        ),
        (
            opcua_case(SERVER, OPCUA_TAG % ", queue_size: 0"),
            11,
            "tags[1].opcua.queue_size",
            "greater than or equal to 1",
        ),
        (
            opcua_case(SERVER, OPCUA_TAG % ", mode: poll, deadband_percent: 2"),
            11,
            "tags[1]",
            "needs eng_range",
        ),
        (
            opcua_case(
                SERVER,
                OPCUA_TAG.replace("{name: x,", "{name: x, max_interval_s: 5, deadband: 1,") % "",
            ),
            11,
            "tags[1]",
            "max_interval_s is for polled tags",
        ),
        (
            opcua_case(
                SERVER, OPCUA_TAG.replace("{name: x,", "{name: x, deadband: 1,") % ", deadband: 2"
            ),
            11,
            "tags[1]",
            "give the deadband once",
        ),
        (
            opcua_case(
                SERVER,
                OPCUA_TAG.replace("{name: x,", "{name: x, deadband: 1,") % ", deadband_percent: 0",
            ),
            11,
            "tags[1]",
            "give the deadband once",
        ),
        (
            opcua_case(
                SERVER,
                OPCUA_TAG.replace("{name: x,", "{name: x, max_interval_s: 5,") % ", mode: poll",
            ),
            11,
            "tags[1]",
            "max_interval_s only applies with a deadband",
        ),
        (
            "site: {code: s, name: S}\ntags:\n  - {name: x, source: opcua}\n",
            3,
            "tags[0]",
            "no opcua: section",
        ),
        (
            opcua_case(
                SERVER.replace("}", ", security_policy: Basic256Sha256, security_mode: None}")
            ),
            7,
            "opcua.servers[0]",
            "needs security_mode Sign or SignAndEncrypt",
        ),
        (
            opcua_case(SERVER, (OPCUA_TAG % "") + OPCUA_TAG.replace("name: x", "name: y") % ""),
            12,
            "tags[2].opcua.node_id",
            "same node as tag 'x' (scada ns=2;s=X) (first on line 11)",
        ),
        # A Modbus tag's node too: one node is one tag.
        (
            opcua_case(
                SERVER,
                "  - {name: y, modbus: {device: plc, register: input, address: 0},"
                " opcua: {server: scada, node_id: 'ns=2;s=X'}}\n" + OPCUA_TAG % "",
            ),
            12,
            "tags[2].opcua.node_id",
            "same node as tag 'y'",
        ),
        (
            opcua_case(SERVER, OPCUA_TAG.replace("ns=2;s=X", "ns=2;g=not-a-guid") % ""),
            11,
            "tags[1].opcua.node_id",
            "pattern",
        ),
    ],
)
def test_opcua_errors_name_file_line_and_field(
    text: str, line: int, field: str, words: str
) -> None:
    with pytest.raises(SiteConfigError) as info:
        parse_config(text, "site.yaml")
    message = str(info.value)
    assert f"site.yaml:{line}: {field}: " in message, message
    assert words in message, message


def test_opcua_defaults_and_relative_paths(tmp_path: Path) -> None:
    server = (
        "    - name: scada\n      endpoint: 'opc.tcp://h:4840/'\n"
        "      security_policy: Basic256Sha256\n      server_certificate: certs/server.der\n"
        "      username: op\n      password_file: /run/secrets/opcua\n"
    )
    tag = OPCUA_TAG % ", sampling_interval_s: 0.5, deadband_percent: 2"
    path = tmp_path / "site.yaml"
    path.write_text(opcua_case(server, tag))
    config = load_config(path)
    (s,) = config.opcua.servers
    assert s.mode == "SignAndEncrypt" and s.publishing_interval_s == 1.0
    # Relative to the configuration file, not to where clearwell runs.
    assert s.server_certificate == str(tmp_path / "certs" / "server.der")
    assert s.password_file == "/run/secrets/opcua"
    tag_x = config.tags[1]
    assert tag_x.opcua is not None and tag_x.opcua.mode == "subscribe"
    assert tag_x.opcua.queue_size == 10 and tag_x.opcua_deadband == ("percent", 2.0)
    assert tag_x.key == "opcua:scada/ns=2;s=X" and tag_x.address_text == "scada;ns=2;s=X"
    assert config.opcua_tags("scada") == [tag_x]


def test_the_deadband_clearwell_applies_is_the_servers_only_where_clearwell_polls() -> None:
    def tag(extra: str, opcua: str = "") -> Tag:
        text = OPCUA_TAG.replace("{name: x,", "{name: x," + extra) % opcua
        return parse_config(opcua_case(SERVER, text)).tags[1]

    assert tag(" deadband: 1,").applied_deadband == 1.0
    # Subscribed: the server filters by its deadband; Clearwell only by the tag's own.
    assert tag("", ", deadband: 0.5").applied_deadband is None
    assert tag("", ", mode: poll, deadband: 0.5").applied_deadband == 0.5
    polled_percent = tag(" eng_range: [-5, 15],", ", mode: poll, deadband_percent: 2")
    assert polled_percent.applied_deadband == pytest.approx(0.4)


# A key given twice, at each level of the file: YAML itself would keep the last.
REPEATED = """\
site: {code: demo, name: Demo}
modbus:
  devices:
    - {name: plc, host: 127.0.0.1}
opcua:
  servers:
    - {name: scada, endpoint: "opc.tcp://127.0.0.1:4840/"}
tags:
  - name: a
    limits: {hi: 5}
    modbus: {device: plc, register: holding, address: 0}
  - name: b
    source: opcua
    opcua: {server: scada, node_id: "ns=2;s=B"}
ingest: {batch_rows: 1000}
permit:
  number: UT1
  outfalls: [{id: "001", limits: {bod: 30}}]
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("site: {code: demo,", "site: {code: demo, code: other,", 1, "site.code"),
        ("ingest: {", "site: {code: x, name: X}\ningest: {", 15, "site"),
        ("modbus:\n  devices:", "modbus:\n  devices: []\n  devices:", 4, "modbus.devices"),
        ("host: 127.0.0.1}", "host: 127.0.0.1, host: 10.0.0.1}", 4, "modbus.devices[0].host"),
        ('4840/"}', '4840/", endpoint: "opc.tcp://h:1/"}', 7, "opcua.servers[0].endpoint"),
        ("  - name: b\n", "  - name: b\n    name: c\n", 13, "tags[1].name"),
        ("{hi: 5}", "{hi: 5, hi: 6}", 10, "tags[0].limits.hi"),
        # The issue's: two modbus: keys in one tag, the first dropped silently.
        (
            "    modbus: {device: plc",
            "    modbus: {device: plc, register: input, address: 9}\n    modbus: {device: plc",
            12,
            "tags[0].modbus",
        ),
        ("address: 0}", "address: 0, address: 1}", 11, "tags[0].modbus.address"),
        (
            'node_id: "ns=2;s=B"}',
            'node_id: "ns=2;s=B", node_id: "ns=2;s=C"}',
            14,
            "tags[1].opcua.node_id",
        ),
        ("{batch_rows: 1000}", "{batch_rows: 1000, batch_rows: 2000}", 15, "ingest.batch_rows"),
        ("  number: UT1\n", "  number: UT1\n  number: UT2\n", 18, "permit.number"),
        ("{bod: 30}", "{bod: 30, bod: 45}", 18, "permit.outfalls[0].limits.bod"),
    ],
)
def test_a_key_given_twice_is_refused_at_every_level(
    old: str, new: str, line: int, field: str
) -> None:
    parse_config(REPEATED, "site.yaml")  # valid as it is
    assert old in REPEATED
    with pytest.raises(SiteConfigError) as info:
        parse_config(REPEATED.replace(old, new, 1), "site.yaml")
    problems = [(ln, f) for ln, f, msg in info.value.problems if msg.startswith("given twice")]
    assert problems == [(line, field)], info.value.problems


def test_a_key_set_over_a_merged_one_is_not_given_twice() -> None:
    text = REPEATED.replace(
        "    - {name: plc, host: 127.0.0.1}\n",
        "    - &plc {name: plc, host: 127.0.0.1, timeout_s: 2.0}\n"
        "    - {<<: *plc, name: plc2, timeout_s: 3.0}\n",
    )
    config = parse_config(text, "site.yaml")
    assert [(d.name, d.host, d.timeout_s) for d in config.modbus.devices] == [
        ("plc", "127.0.0.1", 2.0),
        ("plc2", "127.0.0.1", 3.0),
    ]


def test_checks_across_tags_run_even_when_fields_are_wrong() -> None:
    # One of each: a field error, a tag naming no device, a duplicate name, an overlap,
    # a device whose own fields are wrong (its tags are not "naming no device"). All in
    # one run, in file order.
    text = HEAD.replace(DEVICE, DEVICE + "    - {name: broken, host: h, port: 0}\n") + (
        "  - {name: x, modbus: {device: plc, register: holding, address: 0, type: float33}}\n"
        "  - {name: y, modbus: {device: nope, register: input, address: 0}}\n"
        "  - {name: first, modbus: {device: plc, register: input, address: 1}}\n"
        "  - {name: z, modbus: {device: plc, register: holding, address: 11}}\n"
        "  - {name: w, modbus: {device: broken, register: holding, address: 0, type: int32}}\n"
        "  - {name: v, modbus: {device: broken, register: holding, address: 1}}\n"
    )
    with pytest.raises(SiteConfigError) as info:
        parse_config(text, "site.yaml")
    assert [(line, field) for line, field, _ in info.value.problems] == [
        (5, "modbus.devices[1].port"),
        (12, "tags[1].modbus.type"),
        (13, "tags[2].modbus.device"),
        (14, "tags[3].name"),
        (15, "tags[4].modbus.address"),
        (17, "tags[6].modbus.address"),
    ]
    message = str(info.value)
    assert "site.yaml:14: tags[3].name: duplicate tag 'first' (first on line 10)" in message
    assert "site.yaml:15: tags[4].modbus.address: overlaps tag 'first' (plc holding 10-11)" in (
        message
    )
    assert "overlaps tag 'w' (broken holding 0-1)" in message
