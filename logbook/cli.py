"""``clearwell users add|list|sites``, and the database's check that ``clearwell verify``
runs: the audit chain, the record rows against it, and the database against signed
checkpoints."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from clearwell.access import ROLES
from clearwell.db import connection, describe_target, explain_connect_error
from clearwell.errors import ClearwellError
from clearwell.settings import get_settings
from clearwell.signing_key import trusted_keys
from logbook import audit, checkpoints, records
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


def _checkpoints(
    conn: psycopg.Connection[Any],
    data_dir: Path,
    extra: Sequence[tuple[str, Any]],
    keys: Sequence[Ed25519PublicKey] | None,
) -> tuple[list[checkpoints.Checked], dict[int, str]]:
    """The checkpoints of the data directory and ``extra`` (where, signed), each checked
    with ``keys`` (default: the data directory's trusted keys), and the database's
    row_hash at each one's seq."""
    trusted = [k for _, k in trusted_keys(data_dir)] if keys is None else list(keys)
    found = checkpoints.read_all(data_dir, trusted)
    found += [checkpoints.check(signed, trusted, where) for where, signed in extra]
    seqs = sorted({c.checkpoint["seq"] for c in found if c.checkpoint})
    rows = conn.execute(
        "SELECT seq, row_hash FROM audit_log WHERE seq = ANY(%s)", (seqs,)
    ).fetchall()
    return found, dict(rows)


def _database(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT current_database()").fetchone()
    return str(row[0]) if row else ""


def _named(findings: Sequence[records.Finding]) -> list[str]:
    lines = [f"  {f.describe()}" for f in findings[: records.NAMED]]
    if len(findings) > records.NAMED:
        lines.append(f"  … and {len(findings) - records.NAMED} more")
    return lines


def verify_database(
    extra: Sequence[tuple[str, Any]] = (), keys: Sequence[Ed25519PublicKey] | None = None
) -> None:
    """Check the audit log's hash chain, every record row against it, and the database
    against the newest signed checkpoint (the data directory's, and ``extra``'s: each a
    ``(where, signed checkpoint)``); print what holds, or every problem (exit 1)."""
    settings = get_settings()
    dsn = settings.database_dsn
    problems: list[str] = []
    with _database_errors(dsn), connection(dsn) as conn:
        result = audit.verify(conn)
        found, hashes = _checkpoints(conn, Path(settings.data_dir), extra, keys)
        database = _database(conn)
        row = None
        if result.broken is not None:
            row = conn.execute(
                "SELECT seq, at, actor, action, subject, subject_id, row_hash FROM audit_log"
                " WHERE seq = %s",
                (result.broken.seq,),
            ).fetchone()
    if result.broken is None:
        head = result.head
        tail = f", head seq {head['seq']} {head['row_hash']}" if head else ""
        typer.echo(f"audit chain ok: {result.rows} rows{tail}")
    else:
        broken = result.broken
        typer.echo(f"audit chain BROKEN at seq {broken.seq}: {broken.reason}", err=True)
        if row is not None:
            typer.echo(
                f"  row: seq={row[0]} at={row[1].isoformat()} actor={row[2]} action={row[3]}"
                f" subject={row[4]}:{row[5]} row_hash={row[6]}",
                err=True,
            )
        problems.append(f"audit chain broken at seq {broken.seq}")
    assert result.records is not None
    counts = result.records.counts
    kinds = result.records.by_kind()
    if not result.records.findings:
        typer.echo(
            f"record rows ok: {sum(counts.values())} rows in {len(counts)} record tables,"
            " each as its audit row recorded it"
        )
    for kind, label in (
        ("changed", "changed since the audit chain recorded them"),
        ("gone", "recorded in the audit chain but gone"),
        ("unaudited", "written without an audit row"),
        ("untracked", "record tables no longer named to the chain"),
    ):
        if kinds.get(kind):
            typer.echo(f"record rows {label}: {len(kinds[kind])}", err=True)
            typer.echo("\n".join(_named(kinds[kind])), err=True)
            problems.append(f"{len(kinds[kind])} record row(s) {label}")
    for c in found:
        if c.problem:
            typer.echo(f"checkpoint {c.where}: NOT USED: {c.problem}", err=True)
            problems.append(f"checkpoint {c.where}: {c.problem}")
    # The latest is also the history's last line, most of the time.
    unique = {json.dumps(c.checkpoint, sort_keys=True): c.checkpoint for c in found if c.checkpoint}
    good = checkpoints.of_database(unique.values(), database)
    others = sorted({str(c.get("database")) for c in unique.values()} - {database})
    if others:
        typer.echo(f"not compared: checkpoints of other databases ({', '.join(others)})")
    last_seq = result.last["seq"] if result.last else 0
    lost = checkpoints.compare(good, last_seq, hashes, counts)
    for line in lost:
        typer.echo(f"CHECKPOINT: {line}", err=True)
    problems += lost
    top = checkpoints.newest(good)
    if top is None:
        typer.echo(
            "no signed checkpoint seen: rows cut off the chain's end would not show"
            f" (the web app writes them to {checkpoints.folder(Path(settings.data_dir))})"
        )
    elif not lost:
        typer.echo(
            f"checkpoints ok: {len(good)} seen, the newest of {top['made_at']} at seq {top['seq']}"
        )
    if problems:
        # typer.Exit is swallowed in the CLI's non-standalone mode; an error exits 1.
        raise ClearwellError("NOT VERIFIED: " + "; ".join(problems))


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
