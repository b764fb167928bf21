"""A plant for a day of shifts on the floor terminal: a Utah class II plant allowing PINs,
its crew with certificates, tags read from one PLC, and that PLC's collector simulated by
data: ``feed`` writes what a running collector writes (a reading per tag, its health),
``stop`` backdates both as if it had stopped some seconds ago. The site's plausibility
ranges are given in the shape of issue 16 (``RANGES``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from tests.dashboards.floor.plant import pin_site
from tests.dashboards.helpers import copy_rows, make_tag
from tests.dashboards.people import add_person

SITE = "plant16"
DEVICE = "plc-1"
PINS = {"oli": "1357", "tess": "8642", "casey": "2468", "dana": "9753"}
# (name, unit, description, address, value)
TAGS = [
    ("aeration.do", "mg/L", "DO basin 1", f"{DEVICE};holding;0", 2.4),
    ("aeration.blower1.running", "", "Blower 1 running", f"{DEVICE};coil;0", 1.0),
    ("influent.flow", "m3/h", "Influent flow", f"{DEVICE};holding;2", 1210.0),
    ("effluent.ph", "pH", "Effluent pH", f"{DEVICE};holding;4", 7.21),
    ("disinfection.cl2.residual", "mg/L", "Chlorine residual, contact tank outlet",
     f"{DEVICE};holding;6", 0.82),
]  # fmt: skip
# A steady value is stored at least every minute (a deadband's longest silence).
INTERVAL_S = 60.0

# The site's ranges (issue 16), as the page receives them.
RANGES: dict[str, Any] = {
    "tags": {},  # by tag id, filled in by make_day_plant
    "entries": {
        "chemical_addition.amount": {"instrument": [0, 5000], "plausible": [0, 500]},
    },
    "analytes": {
        "bod5": {"name": "BOD5", "instrument": [0, 2000], "plausible": [0, 400], "unit": "mg/L"},
    },
}
TAG_RANGES = {
    "aeration.do": {"instrument": [0, 20], "plausible": [0, 12]},
    "influent.flow": {"instrument": [0, 2500], "plausible": [0, 1800]},
}
# The same ranges as the site file sets them (issue 16), for an app that reads
# them from the site's file in its data directory (``site_file`` writes it there).
SITE_FILE = f"""\
site: {{code: {SITE}, name: Clearwater Creek WWTP, timezone: America/Denver}}
modbus:
  devices:
    - {{name: {DEVICE}, host: 127.0.0.1}}
tags:
  - name: aeration.do
    description: DO basin 1
    unit: mg/L
    range: {{instrument: [0, 20], plausible: [0, 12]}}
    modbus: {{device: {DEVICE}, register: holding, address: 0, type: float32}}
  - name: influent.flow
    description: Influent flow
    unit: m3/h
    range: {{instrument: [0, 2500], plausible: [0, 1800]}}
    modbus: {{device: {DEVICE}, register: holding, address: 2, type: float32}}
entry_ranges:
  chemical_addition.amount: {{instrument: [0, 5000], plausible: [0, 500]}}
analytes:
  bod5: {{name: BOD5, unit: mg/L, instrument: [0, 2000], plausible: [0, 400]}}
"""


def site_file(data_dir: Path) -> None:
    """The site's file where the app reads it: ``<data dir>/sites/<code>.yaml``."""
    path = data_dir / "sites" / f"{SITE}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SITE_FILE)


@dataclass
class DayPlant:
    db_url: str
    site_id: int
    tags: dict[str, int]
    people: dict[str, int]


def feed(plant: DayPlant, ago_s: float = 0.0) -> None:
    """What the PLC's collector writes while it runs: a reading of every tag and its
    health, ``ago_s`` seconds ago."""
    at = datetime.now(UTC) - timedelta(seconds=ago_s)
    # The device's row and the writer's, in one transaction as the writer writes them.
    health = [
        ("modbus:" + DEVICE, "modbus_device", {"device": DEVICE, "last_good_read": at.isoformat()}),
        ("writer", "writer", {"health_interval_s": 5.0}),
    ]
    with psycopg.connect(plant.db_url) as conn:
        copy_rows(conn, [(at, plant.tags[name], value, 0) for name, *_, value in TAGS])
        for component, kind, detail in health:
            conn.execute(
                "INSERT INTO ingest_health (site_code, component, kind, state, detail,"
                " updated_at) VALUES (%s, %s, %s, 'up', %s, %s)"
                " ON CONFLICT (site_code, component) DO UPDATE SET state = excluded.state,"
                " detail = excluded.detail, updated_at = excluded.updated_at",
                (SITE, component, kind, Jsonb(detail), at),
            )


def stop(plant: DayPlant, ago_s: float) -> None:
    """The collector stopped ``ago_s`` seconds ago: its last readings and health are that
    old, and nothing newer is written."""
    cutoff = datetime.now(UTC) - timedelta(seconds=ago_s)
    with psycopg.connect(plant.db_url) as conn:
        conn.execute("DELETE FROM readings WHERE time > %s", (cutoff,))
    feed(plant, ago_s)


def insert_alarm(plant: DayPlant, message: str, tag: str = "aeration.do") -> int:
    now = datetime.now(UTC)
    with psycopg.connect(plant.db_url) as conn:
        row = conn.execute(
            "INSERT INTO events (site_id, tag_id, kind, code, severity, message, value,"
            " threshold, started_at, last_seen_at)"
            " VALUES (%s, %s, 'limit', 'lo', 'alarm', %s, 0.9, 1.0, %s, %s) RETURNING id",
            (plant.site_id, plant.tags[tag], message, now, now),
        ).fetchone()
        assert row
        return int(row[0])


async def make_day_plant(db_url: str) -> DayPlant:
    with psycopg.connect(db_url) as conn:
        site_id = pin_site(conn, SITE)
        conn.execute("UPDATE sites SET name = 'Clearwater Creek WWTP' WHERE id = %s", (site_id,))
        tags = {
            name: make_tag(
                conn,
                site_id,
                name,
                unit=unit,
                description=description,
                address=address,
                expected_interval_s=INTERVAL_S,
            )
            for name, unit, description, address, _ in TAGS
        }
    people = {
        "oli": await add_person(db_url, "oli", "operator", pin=PINS["oli"], full_name="Oli Op"),
        "dana": await add_person(
            db_url, "dana", "operator", pin=PINS["dana"], full_name="Dana Night"
        ),
        "tess": await add_person(
            db_url, "tess", "trainee", pin=PINS["tess"], full_name="Tess Trainee"
        ),
        "casey": await add_person(
            db_url, "casey", "chief_operator", pin=PINS["casey"], full_name="Casey Chief"
        ),
    }
    today = date.today()
    with psycopg.connect(db_url) as conn:
        for who, grade in (("casey", "III"), ("oli", "II"), ("dana", "II")):
            conn.execute(
                "INSERT INTO operator_certificates (person_id, state, category, grade, number,"
                " kind, issued, expires) VALUES (%s, 'UT', 'treatment', %s, %s, 'full', %s, %s)",
                (people[who], grade, f"UT-{who}", date(today.year - 1, 1, 1),
                 date(today.year + 1, 12, 31)),
            )  # fmt: skip
        # Assessed proficient, as a plant's operators are: with no level on record the
        # site's competency policy counts them as emerging, and an emerging operator may
        # not verify the trainee's entries.
        for who in ("casey", "oli", "dana"):
            conn.execute(
                "INSERT INTO competency_assessments (site_id, person_id, level, assessed_on,"
                " assessor_id, recorded_by) VALUES (%s, %s, 'proficient', %s, %s, %s)",
                (site_id, people[who], date(today.year - 1, 1, 1), people["casey"],
                 people["casey"]),
            )  # fmt: skip
    plant = DayPlant(db_url, site_id, tags, people)
    RANGES["tags"] = {tags[name]: r for name, r in TAG_RANGES.items()}
    feed(plant)
    return plant
