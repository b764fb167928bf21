"""People, their roles and credentials in the database (shared by the API and the CLI)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import anyio
import psycopg

from clearwell.access import ROLES
from clearwell.errors import ClearwellError
from logbook import audit
from logbook.auth.secrets import check_password_policy, check_pin_policy, hash_secret
from logbook.auth.sessions import end_sessions

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class PersonError(ClearwellError):
    """Bad input about a person: names the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_role(role: str, field: str = "role") -> None:
    if role not in ROLES:
        raise PersonError(field, f"unknown role {role!r}; one of {', '.join(ROLES)}")


async def _hash(secret: str) -> str:
    return await anyio.to_thread.run_sync(hash_secret, secret)


async def create_person(
    conn: psycopg.AsyncConnection[Any],
    actor: audit.Actor,
    username: str,
    full_name: str,
    role: str,
    password: str,
    pin: str | None = None,
    sites: Sequence[int] = (),
) -> int:
    """Adds a person, who belongs to ``sites`` (ids) from now."""
    if not USERNAME.match(username):
        raise PersonError("username", "lower-case letters, digits, '.', '_' or '-' (at most 63)")
    if not full_name.strip():
        raise PersonError("full_name", "must not be empty")
    check_role(role)
    why = check_password_policy(password)
    if why:
        raise PersonError("password", why)
    if pin is not None and (why := check_pin_policy(pin)):
        raise PersonError("pin", why)
    cur = await conn.execute(
        "INSERT INTO people (username, full_name, created_by) VALUES (%s, %s, %s)"
        " ON CONFLICT (username) DO NOTHING RETURNING id",
        (username, full_name.strip(), actor.id),
    )
    row = await cur.fetchone()
    if row is None:
        raise PersonError("username", f"{username!r} is already taken")
    person_id = int(row[0])
    await conn.execute(
        "INSERT INTO person_roles (person_id, role, granted_by) VALUES (%s, %s, %s)",
        (person_id, role, actor.id),
    )
    await conn.execute(
        "INSERT INTO person_credentials (person_id, kind, hash, set_by) VALUES (%s, %s, %s, %s)",
        (person_id, "password", await _hash(password), actor.id),
    )
    if pin is not None:
        await conn.execute(
            "INSERT INTO person_credentials (person_id, kind, hash, set_by)"
            " VALUES (%s, 'pin', %s, %s)",
            (person_id, await _hash(pin), actor.id),
        )
    for site_id in dict.fromkeys(sites):
        await conn.execute(
            "INSERT INTO site_memberships (person_id, site_id, member, set_by)"
            " VALUES (%s, %s, true, %s)",
            (person_id, site_id, actor.id),
        )
    await audit.append(
        conn,
        actor,
        "person.create",
        "person",
        person_id,
        None,
        {
            "username": username,
            "full_name": full_name.strip(),
            "role": role,
            "pin": pin is not None,
            "sites": sorted(set(sites)),
        },
    )
    return person_id


async def current_role(conn: psycopg.AsyncConnection[Any], person_id: int) -> str | None:
    cur = await conn.execute(
        "SELECT role FROM person_roles WHERE person_id = %s ORDER BY id DESC LIMIT 1",
        (person_id,),
    )
    row = await cur.fetchone()
    return row[0] if row else None


async def set_role(
    conn: psycopg.AsyncConnection[Any], actor: audit.Actor, person_id: int, role: str
) -> str | None:
    """Appends the new role and ends the person's sessions (the next login carries the
    new role; a disabled person's old sessions never come back); returns the previous one."""
    if role != "disabled":
        check_role(role)
    before = await current_role(conn, person_id)
    await conn.execute(
        "INSERT INTO person_roles (person_id, role, granted_by) VALUES (%s, %s, %s)",
        (person_id, role, actor.id),
    )
    ended = await end_sessions(conn, person_id)
    await audit.append(
        conn,
        actor,
        "person.role_change",
        "person",
        person_id,
        None,
        {"from": before, "to": role, "sessions_ended": ended},
    )
    return before


async def set_secret(
    conn: psycopg.AsyncConnection[Any],
    actor: audit.Actor,
    person_id: int,
    kind: str,
    secret: str,
    keep_session: int | None = None,
) -> None:
    """Sets the person's password or PIN and ends their sessions but ``keep_session`` (the
    one that asked, when it is theirs): whoever else held one must prove who they are
    again. Whether the asker may is the caller's (the current password, or an admin)."""
    why = check_pin_policy(secret) if kind == "pin" else check_password_policy(secret)
    if why:
        raise PersonError(kind, why)
    await conn.execute(
        "INSERT INTO person_credentials (person_id, kind, hash, set_by) VALUES (%s, %s, %s, %s)",
        (person_id, kind, await _hash(secret), actor.id),
    )
    ended = await end_sessions(conn, person_id, keep_session)
    await audit.append(
        conn, actor, f"person.set_{kind}", "person", person_id, None, {"sessions_ended": ended}
    )


PEOPLE_SQL = """
SELECT p.id, p.username, p.full_name, p.created_at, r.role,
       EXISTS (SELECT 1 FROM person_credentials c WHERE c.person_id = p.id AND c.kind = 'pin'),
       ARRAY(SELECT s.code FROM site_members m JOIN sites s ON s.id = m.site_id
             WHERE m.person_id = p.id ORDER BY s.code)
FROM people p
CROSS JOIN LATERAL (SELECT role FROM person_roles WHERE person_id = p.id
                    ORDER BY id DESC LIMIT 1) r
"""


def person_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row[0],
        "username": row[1],
        "full_name": row[2],
        "created_at": row[3],
        "role": row[4],
        "has_pin": row[5],
        "sites": list(row[6]),
    }


async def list_people(conn: psycopg.AsyncConnection[Any]) -> list[dict[str, Any]]:
    cur = await conn.execute(PEOPLE_SQL + " ORDER BY p.username")
    return [person_dict(r) for r in await cur.fetchall()]


async def get_person(conn: psycopg.AsyncConnection[Any], person_id: int) -> dict[str, Any] | None:
    cur = await conn.execute(PEOPLE_SQL + " WHERE p.id = %s", (person_id,))
    row = await cur.fetchone()
    return person_dict(row) if row else None
