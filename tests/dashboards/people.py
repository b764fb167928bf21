"""People who can log in, for the dashboards' tests (the logbook's own tables and hashing)."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
from argon2 import PasswordHasher

from logbook import audit
from logbook.auth import secrets
from logbook.people import create_person

# Real argon2 parameters cost ~0.1 s a hash; verifying reads the parameters from the
# stored hash, so a server started elsewhere still accepts these.
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


async def add_person(
    db_url: str,
    username: str,
    role: str = "operator",
    password: str | None = None,
    pin: str | None = None,
    full_name: str | None = None,
    sites: list[str] | None = None,
) -> int:
    """A person with a role, a password (default ``<username>-password``) and maybe a PIN,
    who belongs to ``sites`` (codes; default: every site there is)."""
    saved, secrets.HASHER = secrets.HASHER, CHEAP
    try:
        async with await psycopg.AsyncConnection.connect(db_url) as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT id FROM sites WHERE %s::text[] IS NULL OR code = ANY(%s) ORDER BY id",
                (sites, sites),
            )
            site_ids = [int(r[0]) for r in await cur.fetchall()]
            return await create_person(
                conn,
                audit.SYSTEM,
                username,
                full_name or username.title(),
                role,
                password or password_of(username),
                pin,
                site_ids,
            )
    finally:
        secrets.HASHER = saved


def password_of(username: str) -> str:
    return f"{username}-password"


async def log_in(client: httpx.AsyncClient, username: str, password: str | None = None) -> Any:
    """Logs the client in (its bearer token on every later request); the login's body."""
    r = await client.post(
        "/api/auth/login",
        json={"username": username, "password": password or password_of(username)},
    )
    assert r.status_code == 200, r.text
    client.cookies.clear()
    client.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return r.json()
