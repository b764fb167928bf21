"""A small plant for the floor terminal's tests: a site allowing PINs, its people, tags,
readings in every state and an alarm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from tests.dashboards.helpers import BAD_COMM, Row, copy_rows, make_site, make_tag, write_batch
from tests.dashboards.people import add_person

SITE = "plant1"
PINS = {"oli": "1357", "tess": "8642", "casey": "2468"}


@dataclass
class Plant:
    db_url: str
    site_id: int
    tags: dict[str, int]
    people: dict[str, int]
    alarm_id: int


def insert_event(db_url: str, site_id: int, tag_id: int | None, message: str) -> int:
    now = datetime.now(UTC)
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "INSERT INTO events (site_id, tag_id, kind, code, severity, message, value,"
            " threshold, started_at, last_seen_at)"
            " VALUES (%s, %s, 'limit', 'hi', 'alarm', %s, 9.1, 8.5, %s, %s) RETURNING id",
            (site_id, tag_id, message, now - timedelta(minutes=3), now),
        ).fetchone()
        assert row
        return int(row[0])


def pin_site(conn: psycopg.Connection[Any], code: str) -> int:
    """A site in Denver's zone that allows PINs: a Utah class II treatment plant, so the
    compliance engine has rules to apply."""
    site_id = make_site(conn, code, tz="America/Denver")
    conn.execute(
        "INSERT INTO site_logbook_settings (site_id, allow_pin_login) VALUES (%s, true)",
        (site_id,),
    )
    conn.execute(
        "INSERT INTO facility_profiles (site_id, effective_from, rules, category,"
        " facility_class) VALUES (%s, '2020-01-01', 'UT', 'treatment', 'II')",
        (site_id,),
    )
    return site_id


async def make_plant(db_url: str) -> Plant:
    now = datetime.now(UTC)
    with psycopg.connect(db_url) as conn:
        site_id = pin_site(conn, SITE)
        specs: list[tuple[str, str, dict[str, Any]]] = [
            ("effluent.ph", "pH", {"limit_hi": 8.5, "description": "Effluent pH"}),
            ("effluent.turbidity", "NTU", {}),
            ("aeration.do", "mg/L", {"description": "DO basin 1"}),
            ("aeration.airflow", "scfm", {}),
            ("influent.flow", "MGD", {}),
        ]
        tags = {
            name: make_tag(conn, site_id, name, unit=unit, **extra) for name, unit, extra in specs
        }
        rows: list[Row] = [(now - timedelta(minutes=m), tags["aeration.do"], 2.0 + m / 100, 0)
                for m in range(90, 0, -1)]  # fmt: skip
        rows += [
            (now - timedelta(seconds=5), tags["effluent.ph"], 9.1, 0),  # good, past HI
            (now - timedelta(minutes=30), tags["effluent.turbidity"], 0.42, 0),  # stale
            (now - timedelta(seconds=3), tags["aeration.airflow"], None, BAD_COMM),  # bad
        ]
        copy_rows(conn, rows[90:])
    with psycopg.connect(db_url) as conn:
        write_batch(conn, rows[:90])  # marked for the rollups: the sparkline reads minutes
    alarm = insert_event(db_url, site_id, tags["effluent.ph"], "Effluent pH high")
    people = {
        "oli": await add_person(db_url, "oli", "operator", pin=PINS["oli"], full_name="Oli Op"),
        "tess": await add_person(db_url, "tess", "trainee", pin=PINS["tess"], full_name="Tess T"),
        "casey": await add_person(
            db_url, "casey", "chief_operator", pin=PINS["casey"], full_name="Casey Chief"
        ),
        "reggie": await add_person(db_url, "reggie", "regulator", full_name="Reggie Reg"),
        "ada": await add_person(db_url, "ada", "admin", full_name="Ada Admin"),
    }
    return Plant(db_url, site_id, tags, people, alarm)
