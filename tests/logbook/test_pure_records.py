from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from logbook.amend import check_fields, fold
from logbook.samples import ResultFields, SampleFields
from logbook.shift_content import shift_content_hash

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
RESULT = {
    "analyte": "BOD5",
    "method": "SM 5210 B",
    "analyzed_at": T0,
    "analyst_name": "Lab A",
    "value": 12.0,
    "unit": "mg/L",
}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"qualifier": "ND", "value": None}, "needs its detection_limit"),
        ({"qualifier": "<", "value": 3.0}, "needs its detection_limit"),
        ({"qualifier": "<", "value": 3.0, "detection_limit": 2.0}, "cannot be above"),
        ({"value": None}, "value is required"),
        ({"analyst_name": None}, "name the analyst"),
        ({"parameter_code": "310"}, "pattern"),
    ],
)
def test_result_rules(changes, reason):
    with pytest.raises(ValidationError) as info:
        ResultFields.model_validate({**RESULT, **changes})
    assert reason in str(info.value)


def test_below_detection_keeps_qualifier_and_limit():
    r = ResultFields.model_validate(
        {**RESULT, "value": None, "qualifier": "ND", "detection_limit": 2.0}
    )
    assert (r.value, r.qualifier, r.detection_limit) == (None, "ND", 2.0)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"sample_type": "composite"}, "composite_start and composite_end"),
        (
            {
                "sample_type": "composite",
                "composite_start": T0,
                "composite_end": T0,
                "composite_kind": "flow",
            },
            "after composite_start",
        ),
        ({"sample_type": "grab", "composite_kind": "time"}, "no composite window"),
        ({"sample_type": "grab", "sampled_at": "2026-03-01T08:00:00"}, "timezone"),
    ],
)
def test_sample_rules(fields, reason):
    base = {"sample_point": "effluent", "sample_type": "grab", "sampled_at": T0}
    with pytest.raises(ValidationError) as info:
        SampleFields.model_validate({**base, **fields})
    assert reason in str(info.value)


def test_fold_applies_amendments_in_order_and_keeps_what_each_replaced():
    original = {"data": {"value": 1, "unit": "ft"}, "occurred_at": T0}
    amendments = [
        {
            "id": 1,
            "changes": {"data": {"value": 2}},
            "reason": "misread",
            "amended_by": 3,
            "amended_at": T0,
            "after_signing": False,
        },
        {
            "id": 2,
            "changes": {"data": {"value": 3}, "occurred_at": "2026-03-01T07:00:00+00:00"},
            "reason": "wrong gauge",
            "amended_by": 4,
            "amended_at": T0,
            "after_signing": True,
        },
    ]
    current, history = fold(original, amendments)
    assert current["data"] == {"value": 3, "unit": "ft"}
    assert current["occurred_at"] == datetime(2026, 3, 1, 7, tzinfo=UTC)
    assert [h["previous"] for h in history] == [
        {"data": {"value": 1}},
        {"data": {"value": 2}, "occurred_at": T0},
    ]
    assert original["data"] == {"value": 1, "unit": "ft"}


def test_only_amendable_fields_may_change():
    assert check_fields("entry", {"data": {}, "occurred_at": "x"}) == []
    assert [f for f, _ in check_fields("entry", {"kind": "note", "recorded_by": 1})] == [
        "changes.kind",
        "changes.recorded_by",
    ]
    assert check_fields("result", {"value": 1, "sample_id": 2})[0][0] == "changes.sample_id"


def test_shift_hash_changes_with_any_content_and_not_with_order():
    shift = {"id": 1, "site_id": 1, "label": "day", "opened_at": T0, "opened_by": 1}
    crew = [{"id": 1, "person_id": 2, "shift_role": "drc", "arrived_at": T0, "left_at": None}]
    entries = [
        {"id": 5, "kind": "note", "data": {"text": "a"}, "occurred_at": T0},
        {"id": 6, "kind": "note", "data": {"text": "b"}, "occurred_at": T0},
    ]
    base = shift_content_hash(shift, crew, entries, [])
    assert shift_content_hash(shift, crew, list(reversed(entries)), []) == base
    changed = [entries[0], {**entries[1], "data": {"text": "c"}}]
    assert shift_content_hash(shift, crew, changed, []) != base
    assert shift_content_hash(shift, [{**crew[0], "left_at": T0}], entries, []) != base
    assert shift_content_hash({**shift, "closed_at": T0}, crew, entries, []) != base
    note = {"id": 1, "body": "all normal", "written_by": 1, "written_at": T0}
    assert shift_content_hash(shift, crew, entries, [note]) != base
