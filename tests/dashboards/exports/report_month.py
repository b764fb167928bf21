"""A generated month for the PDF's tests: February 2024 (29 days, its first week beginning
in January) under a permit laid out as the demo's, with weekly averages, limits that some
days and statistics exceed, missing values of every kind and three operators in charge.

The raw data are hourly rollup rows and lab results as the database would hold them; the
report is made from them by ``dashboards.exports.mor.compute``, and the tests compute what
it should say from the same raw data themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from dashboards.exports.mor import HOURLY_COLUMNS, LAB_COLUMNS, InCharge, MonthlyReport, compute
from dashboards.exports.permit import Permit, load_site_permit

TZ = ZoneInfo("America/Denver")
YEAR, MONTH = 2024, 2
DAYS = [date(2024, 2, d) for d in range(1, 30)]
FIRST_WEEK_SUNDAY = date(2024, 1, 28)
NO_DATA_DAY = date(2024, 2, 13)  # no dissolved oxygen readings at all
BAD_DAY = date(2024, 2, 20)  # turbidity readings, all of bad quality
PARTIAL_DAY = date(2024, 2, 22)  # chlorine residual for the morning only
LOW_PH_DAY = date(2024, 2, 6)  # pH down to 6.1: under the daily minimum's 6.5
HIGH_PH_DAY = date(2024, 2, 15)  # pH up to 9.4: over the daily maximum's 9
HIGH_TSS_DAY = date(2024, 2, 8)  # TSS 52 mg/L: over the daily maximum's 45
HIGH_BOD_WEEK = (date(2024, 2, 13), date(2024, 2, 15))  # BOD 50 and 44: a week over 40

SITE_FILE = """\
site: {code: demo-wwtp, name: "Clearwell Demo WWTP", timezone: America/Denver}
permit:
  number: UT0099999
  below_detection: half_limit
  parameters:
    - {name: "Flow, total", code: "50050", location: "1", tag: effluent.total, daily: total,
       statistical_base: MO TOTAL, unit: m3}
    - {name: Flow, code: "50050", location: "1", tag: effluent.flow, daily: max,
       statistical_base: DAILY MX, unit: m3/h}
    - {name: pH, code: "00400", location: "1", tag: effluent.ph, daily: min,
       statistical_base: DAILY MN, unit: SU, limit: {min: 6.5}}
    - {name: pH, code: "00400", location: "1", tag: effluent.ph, daily: max,
       statistical_base: DAILY MX, unit: SU, limit: {max: 9.0}}
    - {name: "BOD, 5-day", code: "00310", location: "1", analyte: bod5, daily: lab,
       statistical_base: 30DA AVG, unit: mg/L, limit: {max: 25}}
    - {name: "BOD, 5-day", code: "00310", location: "1", analyte: bod5, daily: lab,
       statistical_base: 7 DA AVG, unit: mg/L, limit: {max: 40}}
    - {name: TSS, code: "00530", location: "1", analyte: tss, daily: lab,
       statistical_base: 30DA AVG, unit: mg/L, limit: {max: 25}}
    - {name: TSS, code: "00530", location: "1", analyte: tss, daily: lab,
       statistical_base: DAILY MX, unit: mg/L, limit: {max: 45}}
    - {name: E. coli, code: "51040", location: "1", analyte: ecoli, daily: lab,
       statistical_base: MO GEOMN, unit: MPN/100mL, limit: {max: 126}}
  report:
    - {name: Hours of operation, tag: blower.running, daily: hours, unit: h, monthly: [total]}
    - {name: Influent flow, tag: influent.total, daily: total, unit: m3}
    - {name: Dissolved oxygen, tag: aeration.do, daily: avg, unit: mg/L}
    - {name: Effluent turbidity, tag: effluent.turbidity, daily: max, unit: NTU}
    - {name: Chlorine residual, tag: cl2.residual, daily: min, unit: mg/L}
"""


def permit(tmp: Path) -> Permit:
    path = tmp / "demo-wwtp.yaml"
    path.write_text(SITE_FILE)
    return load_site_permit(path)[1]


def local(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ)


def _signal(tag: str, t: datetime) -> float:
    """A tag's value through the hour beginning at ``t`` (UTC): smooth, different by tag."""
    h = t.timestamp() / 3600
    here = t.astimezone(TZ)
    if tag == "effluent.ph":
        dip = -1.0 if here.date() == LOW_PH_DAY and here.hour == 5 else 0.0
        peak = 2.1 if here.date() == HIGH_PH_DAY and here.hour == 14 else 0.0
        return 7.1 + 0.2 * math.sin(h / 24 * 2 * math.pi) + dip + peak
    if tag == "effluent.flow":
        return 420 + 160 * math.sin(h / 24 * 2 * math.pi) + (h % 5)
    if tag == "blower.running":
        return 1.0 if here.hour < 7 else 0.0
    if tag == "aeration.do":
        return 2.0 + 0.6 * math.cos(h / 12 * 2 * math.pi)
    if tag == "effluent.turbidity":
        return 1.2 + 0.8 * abs(math.sin(h / 7))
    return 0.9 + 0.3 * math.sin(h / 9)  # cl2.residual


@dataclass(frozen=True)
class Hour:
    tag: str
    bucket: datetime  # UTC
    n_good: int
    mean: float
    low: float
    high: float
    last: float


def hours() -> list[Hour]:
    """Every tag's hourly rollups from the day before the first week's Sunday to the month's
    end: 60 good readings an hour (one a minute), none for the gaps the constants name."""
    start = local(FIRST_WEEK_SUNDAY - timedelta(days=1)).astimezone(UTC)
    end = local(DAYS[-1] + timedelta(days=1)).astimezone(UTC)
    totals = {"effluent.total": 2_000_000.0, "influent.total": 2_100_000.0}
    out = []
    t = start
    while t < end:
        here = t.astimezone(TZ)
        for tag, total in totals.items():
            totals[tag] = total + 23.0 + (t.timestamp() / 3600) % 3
            out.append(Hour(tag, t, 60, totals[tag], totals[tag] - 23, totals[tag], totals[tag]))
        for tag in ("effluent.ph", "effluent.flow", "blower.running", "aeration.do"):
            if tag == "aeration.do" and here.date() == NO_DATA_DAY:
                continue
            v = _signal(tag, t)
            spread = 0.0 if tag == "blower.running" else 0.05 * abs(v)
            out.append(Hour(tag, t, 60, v, v - spread, v + spread, v))
        v = _signal("effluent.turbidity", t)
        good = 0 if here.date() == BAD_DAY else 60
        out.append(Hour("effluent.turbidity", t, good, v, v - 0.1, v + 0.3, v))
        if not (here.date() == PARTIAL_DAY and here.hour >= 12):
            v = _signal("cl2.residual", t)
            out.append(Hour("cl2.residual", t, 60, v, v - 0.1, v + 0.1, v))
        t += timedelta(hours=1)
    return out


def hourly_frame(rows: list[Hour]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            (
                h.tag,
                pd.Timestamp(h.bucket),
                h.n_good,
                h.mean * h.n_good if h.n_good else None,
                h.low if h.n_good else None,
                h.high if h.n_good else None,
                h.last if h.n_good else None,
            )
            for h in rows
        ],
        columns=list(HOURLY_COLUMNS),
    )
    for col in ("sum", "min", "max", "last"):
        frame[col] = frame[col].astype("float64")
    return frame


# Lab results: (local day, hour, analyte, value, qualifier, detection limit). Composites on
# Tuesdays and Thursdays (the first in January's last week), E. coli on Wednesdays; a TSS
# below detection (<2) and one not detected (ND, no value).
def lab() -> list[tuple[date, int, str, float | None, str | None, float | None]]:
    out: list[tuple[date, int, str, float | None, str | None, float | None]] = []
    day = FIRST_WEEK_SUNDAY
    n = 0
    while day <= DAYS[-1]:
        n += 1
        if day.weekday() in (1, 3):
            bod = {HIGH_BOD_WEEK[0]: 50.0, HIGH_BOD_WEEK[1]: 44.0}.get(day, 12.0 + (n * 7) % 9)
            out.append((day, 8, "bod5", bod, None, 2.0))
            if day == date(2024, 2, 1):
                out.append((day, 8, "tss", 2.0, "<", 2.0))
            elif day == date(2024, 2, 27):
                out.append((day, 8, "tss", None, "ND", 2.0))
            else:
                tss = 52.0 if day == HIGH_TSS_DAY else 9.0 + (n * 5) % 11
                out.append((day, 8, "tss", tss, None, 2.0))
        if day.weekday() == 2:
            out.append((day, 9, "ecoli", 90.0 + (n * 37) % 140, None, 1.0))
        day += timedelta(days=1)
    return out


def lab_frame(results: list[tuple[date, int, str, float | None, str | None, float | None]]):
    return pd.DataFrame(
        [(a, pd.Timestamp(local(d, h).astimezone(UTC)), v, q, dl) for d, h, a, v, q, dl in results],
        columns=list(LAB_COLUMNS),
    )


PEOPLE = {
    "nico": ("Nico Nightly", "UT treatment Grade II #UT-204", "II"),
    "casey": ("Casey Chief", "UT treatment Grade III #UT-117", "III"),
    "oli": ("Oli Operator", "UT treatment Grade II #UT-220", "II"),
}


def in_charge() -> dict[date, list[InCharge]]:
    out = {}
    for day in DAYS:
        rows = [
            InCharge("Night 22:00-06:00", *PEOPLE["nico"]),
            InCharge("Day 06:00-14:00", *PEOPLE["casey"]),
            InCharge("Swing 14:00-22:00", *PEOPLE["oli"]),
        ]
        if day == date(2024, 2, 10):
            rows.append(InCharge("Night 22:00-06:00", "no one in charge 04:20-06:00", ""))
        out[day] = rows
    return out


def report(tmp: Path) -> MonthlyReport:
    """The month's report as the exports make it, from the raw data above."""
    p = permit(tmp)
    columns = p.mor_columns()
    days, monthly = compute(
        columns=columns,
        hourly=hourly_frame(hours()),
        lab=lab_frame(lab()),
        year=YEAR,
        month=MONTH,
        tz=TZ,
        rule=p.below_detection,
        in_charge=in_charge(),
    )
    return MonthlyReport(
        facility="Clearwell Demo WWTP",
        facility_code="demo-wwtp",
        permit=p.number,
        year=YEAR,
        month=MONTH,
        timezone=str(TZ),
        columns=columns,
        days=days,
        monthly=monthly,
        below_detection=p.below_detection,
        responsible_operator="Casey Chief",
        responsible_certificate=PEOPLE["casey"][1],
        generated_at=datetime(2024, 3, 2, 16, tzinfo=UTC),
        generated_by="chief (Casey Chief)",
        charge_basis="the compliance engine's reading of the crews",
    )
