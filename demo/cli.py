"""The ``clearwell demo`` command."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from clearwell.cli import run_migrations, setup_logging, uvicorn_server
from clearwell.settings import get_settings
from demo.steps import SEEDERS, SERVICES


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    port: Annotated[
        int | None, typer.Option(help="Web port (default CLEARWELL_PORT or 8000)")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address (default CLEARWELL_HOST)")] = None,
) -> None:
    """Migrate the database, then run the web app with everything a newcomer needs to see."""
    settings = get_settings()
    setup_logging(settings)
    for name in run_migrations(settings):
        typer.echo(f"applied {name}")
    for name, seed in SEEDERS:
        typer.echo(f"demo: {name}")
        seed(settings)
    server = uvicorn_server(settings, host, port)

    async def run_all() -> None:
        tasks = [asyncio.create_task(server.serve(), name="web")]  # type: ignore[attr-defined]
        tasks += [asyncio.create_task(svc(settings), name=n) for n, svc in SERVICES]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if not t.cancelled() and t.exception():
                    raise t.exception()  # type: ignore[misc]
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(run_all())
