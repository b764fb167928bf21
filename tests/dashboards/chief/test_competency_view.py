"""Who needs supervision for what on the chief's page: each person's level at the site and
the entry kinds the site's policy lets them record at it (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from compliance.competency import DEFAULT_POLICY, Assessment, policy_with
from compliance.grades import Grade
from compliance.model import ClassPeriod, CrewMember, Facility, Operator, Period, Scenario, Shift
from dashboards.chief.competency import person_levels

T = datetime(2026, 3, 3, 13, tzinfo=UTC)
FACILITY = Facility(
    "Demo", "UT", "treatment", "America/Denver", (ClassPeriod(Grade(2)),), id="demo-wwtp"
)


def scenario(*operators: Operator, trainee: str | None = None, competency=DEFAULT_POLICY):
    crew = (CrewMember(trainee, "trainee"),) if trainee else ()
    return Scenario(
        "UT",
        FACILITY,
        Period(T, T),
        operators=operators,
        shifts=(Shift("1", T, T, crew),),
        competency=competency,
    )


NAMES = {"1": "Ana Ruiz", "2": "Ben Cho", "3": "Tess Trainee", "9": "Casey Chief"}


def test_levels_and_what_each_may_record():
    ben = Operator(
        "2",
        assessments=(
            Assessment("developing", date(2025, 1, 1), "9", "", "10"),
            Assessment("advanced", date(2025, 1, 1), "9", "typo", "11"),
            Assessment("proficient", date(2025, 1, 1), "9", "review", "12", supersedes="11"),
            Assessment("advanced", date(2026, 6, 1), "9", "", "13"),  # not yet
        ),
    )
    ana = Operator("1")
    tess = Operator("3", assessments=(Assessment("developing", date(2025, 1, 1), "9"),))
    ana_v, ben_v, tess_v = person_levels(
        scenario(ben, ana, tess, trainee="3"), date(2026, 3, 3), NAMES
    )
    # No level on record: counted as emerging; every kind wants verification or supervision.
    assert (ana_v.name, ana_v.level, ana_v.on_record) == ("Ana Ruiz", "emerging", False)
    assert ana_v.unsupervised == ()
    assert "reading" in ana_v.verify and "note" in ana_v.verify
    assert {"chemical_addition", "sample", "lab_result"} <= set(ana_v.direct)
    # The newest in force by the day, the correction in place of the one it supersedes.
    assert (ben_v.level, ben_v.assessed_on, ben_v.assessor, ben_v.note) == (
        "proficient",
        date(2025, 1, 1),
        "Casey Chief",
        "review",
    )
    assert ben_v.verify == ben_v.direct == ()
    assert tess_v.trainee and tess_v.level == "developing"


def test_the_sites_policy_decides_the_kinds():
    policy = policy_with({"reading": ("emerging", "verify"), "note": ("proficient", "direct")})
    dev = Operator("2", assessments=(Assessment("developing", date(2025, 1, 1), "9"),))
    (view,) = person_levels(scenario(Operator("1"), competency=policy), date(2026, 3, 3), NAMES)
    assert "reading" in view.unsupervised
    (view,) = person_levels(scenario(dev, competency=policy), date(2026, 3, 3), NAMES)
    assert "note" in view.direct and "reading" in view.unsupervised
