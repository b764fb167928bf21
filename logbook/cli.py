"""``clearwell users add|list|sites``, and the audit chain's check that ``clearwell verify``
runs."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator
from typing import Annotated, Any

import psycopg
import typer

from clearwell.access import ROLES
from clearwell.db import connection, describe_target, explain_connect_error
from clearwell.errors import ClearwellError
from clearwell.settings import get_settings
from logbook import audit
from logbook.memberships import set_member, site_ids
from logbook.people import PersonError, create_person, list_people

users_app = typer.Typer(no_args_is_help=True, help="People who use the logbook.")


@contextlib.contextmanager
def _database_errors(dsn: str) -> Iterator[None]:
    """Database failures as one line the CLI can print."""
    try:
        yield
    except psycopg.errors.UndefinedTable:
        raise ClearwellError(
            f"{describe_target(dsn)} has no logbook tables yet: run `clearwell db migrate`"
        ) from None
    except psycopg.OperationalError as exc:
        raise explain_connect_error(dsn, exc) from None


CLI = audit.Actor(None, "cli")


async def _add(
    dsn: str, username: str, name: str, role: str, password: str, sites: list[str]
) -> int:
    async with await psycopg.AsyncConnection.connect(dsn) as conn, conn.transaction():
        ids = await site_ids(conn, sites)
        return await create_person(conn, CLI, username, name, role, password, None, ids)


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLES)}")],
    name: Annotated[str | None, typer.Option(help="full name (default: the username)")] = None,
    site: Annotated[
        list[str] | None,
        typer.Option(help="code of a site they belong to (repeat for several; admins: none)"),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Add a person, who acts at the sites given; the password is prompted for (or read
    from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    dsn = get_settings().database_dsn
    with _database_errors(dsn), _person_errors():
        person_id = asyncio.run(_add(dsn, username, name or username, role, password, site or []))
    where = f" at {', '.join(site)}" if site else ""
    typer.echo(f"added {username} ({role}) as person {person_id}{where}")


@contextlib.contextmanager
def _person_errors() -> Iterator[None]:
    try:
        yield
    except PersonError as exc:
        raise ClearwellError(str(exc)) from None


async def _sites(dsn: str, username: str, join: list[str], leave: list[str]) -> list[str]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn, conn.transaction():
        cur = await conn.execute("SELECT id FROM people WHERE username = %s", (username,))
        row = await cur.fetchone()
        if row is None:
            raise ClearwellError(f"no person {username!r}")
        for ids, member in (
            (await site_ids(conn, join), True),
            (await site_ids(conn, leave), False),
        ):
            for site_id in ids:
                await set_member(conn, CLI, int(row[0]), site_id, member)
        cur = await conn.execute(
            "SELECT s.code FROM site_members m JOIN sites s ON s.id = m.site_id"
            " WHERE m.person_id = %s ORDER BY s.code",
            (row[0],),
        )
        return [r[0] for r in await cur.fetchall()]


@users_app.command("sites")
def users_sites(
    username: str,
    join: Annotated[
        list[str] | None, typer.Option(help="a site code they join (repeatable)")
    ] = None,
    leave: Annotated[
        list[str] | None, typer.Option(help="a site code they leave (repeatable)")
    ] = None,
) -> None:
    """Show the sites a person belongs to, after joining or leaving those given (each
    change appended and audited)."""
    dsn = get_settings().database_dsn
    with _database_errors(dsn), _person_errors():
        codes = asyncio.run(_sites(dsn, username, join or [], leave or []))
    typer.echo(f"{username}: {', '.join(codes) if codes else 'no site'}")


async def _list(dsn: str) -> list[dict[str, Any]]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn, conn.transaction():
        return await list_people(conn)


@users_app.command("list")
def users_list() -> None:
    """List people with their current role and their sites."""
    dsn = get_settings().database_dsn
    with _database_errors(dsn):
        people = asyncio.run(_list(dsn))
    for p in people:
        pin = " pin" if p["has_pin"] else ""
        sites = f" [{', '.join(p['sites'])}]" if p["sites"] else ""
        typer.echo(
            f"{p['id']:>5}  {p['username']:<20} {p['role']:<15} {p['full_name']}{pin}{sites}"
        )
    typer.echo(f"{len(people)} people")


def verify_chain() -> None:
    """Check the audit log's hash chain; print its head, or where it breaks (exit 1)."""
    dsn = get_settings().database_dsn
    with _database_errors(dsn), connection(dsn) as conn:
        result = audit.verify(conn)
        if result.broken is None:
            head = result.head
            tail = f", head seq {head['seq']} {head['row_hash']}" if head else ""
            typer.echo(f"audit chain ok: {result.rows} rows{tail}")
            return
        row = conn.execute(
            "SELECT seq, at, actor, action, subject, subject_id, row_hash FROM audit_log"
            " WHERE seq = %s",
            (result.broken.seq,),
        ).fetchone()
    typer.echo(f"audit chain BROKEN at seq {result.broken.seq}: {result.broken.reason}", err=True)
    if row is not None:
        typer.echo(
            f"  row: seq={row[0]} at={row[1].isoformat()} actor={row[2]} action={row[3]}"
            f" subject={row[4]}:{row[5]} row_hash={row[6]}",
            err=True,
        )
    # typer.Exit is swallowed in the CLI's non-standalone mode; an error exits 1.
    raise ClearwellError(f"audit chain broken at seq {result.broken.seq}")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
