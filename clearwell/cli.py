"""The ``clearwell`` command. Each domain package adds its own commands via ``register``."""

from __future__ import annotations

import gc
import importlib
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from clearwell.db import connection, describe_target, timescaledb_info
from clearwell.errors import ClearwellError
from clearwell.settings import Settings, get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Clearwell operations record.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")
# `clearwell db status`'s exit code when migrations are pending (1 is an error).
PENDING_EXIT = 2

# Packages whose ``cli.register(app)`` adds commands (simulate, ingest, demo, …).
CLI_MODULES: tuple[str, ...] = (
    "compliance.cli",
    "simulators.cli",
    "ingest.cli",
    "logbook.cli",
    "dashboards.trends.cli",
    "dashboards.exports.cli",
    "demo.cli",
)


def setup_logging(settings: Settings | None = None) -> None:
    level = settings.log_level if settings else "INFO"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # asyncua logs every publish and read at INFO: a line a second per subscription, which
    # buries Clearwell's own messages. Its warnings and errors still come through.
    if logging.getLevelName(level) < logging.WARNING:
        logging.getLogger("asyncua").setLevel(logging.WARNING)


def _user(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    return str(conninfo_to_dict(dsn).get("user") or "")


def run_migrations(settings: Settings) -> list[str]:
    """Migrates as the owner, then grants the runtime role its privileges (when the two
    are different roles: an install with one role for both has nothing to grant)."""
    import psycopg

    from clearwell.migrate import grant_runtime, migrate

    runtime = _user(settings.database_dsn)
    with connection(settings.owner_dsn, autocommit=True) as conn:
        try:
            done = migrate(conn)
        except psycopg.errors.InsufficientPrivilege as exc:
            first = str(exc).strip().splitlines()[0]
            raise ClearwellError(
                f"{describe_target(settings.owner_dsn)} may not change the schema ({first}):"
                " migrations run as the schema's owner; set CLEARWELL_OWNER_DATABASE_URL"
            ) from None
        owner = conn.execute("SELECT current_user").fetchone()
        if runtime and owner and runtime != owner[0]:
            grant_runtime(conn, runtime)
    return done


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations as the owner (CLEARWELL_OWNER_DATABASE_URL, else
    CLEARWELL_DATABASE_URL) and grant the runtime role what it may do."""
    settings = get_settings()
    applied = run_migrations(settings)
    target = describe_target(settings.owner_dsn)
    if applied:
        for name in applied:
            typer.echo(f"applied {name}")
    typer.echo(f"{target}: schema up to date ({len(applied)} applied)")


@db_app.command("status")
def db_status() -> None:
    """Show the database, TimescaleDB, and what `db migrate` would do; exit 2 if anything is
    pending, 1 if it would refuse. Connects as the owner (CLEARWELL_OWNER_DATABASE_URL, else
    CLEARWELL_DATABASE_URL), as `db migrate` does."""
    from clearwell.migrate import applied, discover, plan

    settings = get_settings()
    # The owner's view, not the runtime role's: after a restore --no-owner the runtime role
    # has no grants until `db migrate`, which is what this command is run before.
    with connection(settings.owner_dsn, autocommit=True) as conn:
        info = timescaledb_info(conn)
        upgrade = plan(discover(), applied(conn))
    typer.echo(f"database    {describe_target(settings.owner_dsn)}")
    typer.echo(f"postgresql  {info['postgresql']}")
    typer.echo(f"timescaledb {info['timescaledb'] or 'not installed'} ({info['license']})")
    typer.echo(f"migrations  {len(upgrade.applied)} applied, {len(upgrade.pending)} pending")
    for m in upgrade.pending:
        typer.echo(f"  pending {m.path.name}: {m.summary}")
    for m in upgrade.changed:
        typer.echo(f"  CHANGED {m.path.name} since it was applied: migrate will refuse")
    for version in upgrade.unknown:
        typer.echo(f"  applied {version}, unknown to this Clearwell (a newer one migrated it)")
    if upgrade.changed:
        raise ClearwellError(f"{len(upgrade.changed)} applied migration(s) changed")
    if upgrade.pending:
        typer.echo("`clearwell db migrate` applies them in this order, each in its own transaction")
        raise typer.Exit(PENDING_EXIT)


@app.command()
def backup(
    directory: Annotated[Path, typer.Argument(help="a new (or empty) directory")],
) -> None:
    """Back up the database (pg_dump) and the data directory into DIRECTORY, as the schema's
    owner (CLEARWELL_OWNER_DATABASE_URL, else CLEARWELL_DATABASE_URL), who may read it all."""
    from clearwell import backup as backups

    settings = get_settings()
    manifest = backups.backup(settings.owner_dsn, settings.data_dir, directory)
    typer.echo(
        f"backed up {manifest.database} ({sum(manifest.rows.values()):,} rows in"
        f" {len(manifest.rows)} tables) and {settings.data_dir} into {directory}"
    )


@app.command()
def restore(
    directory: Annotated[Path, typer.Argument(help="a directory `clearwell backup` made")],
    no_owner: Annotated[
        bool,
        typer.Option(
            "--no-owner",
            help="own what is restored as the connecting role, not as the backup's owners",
        ),
    ] = False,
) -> None:
    """Restore a backup into an empty database and an empty data directory, connecting as
    CLEARWELL_OWNER_DATABASE_URL (else CLEARWELL_DATABASE_URL), which must be a superuser's."""
    from clearwell import backup as backups

    settings = get_settings()
    manifest = backups.restore(
        settings.owner_dsn, settings.data_dir, directory, keep_owners=not no_owner
    )
    typer.echo(
        f"restored {directory} (made {manifest.created_at} from {manifest.database}):"
        f" {sum(manifest.rows.values()):,} rows in {len(manifest.rows)} tables, every one"
        f" accounted for, and {settings.data_dir}; run `clearwell db migrate` if this"
        " Clearwell is newer, then `clearwell verify`"
    )


def uvicorn_server(settings: Settings, host: str | None, port: int | None) -> object:
    import uvicorn

    from clearwell.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        ssl_certfile=settings.tls_certfile,
        ssl_keyfile=settings.tls_keyfile,
        # Forwarded headers are believed from CLEARWELL_TRUSTED_PROXIES only, by the app
        # (clearwell.http_guard); uvicorn's default believes any local client.
        proxy_headers=False,
    )
    return uvicorn.Server(config)


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="Port (default CLEARWELL_PORT or 8000)")] = None,
    host: Annotated[str | None, typer.Option(help="Address (default CLEARWELL_HOST)")] = None,
) -> None:
    """Run the web app and API."""
    settings = get_settings()
    setup_logging(settings)
    server = uvicorn_server(settings, host, port)
    # The app's modules and models are loaded and live as long as the process: out of
    # the cyclic collector's sight, a full collection is no longer a 100 ms pause.
    gc.freeze()
    # run(), not asyncio.run(serve()): uvicorn's loop factory picks uvloop.
    server.run()  # type: ignore[attr-defined]


def _register_modules() -> None:
    for module in CLI_MODULES:
        importlib.import_module(module).register(app)


def main() -> None:
    _register_modules()
    try:
        code = app(standalone_mode=False)
    except ClearwellError as exc:
        typer.echo(f"clearwell: error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's usage errors arrive here with standalone_mode=False
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    # Without standalone mode, click returns a typer.Exit's code instead of exiting.
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
