"""A month at a plant for the trend page's browser tests: nine tags in six units read every
5 minutes for the 30 days up to now (one with a 6 h hole, one with a 2 h link loss, one
read every minute), rolled up, and a log of 1,250 entries over the month (a busy plant's),
written straight into the tables."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from dashboards.trends.rollups import mark_range, refresh_all
from tests.dashboards.helpers import BAD_COMM, copy_rows, make_site, make_tag
from tests.support.database import owner_of

SITE = "plant1"
TZ = "America/Denver"
STEP = timedelta(minutes=5)
DAYS = 30
ENTRIES = 1250
# name, description, unit
TAGS = (
    ("DO.Basin1", "Dissolved oxygen, basin 1", "mg/L"),
    ("DO.Basin2", "Dissolved oxygen, basin 2", "mg/L"),
    ("Flow.Influent", "Influent flow", "MGD"),
    ("pH.Effluent", "Effluent pH", "pH"),
    ("Turb.Effluent", "Effluent turbidity", "NTU"),
    ("Cl2.Residual", "Chlorine residual", "mg/L"),
    ("Level.Wetwell", "Wet well level", "ft"),
    ("Temp.Influent", "Influent temperature", "°C"),
    ("Pump1.Run", "Influent pump 1 running", ""),
)
FAST = "Flow.Influent"  # read every minute


@dataclass(frozen=True)
class Month:
    url: str
    now: datetime
    tags: dict[str, int]  # name -> id
    hole: tuple[datetime, datetime]  # DO.Basin2 has no readings
    lost: tuple[datetime, datetime]  # pH.Effluent's link is lost (a Bad reading, silence)


def value(name: str, minutes: float) -> float:
    """Each tag as a plant's would go: oxygen and flow by the day, pH drifting by the week,
    turbidity with a spike now and then, chlorine in steps, the wet well in pump cycles,
    the temperature falling with the season, the pump on and off."""
    day = minutes / 1440
    wiggle = ((int(minutes) * 7919) % 13) / 13 - 0.5
    match name:
        case "DO.Basin1":
            v = 6.0 + 1.5 * math.sin(2 * math.pi * day) + 0.2 * wiggle
        case "DO.Basin2":
            v = 4.5 + 1.0 * math.sin(2 * math.pi * (day - 0.2)) + 0.3 * wiggle
        case "Flow.Influent":
            v = 2.4 + 0.6 * math.sin(4 * math.pi * (day - 0.3)) + 0.1 * wiggle
        case "pH.Effluent":
            v = 7.2 + 0.15 * math.sin(2 * math.pi * day / 7) + 0.02 * wiggle
        case "Turb.Effluent":
            v = 0.3 + 0.05 * wiggle + (1.2 if int(day * 4) % 23 == 5 else 0.0)
        case "Cl2.Residual":
            v = 1.0 + 0.1 * (int(day / 3) % 4) + 0.02 * wiggle
        case "Level.Wetwell":
            v = 7.0 + 1.5 * math.sin(2 * math.pi * day / 3) + 0.5 * ((minutes % 180) / 180)
        case "Temp.Influent":
            v = 16.0 - 4.0 * day / DAYS + 0.5 * math.sin(2 * math.pi * day)
        case _:
            v = float(int(minutes // 240) % 2)
    return round(v, 6)


def build(url: str) -> Month:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    now -= timedelta(minutes=now.minute % 5)
    start = now - timedelta(days=DAYS)
    hole = (now - timedelta(days=12), now - timedelta(days=12) + timedelta(hours=6))
    lost = (now - timedelta(days=5), now - timedelta(days=5) + timedelta(hours=2))
    with psycopg.connect(url) as conn:
        site = make_site(conn, SITE, tz=TZ)
        ids = {}
        for name, description, unit in TAGS:
            ids[name] = make_tag(conn, site, name, unit=unit, description=description)
        conn.commit()
        # Configuration the app only reads: set by the owner.
        with psycopg.connect(owner_of(url)) as owner:
            for name, _, _ in TAGS:
                owner.execute(
                    "INSERT INTO tag_sampling (tag_id, expected_interval_s) VALUES (%s, %s)",
                    (ids[name], 60 if name == FAST else 300),
                )
        make_tag(conn, make_site(conn, "plant2"), "Level.Tank", unit="ft")
        rows = []
        for name, _, _ in TAGS:
            step = timedelta(minutes=1) if name == FAST else STEP
            t = start
            while t < now:
                v = value(name, (t - start).total_seconds() / 60)
                if name == "DO.Basin2" and hole[0] <= t < hole[1]:
                    pass
                elif name == "pH.Effluent" and lost[0] < t < lost[1]:
                    pass
                elif name == "pH.Effluent" and t == lost[0]:
                    rows.append((t, ids[name], None, BAD_COMM))
                else:
                    rows.append((t, ids[name], v, 0))
                t += step
        copy_rows(conn, rows)
        person = conn.execute(
            "INSERT INTO people (username, full_name) VALUES ('logger', 'Lee Logger') RETURNING id"
        ).fetchone()
        assert person
        shift = conn.execute(
            "INSERT INTO shifts (site_id, label, opened_at, opened_by) VALUES (%s, 'Month', %s, %s)"
            " RETURNING id",
            (site, start, person[0]),
        ).fetchone()
        assert shift
        # Entries spread over the month, more by day than by night, a reading of a pen now
        # and then.
        conn.execute(
            """INSERT INTO entries (site_id, shift_id, kind, data, operational, occurred_at,
                                    recorded_by)
               SELECT %(site)s, %(shift)s,
                      CASE WHEN n %% 5 = 0 THEN 'reading' ELSE 'note' END,
                      CASE WHEN n %% 5 = 0
                           THEN jsonb_build_object('tag_id', %(tag)s, 'value', 6.1,
                                                   'unit', 'mg/L')
                           ELSE jsonb_build_object('text', 'Round ' || n) END,
                      n %% 3 = 0,
                      %(start)s + (n - 0.5) * %(span)s / %(count)s
                        + (n %% 7) * interval '9 minutes',
                      %(person)s
               FROM generate_series(1, %(count)s) AS n""",
            {
                "site": site,
                "shift": shift[0],
                "tag": ids["DO.Basin1"],
                "start": start,
                "span": now - start - timedelta(hours=1),
                "count": ENTRIES,
                "person": person[0],
            },
        )

    async def rollup() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as aconn:
            await mark_range(aconn, start - timedelta(hours=1), now + timedelta(hours=1))
            await refresh_all(aconn)

    asyncio.run(rollup())
    return Month(url, now, ids, hole, lost)
