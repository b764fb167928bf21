"""Which sites people belong to (shared by the API and the CLI): joining and leaving are
appended and audited, never edited; the newest row for a person and a site is in force
(the view ``site_members``). The access matrix (``clearwell.access``) lets a person act
at their sites; an admin acts everywhere and needs none."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from logbook import audit
from logbook.people import PersonError


async def site_ids(conn: psycopg.AsyncConnection[Any], codes: Iterable[str]) -> list[int]:
    """The sites the codes name, in their order; an unknown code is a PersonError."""
    out = []
    for i, code in enumerate(codes):
        cur = await conn.execute("SELECT id FROM sites WHERE code = %s", (code,))
        row = await cur.fetchone()
        if row is None:
            raise PersonError(f"sites.{i}", f"no site with code {code!r}")
        out.append(int(row[0]))
    return out


async def sites_of(conn: psycopg.AsyncConnection[Any], person_id: int) -> frozenset[int]:
    cur = await conn.execute("SELECT site_id FROM site_members WHERE person_id = %s", (person_id,))
    return frozenset(int(r[0]) for r in await cur.fetchall())


async def set_member(
    conn: psycopg.AsyncConnection[Any],
    actor: audit.Actor,
    person_id: int,
    site_id: int,
    member: bool,
    reason: str = "",
) -> bool:
    """The person joins the site (``member``) or leaves it; False when that is so already
    (nothing is written)."""
    cur = await conn.execute(
        "SELECT member FROM site_memberships WHERE person_id = %s AND site_id = %s"
        " ORDER BY id DESC LIMIT 1",
        (person_id, site_id),
    )
    row = await cur.fetchone()
    if bool(row and row[0]) == member:
        return False
    await conn.execute(
        "INSERT INTO site_memberships (person_id, site_id, member, reason, set_by)"
        " VALUES (%s, %s, %s, %s, %s)",
        (person_id, site_id, member, reason, actor.id),
    )
    await audit.append(
        conn,
        actor,
        "person.site_join" if member else "person.site_leave",
        "person",
        person_id,
        site_id,
        {"reason": reason} if reason else {},
    )
    return True


async def history(conn: psycopg.AsyncConnection[Any], person_id: int) -> list[dict[str, Any]]:
    """Every join and leave of the person, oldest first."""
    cur = await conn.execute(
        "SELECT s.code, m.member, m.reason, m.set_at, m.set_by FROM site_memberships m"
        " JOIN sites s ON s.id = m.site_id WHERE m.person_id = %s ORDER BY m.id",
        (person_id,),
    )
    keys = ("site", "member", "reason", "at", "by")
    return [dict(zip(keys, r, strict=True)) for r in await cur.fetchall()]
