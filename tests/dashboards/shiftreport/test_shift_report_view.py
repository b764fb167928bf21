"""The shift report's pure parts: who held charge over the shift from the engine's
coverage (and from the crew's DRC role without a profile), times on the plant's clock,
entries with verification and amendments, alarms with acknowledgements, key readings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from compliance.report import CoverageInterval
from dashboards.regulator.view import Refs
from dashboards.shiftreport.view import (
    NO_ONE,
    Stretch,
    alarm_rows,
    charge_rows,
    clock,
    drc_stretches,
    entry_rows,
    number,
    reading_rows,
    stamp,
    stretches,
)

DENVER = ZoneInfo("America/Denver")
T0 = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 06:00 MST


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def cov(
    a: float, b: float, drc: tuple[str, ...], shifts: tuple[str, ...] = ("7",)
) -> CoverageInterval:
    return CoverageInterval(h(a), h(b), shifts, drc, drc, drc)


@pytest.mark.parametrize(
    ("coverage", "expected"),
    [
        # One person all along, in several intervals: one stretch.
        ([cov(0, 3, ("1",)), cov(3, 8, ("1",))], [Stretch(h(0), h(8), (1,))]),
        # The DRC leaves at 5: no one for the rest, the coverage naming the shift still.
        (
            [cov(0, 5, ("1",)), cov(5, 8, ())],
            [Stretch(h(0), h(5), (1,)), Stretch(h(5), h(8), ())],
        ),
        # Someone else takes over; an interval of another shift is not this one's.
        (
            [cov(0, 4, ("1",)), cov(4, 8, ("2",)), cov(8, 9, ("3",), ("8",))],
            [Stretch(h(0), h(4), (1,)), Stretch(h(4), h(8), (2,))],
        ),
        # Coverage that begins late and ends early leaves stretches with no one.
        (
            [cov(1, 6, ("1",))],
            [Stretch(h(0), h(1), ()), Stretch(h(1), h(6), (1,)), Stretch(h(6), h(8), ())],
        ),
        # Intervals beyond the shift are cut to it.
        ([cov(-2, 10, ("1",))], [Stretch(h(0), h(8), (1,))]),
        ([], [Stretch(h(0), h(8), ())]),
    ],
)
def test_who_held_charge_over_the_shift(coverage, expected):
    assert stretches(coverage, 7, h(0), h(8)) == expected


def test_without_a_profile_the_crews_drc_stints_and_the_rest_no_one():
    crew = [
        {"person_id": 1, "shift_role": "drc", "arrived_at": h(-1), "left_at": h(3)},
        {"person_id": 2, "shift_role": "operator", "arrived_at": h(0), "left_at": None},
        {"person_id": 3, "shift_role": "drc", "arrived_at": h(5), "left_at": None},
    ]
    assert drc_stretches(crew, h(0), h(8)) == [
        Stretch(h(0), h(3), (1,)),
        Stretch(h(3), h(5), ()),
        Stretch(h(5), h(8), (3,)),
    ]


def test_charge_rows_name_people_and_mark_no_one():
    rows = charge_rows(
        [Stretch(h(0), h(5), (1,)), Stretch(h(5), h(12), ())],
        {1: "Casey Chief"},
        DENVER,
        date(2026, 3, 2),
    )
    assert [(r.who, r.start, r.end, r.gap) for r in rows] == [
        ("Casey Chief", "06:00", "11:00", False),
        (NO_ONE, "11:00", "18:00", True),
    ]


def test_times_are_the_plants_with_the_date_only_off_the_plant_day():
    day = date(2026, 3, 2)
    assert clock(h(0), DENVER, day) == "06:00"
    assert clock(h(19), DENVER, day) == "2026-03-03 01:00"
    assert clock(None, DENVER, day) == ""
    assert stamp(h(0), DENVER) == "2026-03-02 06:00 MST"
    assert stamp(h(0).isoformat(), DENVER) == "2026-03-02 06:00 MST"
    # The clocks change: 2026-03-08 02:00 MST is 03:00 MDT.
    assert stamp(datetime(2026, 3, 8, 9, 30, tzinfo=UTC), DENVER) == "2026-03-08 03:30 MDT"


def _entry(**kw):
    base = {
        "id": 1,
        "kind": "chemical_addition",
        "occurred_at": h(1),
        "recorded_by": 2,
        "by_trainee": False,
        "data": {"chemical": "NaOCl", "amount": 15, "unit": "gal", "feed_point": "CCT"},
        "countersignature": None,
        "needs_countersignature": False,
        "original": None,
        "history": [],
    }
    return base | kw


def test_entries_with_author_verification_and_amendments_with_reasons():
    names = {1: "Casey Chief", 2: "Oli Operator", 3: "Tia Trainee"}
    amended = _entry(
        original={
            "data": {"chemical": "NaOCl", "amount": 12.5, "unit": "gal", "feed_point": "CCT"}
        },
        history=[
            {
                "id": 9,
                "changes": {"data": {"amount": 15}},
                "previous": {"data": {"amount": 12.5}},
                "reason": "misread the day tank gauge",
                "amended_by": 2,
                "amended_at": h(2),
                "after_signing": False,
            }
        ],
    )
    trainee = _entry(
        id=2,
        kind="note",
        occurred_at=h(0.5),
        recorded_by=3,
        by_trainee=True,
        data={"text": "Wet well checked"},
        needs_countersignature=False,
        countersignature={"person_id": 2, "signed_at": h(3)},
    )
    waiting = _entry(
        id=3,
        kind="note",
        occurred_at=h(4),
        recorded_by=3,
        by_trainee=True,
        data={"text": "Grit removed"},
        needs_countersignature=True,
    )
    rows = entry_rows(
        [amended, trainee, waiting], names, Refs({}, {}, names), DENVER, date(2026, 3, 2)
    )
    assert [r.time for r in rows] == ["06:30", "07:00", "10:00"]
    assert rows[0].author == "Tia Trainee (trainee)"
    assert rows[0].verification == "verified by Oli Operator at 2026-03-02 09:00 MST"
    assert rows[2].verification == "awaiting verification"
    assert "15 gal" in rows[1].text
    (amendment,) = rows[1].amendments
    assert amendment.startswith("2026-03-02 08:00 Oli Operator:")
    assert "12.5 gal → 15 gal" in amendment
    assert amendment.endswith("Reason: misread the day tank gauge")


def test_alarms_with_their_acknowledgements_or_none():
    events = [
        {
            "id": 5,
            "message": "Effluent turbidity high",
            "severity": "alarm",
            "started_at": h(1),
            "ended_at": h(2),
        },
        {
            "id": 6,
            "message": "Blower 2 fault",
            "severity": "critical",
            "started_at": h(0.5),
            "ended_at": None,
        },
    ]
    acks = [
        {
            "id": 11,
            "event_id": 5,
            "occurred_at": h(1.25),
            "recorded_by": 2,
            "data": {"event_id": 5, "response": "backwashed filter 1"},
        },
    ]
    rows = alarm_rows(events, acks, {2: "Oli Operator"}, DENVER, date(2026, 3, 2))
    assert [(r.time, r.message, r.cleared) for r in rows] == [
        ("06:30", "Blower 2 fault", "not cleared"),
        ("07:00", "Effluent turbidity high", "08:00"),
    ]
    assert rows[0].acknowledgements == ()
    assert rows[1].acknowledgements == ("2026-03-02 07:15 MST Oli Operator: backwashed filter 1",)


def test_key_readings_in_three_figures_and_none_as_a_dash():
    rows = reading_rows(
        [
            {
                "tag": "Effluent pH",
                "unit": "pH",
                "min": 6.912,
                "avg": 7.0456,
                "max": 7.31,
                "n": 480,
            },
            {"tag": "Influent flow", "unit": "MGD", "min": None, "avg": None, "max": None, "n": 0},
        ]
    )
    assert [(r.low, r.mean, r.high, r.count) for r in rows] == [
        ("6.91", "7.05", "7.31", 480),
        ("—", "—", "—", 0),
    ]
    assert number(1234567.4) == "1,234,567"
    assert number(0.000123) == "0.000123"
