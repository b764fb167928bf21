"""``clearwell rollups``: refresh the trend rollups by hand (backfills, repairs);
``clearwell retention``: drop what is past keeping, or say what would go."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
import typer

from clearwell.db import CONNECT_TIMEOUT_S, explain_connect_error
from clearwell.errors import ClearwellError
from clearwell.settings import get_settings

rollups_app = typer.Typer(no_args_is_help=True, help="Per-minute and per-hour rollups of readings.")


def parse_day_or_time(value: str, option: str) -> datetime:
    """``2026-11-01`` (UTC midnight) or an ISO 8601 time with a zone, as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ClearwellError(f"{option}: {value!r} is not a date or an ISO 8601 time") from None
    if parsed.tzinfo is None:
        if len(value) > 10:
            raise ClearwellError(f"{option}: {value!r} has no time zone; add Z or an offset")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


async def _connect(dsn: str) -> psycopg.AsyncConnection[Any]:
    try:
        return await psycopg.AsyncConnection.connect(
            dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
        )
    except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
        raise explain_connect_error(dsn, exc) from None


async def _refresh(
    dsn: str, since: datetime | None, until: datetime | None, tag_ids: list[int], batch: int
) -> tuple[int, int]:
    from dashboards.trends.rollups import mark_range, refresh_all

    conn = await _connect(dsn)
    async with conn:
        marked = 0
        if since is not None:
            marked = await mark_range(conn, since, until or datetime.now(UTC), tag_ids or None)
        done = await refresh_all(conn, batch, wait_for_lock=True)
        return marked, done


@rollups_app.command("refresh")
def refresh_command(
    since: Annotated[
        str | None,
        typer.Option(help="Recompute every hour from this date or time (UTC), not only dirty ones"),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="End of --since's range, exclusive (default now)")
    ] = None,
    tag: Annotated[
        list[int] | None, typer.Option(help="Only this tag id with --since (repeatable)")
    ] = None,
    batch: Annotated[int, typer.Option(min=1, help="Dirty hours per transaction")] = 200,
) -> None:
    """Recompute the dirty hours of readings_1m and readings_1h (all of them, then exit).

    With --since, first marks every hour of the range that has readings or
    rollups, e.g. after loading history with COPY that bypassed the writer.
    """
    if until is not None and since is None:
        raise ClearwellError("--until needs --since")
    if tag and since is None:
        raise ClearwellError("--tag needs --since")
    start = parse_day_or_time(since, "--since") if since else None
    end = parse_day_or_time(until, "--until") if until else None
    if start and end and end <= start:
        raise ClearwellError(f"--until ({until}) must be after --since ({since})")
    settings = get_settings()
    marked, done = asyncio.run(_refresh(settings.database_dsn, start, end, list(tag or []), batch))
    if since is not None:
        typer.echo(f"marked {marked} tag-hours from {start:%Y-%m-%d %H:%M}Z")
    typer.echo(f"recomputed {done} tag-hours")


async def _status(dsn: str) -> tuple[int, int, datetime | None]:
    conn = await _connect(dsn)
    async with conn:
        cur = await conn.execute(
            "SELECT count(*), count(DISTINCT (tag_id, bucket_hour)), min(marked_at)"
            " FROM rollup_dirty"
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), row[2]


@rollups_app.command("status")
def status_command() -> None:
    """How much is waiting for the refresh: marks, tag-hours, and the oldest mark's age."""
    settings = get_settings()
    marks, pairs, oldest = asyncio.run(_status(settings.database_dsn))
    if not marks:
        typer.echo("rollups up to date (no dirty hours)")
        return
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    typer.echo(f"{marks} marks for {pairs} tag-hours waiting; oldest marked {age:.0f} s ago")


retention_app = typer.Typer(
    help="How long raw readings and rollups are kept (dashboards.trends.retention)."
)


async def _retention(dsn: str, dry_run: bool) -> list[str]:
    from dashboards.trends import retention_db
    from dashboards.trends.retention_job import describe

    conn = await _connect(dsn)
    async with conn:
        planned = await (retention_db.plan(conn) if dry_run else retention_db.apply(conn))
    lines = describe(planned)
    if dry_run:
        return [f"would drop {line}" for line in lines] or ["nothing to drop"]
    return [f"dropped {line}" for line in lines] or ["nothing to drop"]


@retention_app.callback(invoke_without_command=True)
def retention_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be dropped; drop nothing")
    ] = False,
) -> None:
    """Drop the chunks of raw readings and rollups past their sites' keeping (the web app
    does this hourly); never raw readings a rollup or an unreported month still needs."""
    if ctx.invoked_subcommand is not None:
        return
    for line in asyncio.run(_retention(get_settings().database_dsn, dry_run)):
        typer.echo(line)


async def _set(dsn: str, site: str, policy: Any) -> bool:
    from dashboards.trends.retention_db import set_policy

    conn = await _connect(dsn)
    async with conn:
        return await set_policy(conn, site, policy)


@retention_app.command("set")
def set_command(
    site: Annotated[str, typer.Argument(help="Site code")],
    raw_days: Annotated[int, typer.Option(help="Days raw readings are kept")] = 90,
    minute_days: Annotated[int, typer.Option(help="Days minute rollups are kept")] = 180,
    hour_days: Annotated[int, typer.Option(help="Days hourly rollups are kept")] = 3653,
) -> None:
    """Set how long a site keeps raw readings and rollups (the defaults without a setting)."""
    from dashboards.trends.retention import Policy

    policy = Policy(raw_days, minute_days, hour_days)
    if problems := policy.problems():
        raise ClearwellError("; ".join(problems))
    if not asyncio.run(_set(get_settings().database_dsn, site, policy)):
        raise ClearwellError(f"no site {site!r}")
    typer.echo(
        f"{site}: raw readings {raw_days} days, minute rollups {minute_days} days,"
        f" hourly rollups {hour_days} days"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(rollups_app, name="rollups")
    app.add_typer(retention_app, name="retention")
