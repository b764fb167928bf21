"""The demo's compliance records: a profile for the demo site, the demo crew's
certificates and assessed competency levels, so the floor view and coverage report have
something true to say (and are not flooded with the site policy's findings).

DEMO ONLY: the certificate numbers are made up.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import psycopg

from clearwell.settings import Settings
from logbook import audit
from logbook.demo import DEMO_SITE
from logbook.demo import seed_async as seed_logbook

# (username, grade, number): the chief can be in DRC of the class II demo plant.
DEMO_CERTIFICATES = (
    ("chief", "III", "DEMO-UT-T-3001"),
    ("operator", "II", "DEMO-UT-T-2002"),
)
# (username, level, assessor): the chief verifies, the operator records unsupervised, the
# trainee's entries want verification or direct supervision (compliance.competency).
DEMO_LEVELS = (
    ("chief", "advanced", "admin"),
    ("operator", "proficient", "chief"),
    ("trainee", "emerging", "chief"),
)


async def seed_async(dsn: str, today: date | None = None) -> list[str]:
    """Creates what is missing (after the logbook's demo site and people); idempotent."""
    created = await seed_logbook(dsn)
    today = today or datetime.now(UTC).date()
    # Utah's longest term: three years, to December 31 of the last (R317-10-11 C).
    issued, expires = date(today.year - 1, 1, 1), date(today.year + 1, 12, 31)
    async with await psycopg.AsyncConnection.connect(dsn) as conn, conn.transaction():
        cur = await conn.execute("SELECT id FROM sites WHERE code = %s", (DEMO_SITE["code"],))
        row = await cur.fetchone()
        assert row is not None
        site_id = row[0]
        cur = await conn.execute("SELECT 1 FROM facility_profiles WHERE site_id = %s", (site_id,))
        if await cur.fetchone() is None:
            cur = await conn.execute(
                "INSERT INTO facility_profiles (site_id, effective_from, rules, category,"
                " facility_class, note) VALUES (%s, '2020-01-01', 'UT', 'treatment', 'II',"
                " 'demo') RETURNING id",
                (site_id,),
            )
            profile = await cur.fetchone()
            assert profile is not None
            await audit.append(
                conn,
                audit.SYSTEM,
                "compliance.profile_set",
                "facility_profile",
                profile[0],
                site_id,
                {"class": "II", "rules": "UT", "demo": True},
            )
            created.append("compliance profile for the demo site (UT, class II)")
        for username, grade, number in DEMO_CERTIFICATES:
            cur = await conn.execute(
                "SELECT p.id, EXISTS (SELECT 1 FROM operator_certificates c"
                " WHERE c.person_id = p.id) FROM people p WHERE p.username = %s",
                (username,),
            )
            person = await cur.fetchone()
            if person is None or person[1]:
                continue
            cur = await conn.execute(
                "INSERT INTO operator_certificates (person_id, state, category, grade, number,"
                " kind, issued, expires) VALUES (%s, 'UT', 'treatment', %s, %s, 'full', %s, %s)"
                " RETURNING id",
                (person[0], grade, number, issued, expires),
            )
            cert = await cur.fetchone()
            assert cert is not None
            await audit.append(
                conn,
                audit.SYSTEM,
                "compliance.certificate_add",
                "certificate",
                cert[0],
                None,
                {"person_id": person[0], "grade": grade, "number": number, "demo": True},
            )
            created.append(f"grade {grade} certificate for {username}")
        for username, level, assessor in DEMO_LEVELS:
            cur = await conn.execute(
                "SELECT p.id, a.id, EXISTS (SELECT 1 FROM competency_assessments c"
                " WHERE c.person_id = p.id AND c.site_id = %s)"
                " FROM people p, people a WHERE p.username = %s AND a.username = %s",
                (site_id, username, assessor),
            )
            found = await cur.fetchone()
            if found is None or found[2]:
                continue
            cur = await conn.execute(
                "INSERT INTO competency_assessments (site_id, person_id, level, assessed_on,"
                " assessor_id, note) VALUES (%s, %s, %s, %s, %s, 'demo') RETURNING id",
                (site_id, found[0], level, issued, found[1]),
            )
            assessment = await cur.fetchone()
            assert assessment is not None
            await audit.append(
                conn,
                audit.SYSTEM,
                "compliance.level_add",
                "competency_assessment",
                assessment[0],
                site_id,
                {"person_id": found[0], "level": level, "assessor_id": found[1], "demo": True},
            )
            created.append(f"{level} level for {username}")
    return created


def seed(settings: Settings) -> None:
    for line in asyncio.run(seed_async(settings.database_dsn)):
        print(f"  created {line}")
