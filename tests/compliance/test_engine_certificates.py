"""Which certificates qualify, and when: kinds, expiry at local midnight, DST, renewal."""

import dataclasses
from datetime import UTC, date, datetime

import pytest

from compliance.engine import check
from compliance.model import Scenario
from compliance.scenario import load_scenario
from tests.compliance.builders import (
    at,
    cert,
    member,
    only,
    op,
    rules,
    run,
    scenario,
    shift,
    shift_between,
)


def drc_case(state, certificate):
    """A class II shift whose DRC "a" holds ``certificate``, beside a certified operator."""
    return scenario(
        state,
        facility_kw={"class": "II"},
        operators=[op("a", certificate), op("x", cert("1", state=state))],
        shifts=[shift(state, member("a", "drc"), member("x", "operator"))],
    )


@pytest.mark.parametrize(
    ("state", "certificate", "finding", "why", "section"),
    [
        ("UT", cert("II"), None, "", "UT R317-10-11 A"),
        ("UT", cert("IV", kind="restricted"), "drc-unqualified", "restricted", "R317-10-11 B"),
        ("UT", cert("II", kind="grandfather", facility="plant"), None, "", "R317-10-11 G"),
        (
            "UT",
            cert("II", kind="grandfather", facility="Other Works"),
            "drc-unqualified",
            "valid only at Other Works",
            "R317-10-11 G",
        ),
        ("UT", cert("II", category="collection"), "drc-unqualified", "collection", "R317-10-4 B"),
        ("UT", cert("II", state="VT"), "drc-unqualified", "issued by VT", "R317-10-11 F"),
        (
            "UT",
            cert("II", issued="2022-01-01", expires="2024-12-31"),
            "drc-unqualified",
            "expired",
            "R317-10-11 C",
        ),
        ("UT", cert("II", issued="2025-07-01"), "drc-unqualified", "not in effect", "C"),
        (
            "VT",
            cert("2", state="VT", kind="provisional", issued="2024-01-15", expires="2026-01-14"),
            None,
            "",
            "VT §6(b)(ii)",
        ),
        (
            "VT",
            cert("2", state="VT", kind="provisional", issued="2023-05-01", expires="2025-04-30"),
            "drc-unqualified",
            "expired 2025-04-30",
            "VT §6(b)(ii)",
        ),
        ("VT", cert("2", state="VT", kind="grandfather", facility="plant"), None, "", "VT §8(d)"),
    ],
)
def test_certificate_kinds_for_the_drc(state, certificate, finding, why, section):
    report = run(drc_case(state, certificate))
    if finding is None:
        assert rules(report) == [], section
    else:
        assert rules(report) == [(finding, ("a",))], section
        assert why in report.findings[0].message, (section, report.findings[0].message)


def expiring_on(data, expires: str) -> Scenario:
    """The scenario with the first operator's certificate ending on ``expires``: a stored
    certificate the engine may be given whatever its term (the entry points refuse it)."""
    s = load_scenario(data)
    a = s.operators[0]
    cert_ = dataclasses.replace(a.certificates[0], expires=date.fromisoformat(expires))
    a = dataclasses.replace(a, certificates=(cert_, *a.certificates[1:]))
    return dataclasses.replace(s, operators=(a, *s.operators[1:]))


def expiry_case(expires="2025-12-31", tz_state="UT"):
    """A night shift from Dec 31 18:00 to Jan 1 06:00, the DRC's certificate expiring."""
    return scenario(
        tz_state,
        facility_kw={"class": "II"},
        operators=[op("a", cert("II", issued="2023-01-01", expires=expires))],
        shifts=[
            shift_between(
                "new-year night",
                "2025-12-31T18:00:00-07:00",
                "2026-01-01T06:00:00-07:00",
                member("a", "drc"),
            )
        ],
        period=("2025-12-31T00:00:00-07:00", "2026-01-02T00:00:00-07:00"),
        expiry_horizon_days=0,
    )


def test_certificate_expiring_december_31_does_not_cover_january_1():
    """UT R317-10-11 C: certificates expire on December 31 (local midnight, Denver)."""
    report = run(expiry_case("2025-12-31"))
    f = only(report, "drc-unqualified")
    assert f.start == datetime(2026, 1, 1, 7, 0, tzinfo=UTC)  # 00:00 MST
    assert f.end == datetime(2026, 1, 1, 13, 0, tzinfo=UTC)
    assert "expired 2025-12-31" in f.message
    stamp = [c for c in report.coverage if c.start < f.start]
    assert stamp and stamp[-1].certified_on_site == ("a",)


def test_certificate_expiring_january_1_covers_the_whole_night():
    report = check(expiring_on(expiry_case(), "2026-01-01"))
    assert rules(report) == [("certificate-expiring", ("a",))]


def test_reinstatement_window_is_not_validity():
    """UT R317-10-11 D: reinstatable for three months, but expired meanwhile."""
    data = expiry_case("2025-12-31")
    data["period"] = {"start": "2026-01-01T00:00:00-07:00", "end": "2026-01-02T00:00:00-07:00"}
    assert ("drc-unqualified", ("a",)) in rules(run(data))


def test_expiry_during_a_fall_back_night_counts_local_hours():
    """DST: a certificate expiring 2025-11-01 in Denver ends at 00:00 MDT (06:00 UTC); the
    9-hour shift that night has 7 hours left after it, the clock repeating 01:00-02:00."""
    data = scenario(
        "UT",
        operators=[op("a", cert("II"))],
        shifts=[
            shift_between(
                "fall-back night",
                "2025-11-01T22:00:00-06:00",
                "2025-11-02T06:00:00-07:00",
                member("a", "drc"),
            )
        ],
        period=("2025-11-01T00:00:00-06:00", "2025-11-03T00:00:00-07:00"),
        expiry_horizon_days=0,
    )
    f = only(check(expiring_on(data, "2025-11-01")), "drc-unqualified")
    assert f.start == datetime(2025, 11, 2, 6, 0, tzinfo=UTC)
    assert (f.end - f.start).total_seconds() == 7 * 3600
    assert "2025-11-02 00:00 MDT to 06:00 MST (7 h)" in f.message


def vt_grade_3_renewal(training):
    """A day of a class 3 VT plant two months before "a"'s grade 3 certificate expires."""
    return scenario(
        "VT",
        facility_kw={"class": "3"},
        operators=[
            op(
                "a",
                cert("3", state="VT", issued="2020-07-01", expires="2025-07-01"),
                training=training,
            )
        ],
        period=(at("VT", "00:00", "2025-05-01"), at("VT", "00:00", "2025-05-02")),
    )


@pytest.mark.parametrize(
    ("training", "finding", "fragment"),
    [
        # VT grade 3 needs 30 h; online at most 50 % of that (15 h).
        ([(30, False)], None, ""),
        ([(15, False), (15, True)], None, ""),
        ([(10, False), (20, True)], "renewal-training", "of which only 15 h count"),
        ([(30, True)], "renewal-training", "15 h are missing"),
        ([(20, False)], "renewal-training", "10 h are missing"),
    ],
)
def test_vt_renewal_training_online_capped_at_half(training, finding, fragment):
    """VT §6(c)(ii): hours by grade in the five years before; online at most 50 %."""
    records = [{"date": "2024-03-01", "hours": h, "online": online} for h, online in training]
    report = run(vt_grade_3_renewal(records))
    assert ("certificate-expiring", ("a",)) in rules(report)
    found = [f for f in report.findings if f.rule == "renewal-training"]
    if finding is None:
        assert found == []
    else:
        assert len(found) == 1 and fragment in found[0].message, found
        assert found[0].severity == "warning"
        assert "VT §6(c)(ii)" in found[0].citation


def test_vt_training_outside_window_or_unapproved_does_not_count():
    records = [
        {"date": "2019-12-01", "hours": 30},
        {"date": "2024-01-01", "hours": 30, "approved": False},
    ]
    assert "30 h are missing" in only(run(vt_grade_3_renewal(records)), "renewal-training").message


@pytest.mark.parametrize(
    ("grade", "hours", "short"),
    [("1", 20, False), ("2A", 39, True), ("3", 60, False), ("4A", 79, True)],
)
def test_ny_table_3_renewal_hours(grade, hours, short):
    """NY 650.12(c) Table 3: 20, 40, 60, 80 contact hours by grade (A series alike)."""
    data = scenario(
        "NY",
        facility_kw={"points": 20, "activated_sludge": grade.endswith("A")},
        operators=[
            op(
                "a",
                cert(grade, state="NY", issued="2021-01-01", expires="2025-07-31"),
                training=[{"date": "2023-02-01", "hours": hours, "online": True}],
            )
        ],
    )
    assert (("renewal-training", ("a",)) in rules(run(data))) is short


DECEMBER = (at("UT", "00:00", "2025-12-01"), at("UT", "00:00", "2025-12-02"))


def test_renewed_certificate_silences_expiry_warning():
    data = scenario(
        "UT",
        operators=[
            op(
                "a",
                cert("II", issued="2023-01-01", expires="2025-12-31"),
                cert("II", issued="2025-11-15", expires="2027-12-31"),
            )
        ],
        period=DECEMBER,
    )
    assert rules(run(data)) == []


def test_expiry_warning_horizon_is_the_sites():
    data = scenario(
        "NY",
        facility_kw={"points": 20},
        operators=[op("a", cert("1", state="NY", expires="2025-08-31"))],
        expiry_horizon_days=30,
    )
    assert rules(run(data)) == []
    data["expiry_horizon_days"] = 90
    f = only(run(data), "certificate-expiring")
    assert f.severity == "warning" and "82 days after this period" in f.message


@pytest.mark.parametrize(
    ("added", "finding"),
    [
        (None, None),
        (["2023-01-01"], "lapsed one year after a process was added on 2023-01-01"),
        (["2024-06-10"], "lapsed one year after a process was added on 2024-06-10"),
        (["2025-01-15", "2024-03-01"], "added on 2024-03-01"),
    ],
)
def test_grandfather_lapses_a_year_after_a_process_is_added(added, finding):
    """UT R317-10-11 G: a new process gives the holder one year to get a full certificate."""
    kw = {"processes_added": added} if added else {}
    data = scenario(
        "UT",
        facility_kw=kw,
        operators=[op("a", cert("II", kind="grandfather", facility="plant"))],
        shifts=[shift("UT", member("a", "drc"))],
    )
    report = run(data)
    if finding is None:
        assert rules(report) == []
    else:
        assert finding in only(report, "drc-unqualified").message


def test_grandfather_deadline_is_warned_like_an_expiry():
    data = scenario(
        "UT",
        facility_kw={"processes_added": ["2024-09-01"]},
        operators=[op("a", cert("II", kind="grandfather", facility="plant"))],
        shifts=[shift("UT", member("a", "drc"))],
    )
    f = only(run(data), "certificate-expiring")
    assert rules(run(data), severity="violation") == []
    assert "stops qualifying at the end of 2025-08-31, 82 days after this period" in f.message
    assert "R317-10-11 G" in f.citation


@pytest.mark.parametrize(
    ("facility_kw", "certificate", "qualifies", "section"),
    [
        (
            {"category": "small_lagoon", "population": 2000},
            cert("I", category="small_lagoon"),
            True,
            "UT R317-10-11 A 5",
        ),
        (
            {"category": "small_lagoon", "population": 2000},
            cert("I"),
            True,
            "treatment certificate at a lagoon (our reading)",
        ),
        (
            {"category": "small_lagoon", "population": 2000},
            cert("IV", category="collection"),
            False,
            "collection certificate at a lagoon",
        ),
        (
            {"class": "I"},
            cert("I", category="small_lagoon"),
            False,
            "small lagoon certificate at a treatment plant",
        ),
        (
            {"category": "collection", "population": 20000},
            cert("III", category="collection"),
            True,
            "UT Table 1 collection III",
        ),
        (
            {"category": "collection", "population": 20000},
            cert("II", category="collection"),
            False,
            "UT Table 1 collection III, grade II",
        ),
        (
            {"category": "collection", "population": 20000},
            cert("IV"),
            False,
            "treatment certificate at a collection system (R317-10-4 B)",
        ),
    ],
)
def test_ut_categories(facility_kw, certificate, qualifies, section):
    data = scenario(
        "UT",
        facility_kw=facility_kw,
        operators=[op("a", certificate), op("b", cert("I"))],
        shifts=[shift("UT", member("a", "drc"), member("b", "operator"))],
    )
    got = rules(run(data), severity="violation")
    assert got == ([] if qualifies else [("drc-unqualified", ("a",))]), section


def test_ut_renewal_hours_are_not_judged_without_the_ceu_amount():
    """UT R317-10-11 C, E name CEUs but not how many: expiry is warned, hours are not."""
    data = scenario(
        "UT",
        operators=[op("a", cert("II", issued="2023-01-01", expires="2025-12-31"))],
        period=DECEMBER,
    )
    assert rules(run(data)) == [("certificate-expiring", ("a",))]
