"""The ``clearwell`` command. Each domain package adds its own commands via ``register``."""

from __future__ import annotations

import gc
import importlib
import logging
import sys
from typing import Annotated

import typer

from clearwell.db import connection, describe_target, timescaledb_info
from clearwell.errors import ClearwellError
from clearwell.settings import Settings, get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Clearwell operations record.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")

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


def run_migrations(settings: Settings) -> list[str]:
    from clearwell.migrate import migrate

    with connection(settings.database_dsn, autocommit=True) as conn:
        return migrate(conn)


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations to the database CLEARWELL_DATABASE_URL names."""
    settings = get_settings()
    applied = run_migrations(settings)
    target = describe_target(settings.database_dsn)
    if applied:
        for name in applied:
            typer.echo(f"applied {name}")
    typer.echo(f"{target}: schema up to date ({len(applied)} applied)")


@db_app.command("status")
def db_status() -> None:
    """Show the database, TimescaleDB version and license, and pending migrations."""
    from clearwell.migrate import applied, discover

    settings = get_settings()
    with connection(settings.database_dsn, autocommit=True) as conn:
        info = timescaledb_info(conn)
        done = applied(conn)
    pending = [m.path.name for m in discover() if m.version not in done]
    typer.echo(f"database    {describe_target(settings.database_dsn)}")
    typer.echo(f"postgresql  {info['postgresql']}")
    typer.echo(f"timescaledb {info['timescaledb'] or 'not installed'} ({info['license']})")
    typer.echo(f"migrations  {len(done)} applied, {len(pending)} pending")
    for name in pending:
        typer.echo(f"  pending {name}")


def uvicorn_server(settings: Settings, host: str | None, port: int | None) -> object:
    import uvicorn

    from clearwell.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
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
        app(standalone_mode=False)
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


if __name__ == "__main__":
    main()
