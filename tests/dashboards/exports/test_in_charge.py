"""Who held responsible charge each plant day, from the compliance engine's coverage: the
engine's own report on a scenario (a shift operator alone on a night, a DRC who leaves
early, a relief below the grade), turned into the report's rows; no database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from compliance.engine import check
from compliance.scenario import load_scenario
from dashboards.exports.in_charge import (
    NO_CERTIFICATE,
    UNQUALIFIED,
    Certificate,
    ShiftSpan,
    charge_hours,
    in_charge_from_coverage,
)
from dashboards.exports.mor import InCharge

TZ = ZoneInfo("America/Denver")
D1, D2 = date(2026, 3, 3), date(2026, 3, 4)


def t(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


SHIFTS = [
    ShiftSpan(1, "Day", t(D1, 6), t(D1, 14)),
    ShiftSpan(2, "Night", t(D1, 22), t(D2, 6)),
]
CERTS = [
    Certificate(
        10, "UT", "treatment", "III", "UT-10", "full", date(2025, 1, 1), date(2027, 12, 31)
    ),
    Certificate(20, "UT", "treatment", "II", "UT-20", "full", date(2025, 1, 1), date(2027, 12, 31)),
    Certificate(30, "UT", "treatment", "I", "UT-30", "full", date(2025, 1, 1), date(2027, 12, 31)),
]


def _cert(c: Certificate) -> dict[str, str]:
    return {
        "state": c.state,
        "category": c.category,
        "grade": c.grade,
        "kind": c.kind,
        "issued": c.issued.isoformat(),
        "expires": c.expires.isoformat(),
    }


def _report():
    """The day: the DRC (III) leaves at 11:00, the shift operator (I, under the class II's
    grade) stays to 14:00. The night: a shift operator (II) alone, holding charge."""
    scenario = {
        "rules": "UT",
        "facility": {"name": "Plant", "timezone": str(TZ), "category": "treatment", "class": "II"},
        "operators": [{"id": str(c.person_id), "certificates": [_cert(c)]} for c in CERTS],
        "shifts": [
            {
                "id": "1",
                "start": t(D1, 6).isoformat(),
                "end": t(D1, 14).isoformat(),
                "crew": [
                    {
                        "operator": "10",
                        "role": "drc",
                        "on_site": [[t(D1, 6).isoformat(), t(D1, 11).isoformat()]],
                    },
                    {"operator": "30", "role": "shift_operator"},
                ],
            },
            {
                "id": "2",
                "start": t(D1, 22).isoformat(),
                "end": t(D2, 6).isoformat(),
                "crew": [{"operator": "20", "role": "shift_operator"}],
            },
        ],
        "entries": [],
        "period": {"start": t(D1, 0).isoformat(), "end": t(D2, 12).isoformat()},
    }
    return check(load_scenario(scenario))


def test_who_held_charge_each_day_as_the_engine_reads_the_crews():
    report = _report()
    names = {10: "Casey Chief", 20: "Nico Nightly", 30: "Robin Relief"}
    rows = in_charge_from_coverage(
        report.coverage, report.findings, SHIFTS, names, CERTS, [D1, D2], TZ
    )
    assert rows[D1] == [
        InCharge("Day 06:00-14:00", "Casey Chief", "UT treatment Grade III #UT-10", "III"),
        # After the DRC left, the shift operator was the one on site who may hold charge,
        # but below the class II's grade: named, with that said.
        InCharge(
            "Day 06:00-14:00", "Robin Relief", "UT treatment Grade I #UT-30", "I", UNQUALIFIED
        ),
        InCharge("Night 22:00-06:00", "Nico Nightly", "UT treatment Grade II #UT-20", "II"),
    ]
    # The night shift's hours after midnight are the next plant day's.
    assert rows[D2] == [
        InCharge("Night 22:00-06:00", "Nico Nightly", "UT treatment Grade II #UT-20", "II")
    ]
    hours = charge_hours(report.coverage, t(D1, 0).astimezone(UTC), t(D2, 12).astimezone(UTC))
    assert hours == {10: 5.0, 30: 3.0, 20: 8.0}


def test_a_stretch_of_a_shift_with_no_one_who_may_hold_charge_is_named():
    scenario = {
        "rules": "UT",
        "facility": {"name": "Plant", "timezone": str(TZ), "category": "treatment", "class": "II"},
        "operators": [{"id": "20", "certificates": [_cert(CERTS[1])]}, {"id": "40"}],
        "shifts": [
            {
                "id": "2",
                "start": t(D1, 22).isoformat(),
                "end": t(D2, 6).isoformat(),
                "crew": [
                    {
                        "operator": "20",
                        "role": "shift_operator",
                        "on_site": [[t(D1, 22).isoformat(), t(D2, 4, 20).isoformat()]],
                    },
                    {"operator": "40", "role": "trainee"},
                ],
            }
        ],
        "entries": [],
        "period": {"start": t(D1, 0).isoformat(), "end": t(D2, 12).isoformat()},
    }
    report = check(load_scenario(scenario))
    rows = in_charge_from_coverage(
        report.coverage, report.findings, SHIFTS[1:], {20: "Nico Nightly"}, CERTS, [D2], TZ
    )
    assert [(r.operator, r.certificate) for r in rows[D2]] == [
        ("Nico Nightly", "UT treatment Grade II #UT-20"),
        ("no one in charge 04:20-06:00", ""),
    ]


def test_a_person_without_a_certificate_in_force_says_so():
    report = _report()
    rows = in_charge_from_coverage(report.coverage, report.findings, SHIFTS, {}, [], [D2], TZ)
    assert rows[D2] == [InCharge("Night 22:00-06:00", "person 20", NO_CERTIFICATE, "")]
