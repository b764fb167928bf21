"""Day rows of the chief operator's coverage month: tables of cases, DST days included."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from compliance.report import CoverageInterval, Finding
from dashboards.chief.view import (
    basis_text,
    day_rows,
    drc_colours,
    duration_text,
    finding_views,
    month_period,
    parse_month,
    shift_month,
)

DENVER = ZoneInfo("America/Denver")
NAMES = {"1": "Ana Ruiz", "2": "Ben Cho", "3": "Tess Trainee"}


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=DENVER).astimezone(UTC)  # type: ignore[arg-type,misc]


def cov(
    a: datetime,
    b: datetime,
    drc: tuple[str, ...] = (),
    on: tuple[str, ...] = (),
    shift: bool = True,
) -> CoverageInterval:
    return CoverageInterval(a, b, ("7",) if shift else (), drc, on or drc, drc)


def finding(rule: str, a: datetime, b: datetime, severity: str = "violation") -> Finding:
    return Finding(rule, severity, a, b, ("1",), ("42",), f"{rule} message", "R317-10-4 I")


def lanes(row) -> list[tuple[float, float, str, tuple[str, ...]]]:
    return [(s.left, s.width, s.kind, s.drc) for s in row.spans]


@pytest.mark.parametrize(
    ("day", "coverage", "expected_hours", "expected"),
    [
        pytest.param(
            date(2026, 3, 3),
            [cov(local(2026, 3, 3, 6), local(2026, 3, 3, 18), ("1",))],
            24,
            [(0, 25, "off", ()), (25, 50, "drc", ("Ana Ruiz",)), (75, 25, "off", ())],
            id="ordinary day, one day shift",
        ),
        pytest.param(
            # Spring forward in Denver: 02:00 does not exist; local noon is 11 h in.
            date(2026, 3, 8),
            [cov(local(2026, 3, 8, 0), local(2026, 3, 8, 12), ("1",))],
            23,
            [(0, 47.826, "drc", ("Ana Ruiz",)), (47.826, 52.174, "off", ())],
            id="23 h day (DST starts)",
        ),
        pytest.param(
            # Fall back: 01:00-02:00 happens twice; local noon is 13 h in.
            date(2026, 11, 1),
            [cov(local(2026, 11, 1, 0), local(2026, 11, 1, 12), ("2",))],
            25,
            [(0, 52, "drc", ("Ben Cho",)), (52, 48, "off", ())],
            id="25 h day (DST ends)",
        ),
        pytest.param(
            date(2026, 3, 3),
            [
                cov(local(2026, 3, 3, 0), local(2026, 3, 3, 6), ("1",)),
                cov(local(2026, 3, 3, 6), local(2026, 3, 3, 12), ("1",)),
                cov(local(2026, 3, 3, 12), local(2026, 3, 3, 18), (), ("2",)),
                cov(local(2026, 3, 3, 18), local(2026, 3, 4, 0), (), shift=False),
            ],
            24,
            [(0, 50, "drc", ("Ana Ruiz",)), (50, 25, "gap", ()), (75, 25, "off", ())],
            id="same DRC merged, then a gap with crew but no DRC, then no shift",
        ),
        pytest.param(
            date(2026, 3, 3),
            [cov(local(2026, 3, 2, 18), local(2026, 3, 3, 6), ("2",))],
            24,
            [(0, 25, "drc", ("Ben Cho",)), (25, 75, "off", ())],
            id="night shift from the day before, clipped at local midnight",
        ),
    ],
)
def test_coverage_lane(day, coverage, expected_hours, expected):
    (row,) = day_rows([day], DENVER, coverage, [], NAMES)
    assert row.hours == expected_hours
    assert row.clock_change == (expected_hours != 24)
    assert lanes(row) == expected
    assert sum(s.width for s in row.spans) == pytest.approx(100)
    assert row.spans[0].start == row.start and row.spans[-1].end == row.end


@pytest.mark.parametrize(
    ("day", "ticks"),
    [
        (date(2026, 3, 3), [(25.0, "06"), (50.0, "12"), (75.0, "18")]),
        (date(2026, 3, 8), [(21.739, "06"), (47.826, "12"), (73.913, "18")]),
        (date(2026, 11, 1), [(28.0, "06"), (52.0, "12"), (76.0, "18")]),
    ],
)
def test_hour_lines_follow_the_local_clock(day, ticks):
    (row,) = day_rows([day], DENVER, [], [], NAMES)
    assert [(t.left, t.label) for t in row.ticks] == ticks


def test_the_rest_of_today_is_not_yet():
    day = date(2026, 3, 3)
    coverage = [cov(local(2026, 3, 3, 0), local(2026, 3, 4, 0), ("1",))]
    (row,) = day_rows([day], DENVER, coverage, [], NAMES, now=local(2026, 3, 3, 18))
    assert lanes(row) == [(0, 75, "drc", ("Ana Ruiz",)), (75, 25, "future", ())]
    (later,) = day_rows([date(2026, 3, 5)], DENVER, coverage, [], NAMES, now=local(2026, 3, 3, 18))
    assert later.status == "future"


@pytest.mark.parametrize(
    ("findings", "expected_by_day", "status_by_day"),
    [
        pytest.param(
            [finding("drc-missing", local(2026, 3, 3, 22), local(2026, 3, 4, 3))],
            {
                date(2026, 3, 3): [(0, "drc-missing", 91.667, 8.333)],
                date(2026, 3, 4): [(0, "drc-missing", 0, 12.5)],
            },
            {date(2026, 3, 3): "violation", date(2026, 3, 4): "violation"},
            id="a gap across midnight shows on both days",
        ),
        pytest.param(
            [finding("countersign-missing", local(2026, 3, 4, 12), local(2026, 3, 4, 12))],
            {date(2026, 3, 3): [], date(2026, 3, 4): [(0, "countersign-missing", 50, 0)]},
            {date(2026, 3, 3): "ok", date(2026, 3, 4): "violation"},
            id="an instant finding is a mark of width 0 on its day",
        ),
        pytest.param(
            [
                finding("certificate-expiring", local(2026, 3, 1), local(2026, 4, 1), "warning"),
                finding("no-rule-set", local(2026, 3, 4, 6), local(2026, 3, 4, 12), "warning"),
            ],
            {date(2026, 3, 3): [], date(2026, 3, 4): [(1, "no-rule-set", 25, 25)]},
            {date(2026, 3, 3): "ok", date(2026, 3, 4): "warning"},
            id="records warnings stay off the timeline; index is the report's",
        ),
        pytest.param(
            [
                finding(
                    "supervision-missing", local(2026, 3, 4, 12), local(2026, 3, 4, 12), "policy"
                ),
                finding("no-shift-recorded", local(2026, 3, 3, 6), local(2026, 3, 3, 12), "gap"),
            ],
            {date(2026, 3, 3): [], date(2026, 3, 4): [(0, "supervision-missing", 50, 0)]},
            {date(2026, 3, 3): "ok", date(2026, 3, 4): "warning"},
            id="a site policy finding is no violation; the record's gaps stay off the timeline",
        ),
        pytest.param(
            [finding("drc-missing", local(2026, 3, 3, 0), local(2026, 3, 4, 0))],
            {date(2026, 3, 3): [(0, "drc-missing", 0, 100)], date(2026, 3, 4): []},
            {date(2026, 3, 3): "violation", date(2026, 3, 4): "ok"},
            id="a finding ending at midnight does not touch the next day",
        ),
    ],
)
def test_findings_on_the_days_they_touch(findings, expected_by_day, status_by_day):
    days = sorted(expected_by_day)
    coverage = [cov(local(2026, 3, 3), local(2026, 3, 5), ("1",))]
    rows = day_rows(days, DENVER, coverage, findings, NAMES)
    assert [row.day for row in rows] == days
    for row in rows:
        got = [(m.finding, m.rule, m.left, m.width) for m in row.marks]
        assert got == expected_by_day[row.day]
        assert row.status == status_by_day[row.day]


def test_a_day_without_shifts_is_off():
    (row,) = day_rows([date(2026, 3, 3)], DENVER, [], [], NAMES)
    assert row.status == "off"
    assert lanes(row) == [(0, 100, "off", ())]


def test_finding_views_name_people_and_entries():
    f = finding("drc-missing", local(2026, 3, 3, 14), local(2026, 3, 3, 16, 5))
    coverage = [
        cov(local(2026, 3, 3, 6), local(2026, 3, 3, 15), ("2",)),
        cov(local(2026, 3, 3, 15), local(2026, 3, 3, 18), (), ("3",)),
        cov(local(2026, 3, 3, 18), local(2026, 3, 3, 20), ("1",)),
    ]
    (view,) = finding_views([f], NAMES, DENVER, coverage)
    assert view.on_site == ("Ben Cho", "Tess Trainee")  # not Ana, from 18:00
    (instant,) = finding_views(
        [finding("x", local(2026, 3, 3, 15), local(2026, 3, 3, 15))], NAMES, DENVER, coverage
    )
    assert instant.on_site == ("Tess Trainee",)
    assert view.anchor == "f-0"
    assert view.people == (("1", "Ana Ruiz"),)
    assert view.entries == (42,)
    assert view.duration == "2 h 05 min"
    assert view.start.hour == 14 and view.start.utcoffset() is not None
    assert view.on_timeline


@pytest.mark.parametrize(
    ("severity", "basis", "citation", "text"),
    [
        ("violation", "regulation", "UT R317-10-4 I", "Violation of UT R317-10-4 I"),
        ("warning", "regulation", "UT R317-10-11 C", "Warning under UT R317-10-11 C"),
        (
            "policy",
            "site policy",
            "Competency framework 51-8031.00 (site policy), emerging: ...",
            "Site policy (competency framework), not a violation of law",
        ),
        ("gap", "record", "", "The record: no shift recorded, nothing judged"),
    ],
)
def test_what_a_finding_rests_on(severity, basis, citation, text):
    """A regulation's finding reads as a violation of (or warning under) the cited rule; a
    site policy's never as a violation of law."""
    assert basis_text(severity, basis, citation) == text


def test_finding_views_carry_basis_and_name_samples_and_results():
    f = Finding(
        "supervision-missing", "policy", local(2026, 3, 3, 9), local(2026, 3, 3, 10), ("3",),
        ("41", "sample-7", "result-12"), "message", "Competency framework 51-8031.00 ...",
        "site policy",
    )  # fmt: skip
    (view,) = finding_views([f], NAMES, DENVER)
    assert (view.severity_label, view.basis) == ("site policy", "site policy")
    assert view.basis_text.startswith("Site policy (competency framework)")
    assert view.entries == (41,)
    assert view.other_records == ("sample 7", "result 12")
    (violation,) = finding_views(
        [finding("drc-missing", local(2026, 3, 3), local(2026, 3, 3, 1))], NAMES, DENVER
    )
    assert (violation.severity_label, violation.basis_text) == (
        "violation",
        "Violation of R317-10-4 I",
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "at one moment"), (20, "at one moment"), (45 * 60, "45 min"), (3600, "1 h 00 min"),
     (7500, "2 h 05 min"), (86400 + 60, "1 d 0 h 01 min")],
)  # fmt: skip
def test_duration_text(seconds, text):
    assert duration_text(seconds) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, (2026, 3)), ("", (2026, 3)), ("2025-11", (2025, 11)), ("2026-1", (2026, 1))],
)
def test_parse_month(text, expected):
    assert parse_month(text, date(2026, 3, 17)) == expected


@pytest.mark.parametrize("text", ["2026-13", "March", "2026-03-01", "0-01", "2026-00"])
def test_parse_month_names_the_problem(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month(text, date(2026, 3, 17))


@pytest.mark.parametrize(
    ("year", "month", "step", "expected"),
    [(2026, 1, -1, (2025, 12)), (2026, 12, 1, (2027, 1)), (2026, 5, 0, (2026, 5))],
)
def test_shift_month(year, month, step, expected):
    assert shift_month(year, month, step) == expected


def test_month_period_stops_at_now():
    first, last = local(2026, 3, 1), local(2026, 4, 1)
    assert month_period(first, last, local(2026, 3, 10)) == (first, local(2026, 3, 10))
    assert month_period(first, last, local(2026, 5, 1)) == (first, last)
    assert month_period(first, last, local(2026, 2, 27)) is None


def test_each_drc_keeps_a_colour_across_the_month():
    coverage = [
        cov(local(2026, 3, 3, 0), local(2026, 3, 3, 12), ("1",)),
        cov(local(2026, 3, 3, 12), local(2026, 3, 4, 12), ("2",)),
        cov(local(2026, 3, 4, 12), local(2026, 3, 5, 0), ("1",)),
    ]
    rows = day_rows([date(2026, 3, 3), date(2026, 3, 4)], DENVER, coverage, [], NAMES)
    assert drc_colours(rows) == {("Ana Ruiz",): 0, ("Ben Cho",): 1}
