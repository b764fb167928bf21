"""Fault specifications: parsing, checking against the map, and the set in force."""

from __future__ import annotations

import pytest

from simulators.faults import Fault, FaultError, FaultSet, parse_fault, parse_faults, status_code

DEVICES = ["plc-process", "plc-liftstation"]
TAGS = ["influent.flow", "aeration.do"]

GOOD = [
    ("exception:plc-process=busy", Fault("exception", "plc-process", "busy")),
    ("exception:plc-process=2", Fault("exception", "plc-process", "2")),
    ("stall:*=3.5", Fault("stall", "*", "3.5")),
    (" freeze:influent.flow ", Fault("freeze", "influent.flow", None)),
    ("override:aeration.do=25", Fault("override", "aeration.do", "25")),
    ("out_of_range:aeration.do=low", Fault("out_of_range", "aeration.do", "low")),
    ("status:influent.flow=BadSensorFailure", Fault("status", "influent.flow", "BadSensorFailure")),
    ("drop:modbus", Fault("drop", "modbus", None)),
    ("restart:opcua=60", Fault("restart", "opcua", "60")),
]


@pytest.mark.parametrize(("spec", "fault"), GOOD)
def test_valid_specs_parse(spec, fault):
    assert parse_fault(spec, DEVICES, TAGS) == fault


BAD = [
    ("nonsense", "expected kind:target"),
    ("explode:plc-process", "unknown kind 'explode'"),
    ("exception:plc-9=busy", "no Modbus device named 'plc-9'"),
    ("exception:plc-process=on_fire", "unknown Modbus exception 'on_fire'"),
    ("exception:plc-process", "needs a value"),
    ("stall:plc-process=-1", "expected a number of seconds > 0"),
    ("stall:plc-process=soon", "expected a number of seconds > 0"),
    ("freeze:no.such.tag", "no tag named 'no.such.tag'"),
    ("freeze:influent.flow=3", "takes no value"),
    ("override:aeration.do", "needs a value"),
    ("out_of_range:aeration.do=sideways", "value must be high or low"),
    ("status:influent.flow=Purple", "unknown status 'Purple'"),
    ("drop:opcua", "the target of drop is modbus"),
    ("restart:modbus", "the target of restart is opcua"),
]


@pytest.mark.parametrize(("spec", "message"), BAD)
def test_invalid_specs_say_what_is_wrong(spec, message):
    with pytest.raises(FaultError) as info:
        parse_fault(spec, DEVICES, TAGS)
    assert message in str(info.value)
    assert spec in str(info.value)


def test_comma_separated_and_repeated_specs():
    faults = parse_faults(["stall:*=1,freeze:aeration.do", "drop:modbus=5"], DEVICES, TAGS)
    assert [str(f) for f in faults] == ["stall:*=1", "freeze:aeration.do", "drop:modbus=5"]


def test_set_replaces_same_kind_and_target_and_clears_selectively():
    s = FaultSet()
    s.add(Fault("stall", "plc-process", "1"))
    s.add(Fault("stall", "plc-process", "4"))
    s.add(Fault("exception", "plc-liftstation", "busy"))
    s.add(Fault("stall", "*", "0.5"))
    assert s.stall_for("plc-process") == 4.0
    assert s.stall_for("plc-liftstation") == 0.5  # the wildcard
    assert s.exception_for("plc-liftstation") == 6
    assert s.exception_for("plc-process") is None
    gone = s.remove(kind="stall", target="plc-process")
    assert [str(f) for f in gone] == ["stall:plc-process=4"]
    assert s.stall_for("plc-process") == 0.5
    s.remove()
    assert len(s) == 0


def test_one_off_actions_do_not_stay_in_force():
    with pytest.raises(FaultError):
        FaultSet().add(Fault("drop", "modbus", None))


@pytest.mark.parametrize(
    ("name", "code"),
    [("good", 0), ("bad", 0x80000000), ("uncertain", 0x40000000), ("BadSensorFailure", 0x808C0000)],
)
def test_status_codes(name, code):
    assert status_code(name) == code
