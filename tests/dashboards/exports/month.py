"""A generated month at the demo site (America/Denver, November 2025: the clocks fall back
on November 2, a 25-hour plant day), written to a real database, and the values a report
of it should show, computed here from the generated samples, not by the code under test.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from logbook import audit
from tests.dashboards.helpers import BAD_COMM, make_tag, write_batch

SITE = "demo-wwtp"
TZ = ZoneInfo("America/Denver")
MONTH = "2025-11"
DST_DAY = date(2025, 11, 2)
NO_DATA_DAY = date(2025, 11, 17)
BAD_FLOW_DAY = date(2025, 11, 20)
TAGS = ("effluent.flow", "effluent.total", "blower.running")

SITE_FILE = """\
site: {code: demo-wwtp, name: "Clearwell Demo WWTP", timezone: America/Denver}
permit:
  number: UT0099999
  below_detection: half_limit
  responsible_charge: chief
  parameters:
    - {name: "Flow, total", code: "50050", location: "1", tag: effluent.total, daily: total,
       statistical_base: MO TOTAL, unit: m3}
    - {name: Flow, code: "50050", location: "1", tag: effluent.flow, daily: avg,
       statistical_base: MO AVG, unit: m3/h}
    - {name: TSS, code: "00530", location: "1", analyte: tss, daily: lab,
       statistical_base: 30DA AVG, unit: mg/L, limit: {max: 25}}
    - {name: TSS, code: "00530", location: "1", analyte: tss, daily: lab,
       statistical_base: DAILY MX, unit: mg/L, limit: {max: 45}}
    - {name: E. coli, code: "51040", location: "1", analyte: ecoli, daily: lab,
       statistical_base: MO GEOMN, unit: MPN/100mL}
  report:
    - {name: Hours of operation, tag: blower.running, daily: hours, unit: h, monthly: [total]}
"""


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def flow(t: datetime) -> float:
    hours = t.timestamp() / 3600
    return 400 + 150 * math.sin(hours / 24 * 2 * math.pi) + (hours % 7)


@dataclass
class Expected:
    flow_avg: dict[date, float] = field(default_factory=dict)
    total: dict[date, float] = field(default_factory=dict)
    blower_hours: dict[date, float] = field(default_factory=dict)


def generate(ids: dict[str, int]) -> tuple[list[tuple[datetime, int, float | None, int]], Expected]:
    """Minute samples from October 31 to the end of November (local), and what they mean."""
    start = local(date(2025, 10, 31), 0).astimezone(UTC)
    end = local(date(2025, 12, 1), 0).astimezone(UTC)
    rows: list[tuple[datetime, int, float | None, int]] = []
    flows: dict[date, list[float]] = defaultdict(list)
    running: dict[date, int] = defaultdict(int)
    last_total: dict[date, float] = {}
    total = 5_000_000.0
    t = start
    while t < end:
        total += flow(t) / 60
        day = t.astimezone(TZ).date()
        if day != NO_DATA_DAY:
            on = 1.0 if t.astimezone(TZ).hour < 6 else 0.0
            good_flow = day != BAD_FLOW_DAY
            rows.append((t, ids["effluent.flow"], flow(t), 0 if good_flow else BAD_COMM))
            rows.append((t, ids["effluent.total"], total, 0))
            rows.append((t, ids["blower.running"], on, 0))
            if good_flow:
                flows[day].append(flow(t))
            running[day] += int(on)
            last_total[day] = total
        t += timedelta(minutes=1)
    expected = Expected()
    for day, values in flows.items():
        expected.flow_avg[day] = sum(values) / len(values)
    for day in last_total:
        expected.blower_hours[day] = running[day] / 60
        before = day - timedelta(days=1)
        if before in last_total:
            expected.total[day] = last_total[day] - last_total[before]
    return rows, expected


# TSS and E. coli results: (local day, hour, analyte, value, qualifier, detection limit).
LAB = [
    (date(2025, 10, 31), 23, "TSS", 99.0, None, 2.0),  # October's plant day: not in November
    (date(2025, 11, 3), 8, "TSS", 12.0, None, 2.0),
    (date(2025, 11, 10), 8, "TSS", 2.0, "<", 2.0),
    (date(2025, 11, 17), 8, "TSS", 30.0, None, 2.0),  # amended to 14.0 below
    (date(2025, 11, 24), 8, "TSS", 20.0, None, 2.0),
    (date(2025, 11, 24), 16, "tss", 10.0, None, 2.0),
    (date(2025, 11, 3), 8, "E. coli", 10.0, None, 1.0),
    (date(2025, 11, 17), 8, "E. coli", 1000.0, None, 1.0),
]
AMENDED_TSS = 14.0
# Daily TSS as the permit sees it: the 10th is "<2"; the 24th averages two results.
TSS_DAILY = {
    date(2025, 11, 3): 12.0,
    date(2025, 11, 17): AMENDED_TSS,
    date(2025, 11, 24): 15.0,
}
# 30-day average with non-detects at half their limit: (12 + 1 + 14 + 15) / 4.
TSS_MONTHLY_AVG = (12.0 + 1.0 + 14.0 + 15.0) / 4
TSS_DAILY_MAX = 15.0
ECOLI_GEOMEAN = math.sqrt(10.0 * 1000.0)


LATE_FROM = date(2025, 11, 28)


async def _refresh(db_url: str) -> None:
    from dashboards.trends.rollups import refresh_all

    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        await refresh_all(conn, wait_for_lock=True)


def _person(conn: psycopg.Connection[Any], username: str) -> int:
    row = conn.execute("SELECT id FROM people WHERE username = %s", (username,)).fetchone()
    assert row is not None
    return int(row[0])


def populate(db_url: str, data_dir: Path) -> Expected:
    """The demo site and people, a month of readings (marked dirty, not rolled up), lab
    results, two shifts with entries, an amendment and a signature (named to the audit
    chain, so that `clearwell verify` passes); the site file."""
    from logbook.demo import seed_async

    asyncio.run(seed_async(db_url))
    (data_dir / "sites").mkdir(parents=True, exist_ok=True)
    (data_dir / "sites" / f"{SITE}.yaml").write_text(SITE_FILE)
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT id FROM sites WHERE code = %s", (SITE,)).fetchone()
        assert row is not None
        site_id = int(row[0])
        ids = {name: make_tag(conn, site_id, name) for name in TAGS}
        rows, expected = generate(ids)
        conn.commit()
        # Most of the month rolled up already; the last days wait as dirty marks, for
        # the report to refresh before it reads.
        late = local(LATE_FROM, 0)
        write_batch(conn, [r for r in rows if r[0] < late])
        asyncio.run(_refresh(db_url))
        write_batch(conn, [r for r in rows if r[0] >= late])
        chief, operator = _person(conn, "chief"), _person(conn, "operator")
    asyncio.run(_records(db_url, site_id, chief, operator))
    return expected


async def _records(db_url: str, site_id: int, chief: int, operator: int) -> None:
    """The month's record rows, written as rows and named to the audit chain by one audit
    row in their transaction, so that the month verifies as the API's writes would."""
    async with await psycopg.AsyncConnection.connect(db_url) as conn, conn.transaction():
        await _certificates(conn, chief, operator)
        await _shifts_and_entries(conn, site_id, chief, operator)
        await _lab(conn, site_id, chief, operator)
        await audit.append(conn, audit.SYSTEM, "test.month", "site", site_id, site_id)


async def _certificates(conn: psycopg.AsyncConnection[Any], chief: int, operator: int) -> None:
    for person, grade, number, expires in (
        (chief, "III", "T-100", date(2027, 12, 31)),
        (chief, "II", "T-099", date(2027, 12, 31)),
        (operator, "II", "T-200", date(2025, 11, 15)),
    ):
        await conn.execute(
            "INSERT INTO operator_certificates (person_id, state, category, grade, number, kind,"
            " issued, expires) VALUES (%s, 'UT', 'treatment', %s, %s, 'full', '2020-01-01', %s)",
            (person, grade, number, expires),
        )


async def _shifts_and_entries(
    conn: psycopg.AsyncConnection[Any], site_id: int, chief: int, op: int
) -> None:
    night = (local(date(2025, 11, 1), 18), local(DST_DAY, 6))
    day = (local(DST_DAY, 6), local(DST_DAY, 18))
    late = (local(date(2025, 11, 20), 6), local(date(2025, 11, 20), 18))
    shift_ids = []
    for label, (opened, closed), drc in (
        ("night", night, chief),
        ("day", day, op),
        ("day", late, op),
    ):
        cur = await conn.execute(
            "INSERT INTO shifts (site_id, label, opened_at, opened_by) VALUES (%s, %s, %s, %s)"
            " RETURNING id",
            (site_id, label, opened, chief),
        )
        row = await cur.fetchone()
        assert row is not None
        sid = int(row[0])
        shift_ids.append(sid)
        await conn.execute(
            "INSERT INTO shift_closures (shift_id, closed_at, closed_by) VALUES (%s, %s, %s)",
            (sid, closed, chief),
        )
        await conn.execute(
            "INSERT INTO shift_crew (shift_id, person_id, shift_role, arrived_at, added_by)"
            " VALUES (%s, %s, 'drc', %s, %s)",
            (sid, drc, opened, chief),
        )
    entries = [
        (shift_ids[0], "reading", local(date(2025, 11, 1), 20), op,
         {"instrument": "effluent pH", "value": 7.1, "unit": "pH"}),
        (shift_ids[0], "note", local(DST_DAY, 1, 30), chief, {"text": "second 01:30 of the night"}),
        (shift_ids[0], "note", local(date(2025, 10, 31), 23), chief, {"text": "October"}),
    ]  # fmt: skip
    entry_ids = []
    for sid, kind, at, who, data in entries:
        cur = await conn.execute(
            "INSERT INTO entries (site_id, shift_id, kind, data, operational, occurred_at,"
            " recorded_by) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (site_id, sid, kind, Jsonb(data), kind == "reading", at, who),
        )
        row = await cur.fetchone()
        assert row is not None
        entry_ids.append(int(row[0]))
    await conn.execute(
        "INSERT INTO amendments (target, target_id, changes, reason, amended_by, after_signing)"
        " VALUES ('entry', %s, %s, 'misread the meter', %s, false)",
        (entry_ids[0], Jsonb({"data": {"value": 7.2}}), chief),
    )
    await conn.execute(
        "INSERT INTO shift_signatures (shift_id, person_id, content_sha256) VALUES (%s, %s, %s)",
        (shift_ids[0], chief, "ab" * 32),
    )


async def _lab(conn: psycopg.AsyncConnection[Any], site_id: int, chief: int, op: int) -> None:
    for day, hour, analyte, value, qualifier, dl in LAB:
        at = local(day, hour)
        cur = await conn.execute(
            "INSERT INTO samples (site_id, sample_point, sample_type, sampled_at, recorded_by)"
            " VALUES (%s, 'final effluent', 'grab', %s, %s) RETURNING id",
            (site_id, at, op),
        )
        row = await cur.fetchone()
        assert row is not None
        await conn.execute(
            "INSERT INTO sample_samplers (sample_id, person_id) VALUES (%s, %s)", (row[0], op)
        )
        cur = await conn.execute(
            "INSERT INTO sample_results (sample_id, analyte, method, analyzed_at, analyst_name,"
            " value, unit, qualifier, detection_limit, recorded_by)"
            " VALUES (%s, %s, 'SM 2540 D', %s, 'Plant Lab', %s, 'mg/L', %s, %s, %s) RETURNING id",
            (row[0], analyte, at + timedelta(hours=3), value, qualifier, dl, op),
        )
        result = await cur.fetchone()
        assert result is not None
        if day == NO_DATA_DAY and analyte == "TSS":
            await conn.execute(
                "INSERT INTO amendments (target, target_id, changes, reason, amended_by,"
                " after_signing) VALUES ('result', %s, %s, 'transcription error', %s, false)",
                (result[0], Jsonb({"value": AMENDED_TSS}), chief),
            )
