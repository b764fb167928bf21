"""The sweep line against a brute-force reading of the same facts, on random scenarios."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.engine import check
from compliance.grades import Grade
from compliance.model import (
    Certificate,
    ClassPeriod,
    CrewMember,
    Entry,
    Facility,
    Operator,
    Period,
    Scenario,
    Shift,
)
from compliance.qualification import build_timeline
from compliance.rulesets import VT_2014

T0 = datetime(2025, 3, 8, 12, tzinfo=UTC)  # spans the US spring-forward night
HOURS = 48
FACILITY = Facility(
    name="Prop Plant",
    state="VT",
    category="treatment",
    timezone="America/New_York",
    classes=(ClassPeriod(Grade(3)),),
)
OPS = ("a", "b", "c", "d")
ROLES = ("drc", "chief", "assistant_chief", "operator", "trainee")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@st.composite
def certificates(draw, owner):
    certs = []
    for i in range(draw(st.integers(0, 2))):
        issued = date(2025, 3, 7) + timedelta(days=draw(st.integers(0, 2)))
        expires = issued + timedelta(days=draw(st.integers(0, 3)))
        certs.append(
            Certificate(
                id=f"{owner}{i}",
                state="VT",
                category="treatment",
                grade=Grade(draw(st.integers(1, 5))),
                kind=draw(st.sampled_from(("full", "provisional"))),
                issued=issued,
                expires=expires,
            )
        )
    return tuple(certs)


@st.composite
def span(draw, lo, hi):
    a = draw(st.integers(lo, hi - 1))
    b = draw(st.integers(a + 1, hi))
    return a, b


@st.composite
def scenarios(draw):
    operators = tuple(Operator(o, certificates=draw(certificates(o))) for o in OPS)
    shifts = []
    for k in range(draw(st.integers(0, 4))):
        s, e = draw(span(0, HOURS * 60))
        crew = []
        for o in draw(st.lists(st.sampled_from(OPS), unique=True, max_size=4)):
            on_site = None
            if draw(st.booleans()):
                pieces = sorted(draw(st.lists(span(s, e), max_size=2)))
                on_site = tuple((at(a), at(b)) for a, b in pieces)
            crew.append(CrewMember(o, draw(st.sampled_from(ROLES)), on_site))
        shifts.append(Shift(f"s{k}", at(s), at(e), tuple(crew)))
    entries = tuple(
        Entry(f"e{i}", at(m), draw(st.sampled_from(OPS)), draw(st.booleans()))
        for i, m in enumerate(draw(st.lists(st.integers(0, HOURS * 60 - 1), max_size=12)))
    )
    p0, p1 = draw(span(0, HOURS * 60))
    return Scenario(
        rules="VT",
        facility=FACILITY,
        period=Period(at(p0), at(p1)),
        operators=operators,
        shifts=tuple(shifts),
        entries=entries,
    )


def brute(s: Scenario, t: datetime):
    """Who is certified on site, who holds charge (VT: chief, assistant chief, DRC, the first
    meeting its grade; if none does, every one of them), whether a shift is running, and
    whether only unqualified DRCs (a role with no grade rule of its own) hold charge."""
    timelines = {o.id: build_timeline(o, s.facility, VT_2014) for o in s.operators}
    need = VT_2014.required(s.facility.classes[0].grade)
    present, candidates, running = set(), set(), False
    for sh in s.shifts:
        if not sh.start <= t < sh.end:
            continue
        running = True
        for m in sh.crew:
            spans = m.on_site if m.on_site is not None else ((sh.start, sh.end),)
            if any(a <= t < b for a, b in spans):
                present.add(m.operator)
                if m.role in VT_2014.charge_roles:
                    candidates.add((VT_2014.charge_roles.index(m.role), m.operator, m.role))
    certified = tuple(sorted(o for o in present if timelines[o].certified(t)))
    ordered = sorted(candidates)
    qualified = [o for _, o, r in ordered if timelines[o].meets(t, need[r])]
    in_charge = (qualified[0],) if qualified else tuple(dict.fromkeys(o for _, o, _ in ordered))
    unqualified_drc = not qualified and any(r == "drc" for _, _, r in ordered)
    return certified, in_charge, running, unqualified_drc


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.lists(st.integers(0, HOURS * 60 - 1), max_size=20))
def test_sweep_agrees_with_brute_force(s, probes):
    report = check(s)
    # Entry stamps are what a per-entry scan of every shift would say.
    for stamp in report.entries:
        certified, drc, _, _ = brute(s, stamp.time)
        assert (stamp.certified_on_duty, stamp.drc) == (certified, drc)
    inside = [e.id for e in s.entries if s.period.start <= e.time < s.period.end]
    assert [x.id for x in report.entries] == inside

    # Coverage tiles the period exactly.
    assert report.coverage
    assert report.coverage[0].start == s.period.start
    assert report.coverage[-1].end == s.period.end
    for a, b in zip(report.coverage, report.coverage[1:], strict=False):
        assert a.end == b.start

    # VT: no rule requires a designated DRC on site.
    assert not [f for f in report.findings if f.rule == "drc-missing"]
    unqualified = [f for f in report.findings if f.rule == "drc-unqualified"]
    gaps = [f for f in report.findings if f.rule == "no-shift-recorded"]
    no_certified = [f for f in report.findings if f.rule == "certified-on-site"]
    for m in probes:
        t = at(m)
        if not s.period.start <= t < s.period.end:
            continue
        certified, drc, running, unqualified_drc = brute(s, t)
        cov = next(c for c in report.coverage if c.start <= t < c.end)
        assert (cov.certified_on_site, cov.drc) == (certified, drc)
        # drc-unqualified covers exactly the running moments when only unqualified DRCs
        # hold charge; the gaps exactly the moments with no shift running.
        assert any(f.start <= t < f.end for f in unqualified) == (running and unqualified_drc)
        assert any(f.start <= t < f.end for f in gaps) == (not running)
        # No finding about a moment of operation spans time without a shift.
        if not running:
            for f in report.findings:
                if f.severity == "violation" and f.start < f.end:
                    assert not f.start <= t < f.end, f

    flagged = {e for f in no_certified for e in f.entries}
    expected = {
        e.id
        for e in s.entries
        if s.period.start <= e.time < s.period.end and e.operational and not brute(s, e.time)[0]
    }
    assert flagged == expected
