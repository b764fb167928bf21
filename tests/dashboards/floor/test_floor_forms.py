"""The floor terminal's record forms, made from the logbook's models: pure, tables of cases."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import AwareDatetime, BaseModel, Field

from dashboards.floor.forms import (
    ACTIONS,
    ENTRY_LOOKS,
    FORMS,
    KIND_LABELS,
    Look,
    _f,
    form,
    with_ranges,
)
from logbook.kinds import KINDS
from logbook.samples import ResultFields, SampleFields
from simulators.address_map import DEFAULT_MAP
from sitefile.load import load_config
from sitefile.ranges import NO_RANGES, site_ranges


def by_name(kind: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in FORMS[kind]["fields"]}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_entry_form_has_the_kinds_fields_and_requires_what_it_requires(kind):
    schema = KINDS[kind].model_json_schema()
    typed = set(schema["properties"]) - ENTRY_LOOKS[kind].not_typed
    fields = by_name(kind)
    assert set(fields) == typed
    assert {n for n, f in fields.items() if f["required"]} == set(schema["required"]) & typed


@pytest.mark.parametrize(
    ("kind", "model", "typed_too"),
    [("sample", SampleFields, {"composite_hours", "received_by"}),
     ("result", ResultFields, {"sample_id"})],
)  # fmt: skip
def test_the_sample_and_result_forms_are_the_logbooks_fields_and_their_requests(
    kind, model, typed_too
):
    schema = model.model_json_schema()
    from_model = set(by_name(kind)) - typed_too
    assert from_model < set(schema["properties"])
    assert {n for n in from_model if by_name(kind)[n]["required"]} == (
        set(schema["required"]) & from_model
    )


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("reading", "tag_id",
         {"type": "select", "options": "tags", "blank": True, "required": False,
          "remember": True, "label": "Tag"}),
        ("reading", "value", {"type": "number", "required": True, "remember": False}),
        ("chemical_addition", "amount", {"type": "number", "gt": 0, "required": True}),
        ("chemical_addition", "feed_point",
         {"type": "text", "maxlength": 500, "label": "Feed point", "remember": True}),
        ("maintenance", "work",
         {"type": "select", "required": True,
          "options": [["lubrication", "lubrication"], ["preventive", "preventive"],
                      ["corrective", "corrective"], ["calibration", "calibration"],
                      ["other", "other"]]}),
        ("maintenance", "description", {"type": "textarea", "maxlength": 10_000}),
        ("maintenance", "out_of_service", {"type": "checkbox", "required": False}),
        ("inspection", "condition",
         {"type": "select", "value": "ok", "required": False,
          "options": [["ok", "OK"], ["attention", "Attention"], ["defect", "Defect"]]}),
        ("safety", "category", {"value": "other", "remember": True}),
        ("sample", "sample_type",
         {"type": "select", "required": True, "options": [["grab", "Grab"],
                                                          ["composite", "Composite"]]}),
        ("sample", "container", {"type": "text", "maxlength": 2000}),
        ("sample", "composite_hours", {"type": "number", "min": "0.1", "step": "0.1"}),
        ("result", "sample_id", {"type": "select", "options": "samples", "required": True}),
        ("result", "qualifier",
         {"type": "select", "required": False,
          "options": [["", "—"], ["<", "<"], [">", ">"], ["ND", "ND"],
                      ["estimated", "estimated"]]}),
        ("result", "detection_limit", {"type": "number", "gt": 0, "required": False}),
    ],
)  # fmt: skip
def test_a_field_as_the_page_draws_it(kind, name, expected):
    field = by_name(kind)[name]
    assert {k: field.get(k) for k in expected} == expected


def test_the_page_fills_in_what_nobody_types():
    assert "event_id" not in by_name("alarm_ack")
    assert not {"sampled_at", "composite_start", "composite_end"} & set(by_name("sample"))
    assert not {"analyzed_at", "analyst_id"} & set(by_name("result"))


def test_the_action_bar_and_the_review_labels():
    assert list(ACTIONS) == [
        "reading", "chemical_addition", "process_adjustment", "maintenance", "inspection",
        "cleaning", "observation", "safety", "note", "sample", "result",
    ]  # fmt: skip
    assert ACTIONS["process_adjustment"] == "Adjust" and ACTIONS["result"] == "Lab result"
    assert KIND_LABELS["alarm_ack"] == "Alarm ack" and set(KIND_LABELS) == set(FORMS)


class Grown(BaseModel):
    """A kind the logbook grew: a field with no label yet, and one the page fills in."""

    what: str = Field(min_length=1, max_length=500)
    pump_hours: float | None = Field(None, ge=0, le=100_000)
    shift_ends: AwareDatetime | None = None
    mode: Literal["auto", "hand"] = "auto"


def test_a_field_the_logbook_adds_shows_labelled_from_its_name():
    look = Look("Grown", "Grown", (_f("what", "What"),), frozenset({"shift_ends"}))
    got = form(Grown, look)
    assert [(f["name"], f["label"]) for f in got["fields"]] == [
        ("what", "What"),
        ("pump_hours", "Pump hours"),
        ("mode", "Mode"),
    ]
    assert got["fields"][1] == {
        "name": "pump_hours", "label": "Pump hours", "required": False, "remember": False,
        "type": "number", "min": 0, "max": 100_000,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("look", "message"),
    [
        (Look("G", "G", (_f("what", "What"), _f("nope", "No"))), "nope: not a field"),
        (Look("G", "G", (_f("what", "What"),), frozenset({"gone"})), r"no fields \['gone'\]"),
        (Look("G", "G", (_f("what", "What"),), frozenset({"what", "shift_ends"})),
         r"\['what'\] typed and not"),
        (Look("G", "G", (_f("what", "What"),)), "shift_ends: no form field"),
    ],
)  # fmt: skip
def test_a_look_that_does_not_fit_its_model_is_refused(look, message):
    with pytest.raises(ValueError, match=message):
        form(Grown, look)


def test_each_judged_number_carries_the_sites_ranges() -> None:
    site = site_ranges(load_config(DEFAULT_MAP))
    forms = with_ranges(FORMS, site, {"aeration.do": 7, "influent.flow": 1, "gone": 99})
    value = {f["name"]: f for f in forms["reading"]["fields"]}["value"]
    assert value["ranges_by"] == "tag_id"
    assert value["ranges_of"] == {
        "7": {
            "of": "Aeration basin dissolved oxygen",
            "unit": "mg/L",
            "instrument": [0, 20],
            "plausible": [0, 12],
        },
        "1": {
            "of": "Influent flow",
            "unit": "m3/h",
            "instrument": [0, 2500],
            "plausible": [100, 2400],
        },
    }
    # By instrument, or of a tag without a range of its own.
    assert value["ranges"] == {
        "of": "a reading's value",
        "unit": "",
        "instrument": None,
        "plausible": [0, None],
    }
    amount = {f["name"]: f for f in forms["chemical_addition"]["fields"]}["amount"]
    assert amount["ranges"]["instrument"] == [0, None] and amount["gt"] == 0
    result = {f["name"]: f for f in forms["result"]["fields"]}["value"]
    assert result["ranges_by"] == "analyte" and result["ranges"] is None
    assert result["ranges_of"]["bod5"]["of"] == "BOD, 5-day"
    assert result["ranges_of"]["ecoli"]["unit"] == "MPN/100mL"
    assert result["ranges_of"]["ammoniaasn"]["of"] == "Ammonia as N"
    # The terminal's forms themselves are left as they were.
    assert "ranges" not in {f["name"]: f for f in FORMS["reading"]["fields"]}["value"]


def test_a_site_without_ranges_gives_its_numbers_none() -> None:
    forms = with_ranges(FORMS, NO_RANGES, {"aeration.do": 7})
    value = {f["name"]: f for f in forms["reading"]["fields"]}["value"]
    assert (value["ranges"], value["ranges_of"]) == (None, {})
    amount = {f["name"]: f for f in forms["chemical_addition"]["fields"]}["amount"]
    assert amount["ranges"] is None
