import pytest

from logbook.kinds import KINDS, KindError, is_operational, validate_entry_data

VALID = {
    "reading": {"tag_id": 4, "value": 7.1, "unit": "pH"},
    "chemical_addition": {
        "chemical": "sodium hypochlorite",
        "amount": 12,
        "unit": "gal",
        "feed_point": "chlorine contact basin",
    },
    "process_adjustment": {
        "what": "blower 2 DO setpoint",
        "from_value": "2.0",
        "to_value": "1.5",
        "unit": "mg/L",
    },
    "maintenance": {
        "equipment": "RAS pump 1",
        "work": "lubrication",
        "description": "greased bearings",
        "lubricant": "EP2",
    },
    "inspection": {
        "location": "primary clarifier 1",
        "finding": "scum baffle bent",
        "condition": "attention",
    },
    "cleaning": {"what": "filter bed 2", "method": "hose and broom"},
    "alarm_ack": {"event_id": 17, "response": "checked float; reset"},
    "observation": {"text": "foam on aeration basin 2"},
    "safety": {"text": "confined space entry permit 44 closed", "category": "confined_space"},
    "note": {"text": "visitors from the state on Tuesday"},
}


def test_every_kind_has_a_valid_example():
    assert set(VALID) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_data_is_accepted(kind):
    out = validate_entry_data(kind, VALID[kind])
    for key, value in VALID[kind].items():
        assert out[key] == value


@pytest.mark.parametrize(
    ("kind", "data", "field", "reason"),
    [
        ("reading", {"value": 1, "unit": "ft"}, "data", "tag_id or instrument"),
        ("reading", {"instrument": "gauge", "value": "high", "unit": "ft"}, "data.value", "number"),
        (
            "reading",
            {"instrument": "gauge", "value": float("nan"), "unit": "ft"},
            "data.value",
            "finite",
        ),
        (
            "chemical_addition",
            {**VALID["chemical_addition"], "amount": 0},
            "data.amount",
            "greater than 0",
        ),
        (
            "chemical_addition",
            {"chemical": "lime", "amount": 3, "unit": "lb"},
            "data.feed_point",
            "required",
        ),
        (
            "process_adjustment",
            {"what": "valve", "from_value": "open"},
            "data.to_value",
            "required",
        ),
        (
            "maintenance",
            {**VALID["maintenance"], "work": "corrective"},
            "data",
            "lubricant is only recorded",
        ),
        ("maintenance", {**VALID["maintenance"], "work": "painting"}, "data.work", "lubrication"),
        ("alarm_ack", {"response": "ok"}, "data.event_id", "required"),
        ("note", {"text": ""}, "data.text", "at least 1"),
        ("note", {"text": "x", "colour": "red"}, "data.colour", "not permitted"),
        ("bogus", {}, "kind", "unknown kind"),
    ],
)
def test_invalid_data_names_the_field_and_the_reason(kind, data, field, reason):
    with pytest.raises(KindError) as info:
        validate_entry_data(kind, data)
    fields = dict(info.value.errors)
    assert field in fields, info.value.errors
    assert reason in fields[field]


@pytest.mark.parametrize(
    ("kind", "operational"),
    [
        ("process_adjustment", True),
        ("chemical_addition", True),
        ("maintenance", True),
        ("cleaning", True),
        ("reading", False),
        ("alarm_ack", False),
        ("observation", False),
        ("inspection", False),
        ("safety", False),
        ("note", False),
    ],
)
def test_operational_is_derived_from_the_kind(kind, operational):
    assert is_operational(kind) is operational
