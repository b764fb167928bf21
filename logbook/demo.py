"""The demo site and people `clearwell demo` creates. Demo passwords are for demos only."""

from __future__ import annotations

import asyncio

import psycopg

from clearwell.settings import Settings
from logbook import audit
from logbook.people import create_person
from logbook.write.sites import set_logbook_settings

DEMO_SITE = {
    "code": "demo-wwtp",
    "name": "Clearwell Demo WWTP",
    "timezone": "America/Denver",
    "state": "UT",
    "category": "treatment",
}
# DEMO ONLY: known passwords so a newcomer can log in to the demo. Never use these
# people on a real plant; `clearwell users add` prompts for real passwords.
DEMO_USERS: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("admin", "Demo Admin", "admin", "demo-admin-pass", None),
    ("chief", "Casey Chief (demo)", "chief_operator", "demo-chief-pass", "2468"),
    ("operator", "Oli Operator (demo)", "operator", "demo-operator-pass", "1357"),
    ("trainee", "Tess Trainee (demo)", "trainee", "demo-trainee-pass", "8642"),
    ("regulator", "Reggie Regulator (demo)", "regulator", "demo-regulator-pass", None),
)


async def seed_async(dsn: str) -> list[str]:
    """Creates what is missing; returns a line per thing it created. Idempotent."""
    created = []
    async with await psycopg.AsyncConnection.connect(dsn) as conn, conn.transaction():
        # The collectors' tag sync may have created the site first (without its state
        # and category): fill in what is missing rather than skip.
        cur = await conn.execute(
            "INSERT INTO sites (code, name, timezone, state, category)"
            " VALUES (%(code)s, %(name)s, %(timezone)s, %(state)s, %(category)s)"
            " ON CONFLICT (code) DO UPDATE SET state = coalesce(sites.state, EXCLUDED.state),"
            " category = coalesce(sites.category, EXCLUDED.category)"
            " RETURNING id, xmax = 0",
            DEMO_SITE,
        )
        row = await cur.fetchone()
        assert row is not None
        site_id, inserted = row
        if inserted:
            created.append(f"site {DEMO_SITE['code']}")
            await audit.append(
                conn,
                audit.SYSTEM,
                "site.create",
                "site",
                site_id,
                site_id,
                {**DEMO_SITE, "demo": True},
            )
        cur = await conn.execute(
            "SELECT 1 FROM site_logbook_settings WHERE site_id = %s", (site_id,)
        )
        if await cur.fetchone() is None:
            # The demo shows the floor-terminal PIN login.
            await set_logbook_settings(
                conn, audit.SYSTEM, site_id, True, {"allow_pin_login": True, "demo": True}
            )
            created.append("PIN login at the demo site")
        for username, name, role, password, pin in DEMO_USERS:
            cur = await conn.execute("SELECT 1 FROM people WHERE username = %s", (username,))
            if await cur.fetchone() is None:
                await create_person(
                    conn, audit.SYSTEM, username, name, role, password, pin, [site_id]
                )
                created.append(f"user {username}")
    return created


def seed(settings: Settings) -> None:
    for line in asyncio.run(seed_async(settings.database_dsn)):
        print(f"  created {line}")
    print(demo_credentials())


def demo_credentials() -> str:
    lines = ["  demo logins (DEMO ONLY, never on a real plant):"]
    for username, _, role, password, pin in DEMO_USERS:
        extra = f", floor PIN {pin}" if pin else ""
        lines.append(f"    {username:<10} {password:<22} ({role}{extra})")
    return "\n".join(lines)
