"""``clearwell ingest --config FILE``, and the collectors' place in ``clearwell demo``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from clearwell.settings import Settings

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    from clearwell import cli

    cli.DEMO_SERVICES.append(("collectors", demo_service))


def ingest(
    config: Annotated[
        Path, typer.Option("--config", help="Site configuration (YAML): devices and tags")
    ],
    check: Annotated[
        bool, typer.Option("--check", help="Validate the configuration and print the plan only")
    ] = False,
) -> None:
    """Sync the configuration's tags into the database and run the collectors until Ctrl-C."""
    from clearwell.cli import _setup_logging
    from clearwell.settings import get_settings
    from ingest.config import load_config
    from ingest.plan import plan_device
    from ingest.service import IngestService

    site = load_config(config)
    if check:
        for device in site.modbus.devices:
            requests = plan_device(device, site.modbus_tags(device.name))
            typer.echo(f"{device.name} ({device.host}:{device.port} unit {device.unit_id}):")
            for r in requests:
                typer.echo(f"  {r.kind} {r.address}+{r.count}: {len(r.slots)} tags")
        typer.echo(f"{config}: {len(site.tags)} tags, configuration valid")
        return
    settings = get_settings()
    _setup_logging(settings)
    service = IngestService(site, settings.database_dsn, settings.data_dir, source=str(config))
    asyncio.run(service.run_forever())


async def demo_service(settings: Settings) -> None:
    """The collectors reading the demo simulator, configured by the simulator's own map."""
    from ingest.config import load_config
    from ingest.service import IngestService
    from simulators.address_map import DEFAULT_MAP

    site = load_config(DEFAULT_MAP)
    service = IngestService(site, settings.database_dsn, settings.data_dir, source="demo")
    await service.run_forever()
