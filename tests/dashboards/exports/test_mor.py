"""The monthly report's numbers against an independent computation from raw samples."""

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from dashboards.exports.mor import Column, Daily, Monthly, compute
from dashboards.exports.statistics import BelowDetection, Missing, Stat

TZ = ZoneInfo("America/Denver")
YEAR, MONTH = 2026, 3  # clocks spring forward on March 8
NO_DATA_DAY = date(2026, 3, 17)
COLUMNS = [
    Column("flow_total", "Total flow", "m3", Daily.TOTAL, "effluent.total"),
    Column("flow_avg", "Flow", "m3/h", Daily.AVG, "effluent.flow"),
    Column("flow_max", "Peak flow", "m3/h", Daily.MAX, "effluent.flow", (Monthly.MAX,)),
    Column("pump_hours", "Pump hours", "h", Daily.HOURS, "pump1.run", (Monthly.TOTAL,)),
    Column("ecoli", "E. coli", "MPN/100 mL", Daily.LAB, "ecoli", (Monthly.GEOMEAN,)),
    Column("tss", "TSS", "mg/L", Daily.LAB, "tss", (Monthly.AVG, Monthly.MAX)),
]


def flow(t: datetime) -> float:
    hours = t.timestamp() / 3600
    return 400 + 150 * math.sin(hours / 24 * 2 * math.pi) + (hours % 7)


def raw_samples():
    """Minute samples from the evening before the month to its end, none on NO_DATA_DAY."""
    start = datetime(2026, 2, 28, 20, tzinfo=TZ).astimezone(UTC)
    end = datetime(2026, 4, 1, tzinfo=TZ).astimezone(UTC)
    total = 1_000_000.0
    t = start
    while t < end:
        total += flow(t) / 60
        if t.astimezone(TZ).date() != NO_DATA_DAY:
            run = 1.0 if t.astimezone(TZ).hour < 6 else 0.0
            yield t, {"effluent.total": total, "effluent.flow": flow(t), "pump1.run": run}
        t += timedelta(minutes=1)


def hourly_frame(samples):
    acc = defaultdict(lambda: {"n_good": 0, "sum": 0.0, "min": math.inf, "max": -math.inf})
    for t, values in samples:
        bucket = t.replace(minute=0, second=0, microsecond=0)
        for tag, v in values.items():
            a = acc[(tag, bucket)]
            a["n_good"] += 1
            a["sum"] += v
            a["min"] = min(a["min"], v)
            a["max"] = max(a["max"], v)
            a["last"] = v
    return pd.DataFrame(
        [{"tag": tag, "bucket": pd.Timestamp(b), **a} for (tag, b), a in acc.items()]
    )


LAB = pd.DataFrame(
    [
        {
            "analyte": "ecoli",
            "sampled_at": pd.Timestamp("2026-03-03T16:00Z"),
            "value": 10.0,
            "qualifier": None,
            "detection_limit": 1.0,
        },
        {
            "analyte": "ecoli",
            "sampled_at": pd.Timestamp("2026-03-10T16:00Z"),
            "value": 1000.0,
            "qualifier": None,
            "detection_limit": 1.0,
        },
        {
            "analyte": "tss",
            "sampled_at": pd.Timestamp("2026-03-03T16:00Z"),
            "value": 12.0,
            "qualifier": None,
            "detection_limit": 2.0,
        },
        # Sampled at 23:30 local on the 9th: that is the 10th in UTC, but the 9th's result.
        {
            "analyte": "tss",
            "sampled_at": pd.Timestamp("2026-03-10T05:30Z"),
            "value": 2.0,
            "qualifier": "<",
            "detection_limit": 2.0,
        },
    ]
)


@pytest.fixture(scope="module")
def report():
    samples = list(raw_samples())
    days, monthly = compute(
        columns=COLUMNS,
        hourly=hourly_frame(samples),
        lab=LAB,
        year=YEAR,
        month=MONTH,
        tz=TZ,
        rule=BelowDetection.HALF_LIMIT,
        in_charge={},
    )
    return samples, {d.day: d for d in days}, monthly


def independent_daily(samples, tag):
    by_day = defaultdict(list)
    for t, values in samples:
        by_day[t.astimezone(TZ).date()].append(values[tag])
    return by_day


def test_one_row_per_plant_day_with_the_dst_day_23_hours(report):
    _, days, _ = report
    assert len(days) == 31
    assert days[date(2026, 3, 8)].hours == 23
    assert {d.hours for day, d in days.items() if day != date(2026, 3, 8)} == {24}


def test_daily_flow_average_and_peak_match_raw_samples(report):
    samples, days, monthly = report
    by_day = independent_daily(samples, "effluent.flow")
    for day, row in days.items():
        if day == NO_DATA_DAY:
            continue
        assert row.values["flow_avg"].value == pytest.approx(sum(by_day[day]) / len(by_day[day]))
        assert row.values["flow_max"].value == pytest.approx(max(by_day[day]))
    assert monthly["flow_max"][Monthly.MAX].value == pytest.approx(
        max(max(v) for d, v in by_day.items() if d.month == MONTH)
    )


def test_daily_totals_match_the_totalizer(report):
    samples, days, _ = report
    last_of_day = {}
    for t, values in samples:
        last_of_day[t.astimezone(TZ).date()] = values["effluent.total"]
    for day in (date(2026, 3, 1), date(2026, 3, 8), date(2026, 3, 20)):
        expected = last_of_day[day] - last_of_day[day - timedelta(days=1)]
        assert days[day].values["flow_total"].value == pytest.approx(expected)
    # The day after the gap carries the volume of both: the meter kept counting.
    after = date(2026, 3, 18)
    assert days[after].values["flow_total"].value == pytest.approx(
        last_of_day[after] - last_of_day[date(2026, 3, 16)]
    )


def test_a_day_without_data_is_missing_with_a_reason(report):
    _, days, _ = report
    row = days[NO_DATA_DAY].values
    assert row["flow_avg"] == Missing("NO_DATA")
    assert row["flow_total"] == Missing("PARTIAL")
    assert row["pump_hours"] == Missing("NO_DATA")


def test_pump_hours_follow_local_time(report):
    _, days, monthly = report
    # Midnight to 06:00 local is 6 hours, except on March 8 when 02:00 never happens.
    assert days[date(2026, 3, 7)].values["pump_hours"].value == pytest.approx(6.0)
    assert days[date(2026, 3, 8)].values["pump_hours"].value == pytest.approx(5.0)
    assert monthly["pump_hours"][Monthly.TOTAL].value == pytest.approx(6.0 * 29 + 5.0)


def test_lab_values_by_plant_day_and_below_detection(report):
    _, days, monthly = report
    assert days[date(2026, 3, 9)].values["tss"] == Stat(2.0, "<", 1)
    assert days[date(2026, 3, 10)].values["tss"] == Missing("NOT_SAMPLED")
    # Half the detection limit for the non-detect: (12 + 1) / 2.
    assert monthly["tss"][Monthly.AVG].value == pytest.approx(6.5)
    assert monthly["tss"][Monthly.MAX] == Stat(12.0, None, 2)
    assert monthly["ecoli"][Monthly.GEOMEAN].value == pytest.approx(100.0)


def _report(report_fixture):
    from dashboards.exports.mor import InCharge, MonthlyReport

    _, days, monthly = report_fixture
    rows = list(days.values())
    rows[0].in_charge = [InCharge("Day", "Dana Drc", "UT WW treatment Grade III #T-1207")]
    return MonthlyReport(
        facility="Clearwell Demo WWTP",
        facility_code="demo-wwtp",
        permit="UT0021717",
        year=YEAR,
        month=MONTH,
        timezone="America/Denver",
        columns=COLUMNS,
        days=rows,
        monthly=monthly,
        below_detection=BelowDetection.HALF_LIMIT,
        responsible_operator="Dana Drc",
        responsible_certificate="UT Grade III #T-1207",
        generated_at=datetime(2026, 4, 2, 15, tzinfo=UTC),
        generated_by="chief",
    )


def test_csv_has_a_row_per_day_and_shows_missing_reasons(report):
    import csv
    import io

    from dashboards.exports.mor_render import to_csv

    rows = list(csv.reader(io.StringIO(to_csv(_report(report)).decode())))
    table = [r for r in rows if not r[0].startswith("#")]
    assert table[0][0] == "date" and table[0][-1] == "operator in responsible charge"
    # Day rows, not the statistics', the limits' or the exceedances' rows after them.
    days = [r for r in table[1:] if r[0][:2] == "20"]
    assert len(days) == 31
    by_date = {r[0]: r for r in days}
    assert by_date["2026-03-08"][1] == "23"
    no_data = by_date[NO_DATA_DAY.isoformat()]
    assert no_data[table[0].index("Flow (m3/h) [avg]")] == "NO_DATA"
    assert by_date["2026-03-09"][table[0].index("TSS (mg/L) [lab]")] == "<2"
    assert "Dana Drc" in by_date["2026-03-01"][-1]
    assert [
        "# Results below detection",
        "results below detection counted as half the detection limit",
    ] in rows


def test_pdf_carries_the_values_reasons_and_signature_block(report):
    import io

    from pypdf import PdfReader

    from dashboards.exports.mor_pdf import to_pdf

    pdf = to_pdf(_report(report))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Monthly Operating Report: Clearwell Demo WWTP" in text
    assert "NO_DATA" in text and "NOT_SAMPLED" in text
    assert "half the detection limit" in text
    assert "I certify under penalty of law" in text
    assert "Operator in responsible charge: Dana Drc" in text


def test_a_wide_report_is_split_into_tables_that_fit_the_page(report):
    import io
    from dataclasses import replace

    from pypdf import PdfReader

    from dashboards.exports.mor import Column
    from dashboards.exports.mor_layout import COLUMNS_PER_TABLE
    from dashboards.exports.mor_pdf import to_pdf

    base = _report(report)
    flow = next(c for c in COLUMNS if c.key == "flow_avg")
    wide = [
        Column(f"flow{i}", f"Flow meter {i}", "m3/h", flow.daily, flow.source, flow.monthly)
        for i in range(COLUMNS_PER_TABLE * 2 + 3)
    ]
    days = [replace(d, values={w.key: d.values["flow_avg"] for w in wide}) for d in base.days]
    monthly = {w.key: base.monthly["flow_avg"] for w in wide}
    pdf = to_pdf(replace(base, columns=wide, days=days, monthly=monthly))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    # Narrow columns wrap their titles: compare without white space.
    packed = "".join(text.split())
    for w in wide:
        assert f"{w.label}(m3/h)".replace(" ", "") in packed
    assert "Inresponsiblecharge" in packed and "DanaDrc" in packed


def test_a_month_with_a_single_sample_of_an_analyte_reports_it():
    from dashboards.exports.mor import LAB_COLUMNS, daily_values

    sampled = datetime(2026, 3, 11, 16, tzinfo=UTC)
    lab = pd.DataFrame([("ecoli", pd.Timestamp(sampled), 12.0, None, None)], columns=LAB_COLUMNS)
    days = [date(2026, 3, 10), date(2026, 3, 11)]
    values = daily_values(COLUMNS[4], lab, days, TZ, BelowDetection.HALF_LIMIT)
    assert values == {days[0]: Missing("NOT_SAMPLED"), days[1]: Stat(12.0, None, 1)}
