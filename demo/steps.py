"""What ``clearwell demo`` does before serving, and what it runs beside the web app.

Each seeder is idempotent: a second ``clearwell demo`` must start in seconds and keep
what the first one (or a person using the demo) wrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clearwell.settings import Settings

if TYPE_CHECKING:
    from simulators.runtime import PlantSimulator
    from sitefile.models import SiteConfig

Seeder = Callable[[Settings], None]
Service = Callable[[Settings], Coroutine[Any, Any, None]]

HISTORY_DAYS = 35


def seed_people(settings: Settings) -> None:
    from logbook.demo import seed

    seed(settings)


def seed_compliance(settings: Settings) -> None:
    from compliance.demo import seed

    seed(settings)


def seed_site_file(settings: Settings) -> None:
    """Put the demo plant's map (its permit included) where the exports look for it.

    Left alone when present, so a permit edited for the demo survives a restart.
    """
    from simulators.address_map import DEFAULT_MAP
    from sitefile.datadir import site_file

    target = site_file(settings.data_dir, "demo-wwtp")
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(DEFAULT_MAP.read_text(encoding="utf-8"), encoding="utf-8")


def seed_history(settings: Settings) -> None:
    """The plant's last weeks (at least 35 days, and the whole of last month), once."""
    import time
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from demo.history.write import days_for_last_month, generate
    from simulators.address_map import DEFAULT_MAP
    from sitefile.load import load_config

    site = load_config(DEFAULT_MAP)
    now = datetime.now(UTC)
    days = days_for_last_month(now, ZoneInfo(site.site.timezone), HISTORY_DAYS)
    began = time.monotonic()
    written = asyncio.run(generate(settings.database_dsn, site, now, days, catch_up=True))
    if written is None:
        print("  the plant's history is there already")
        return
    h = written.history
    print(
        f"  wrote {h.start:%Y-%m-%d %H:%M} to {h.end:%Y-%m-%d %H:%M} UTC:"
        f" {written.readings:,} readings, {written.events} alarms, {written.shifts} shifts,"
        f" {written.entries} entries, {written.samples} samples"
        f" ({time.monotonic() - began:.1f} s)"
    )


async def plant_simulator(settings: Settings) -> PlantSimulator:
    """The demo plant at real time on the map's ports, continuing the history's model."""
    import psycopg

    from demo.history.plant import live_model
    from demo.history.write import recorded
    from simulators.runtime import PlantSimulator, utc_now_seconds

    now = utc_now_seconds()
    async with await psycopg.AsyncConnection.connect(settings.database_dsn) as conn:
        history = await recorded(conn, "demo-wwtp")
    model = live_model(history.seed, history.start, now) if history else None
    return PlantSimulator(start=now, model=model, data_dir=Path(settings.data_dir) / "simulator")


async def run_plant(settings: Settings) -> None:
    """The simulator, and once both its faces listen, the collectors reading it.

    In that order: collectors started beside a simulator not yet listening found the
    OPC UA server refusing connections, raised a communication alarm and stored its
    tags as bad on every start.
    """
    from simulators.address_map import DEFAULT_MAP
    from sitefile.load import load_config

    await collect(settings, load_config(DEFAULT_MAP), await plant_simulator(settings))


async def collect(settings: Settings, site: SiteConfig, simulator: PlantSimulator) -> None:
    """Starts ``simulator`` (its faces listen when this returns), then runs ``site``'s
    collectors until cancelled."""
    from ingest.service import IngestService

    async with simulator:
        service = IngestService(site, settings.database_dsn, settings.data_dir, source="demo")
        await service.run_forever()


async def run_stamping(settings: Settings) -> None:
    """Compliance's background pass: stamps the entries the writing transaction could not."""
    from compliance.stamping import stamp_service

    await stamp_service(settings.database_dsn)


SEEDERS: tuple[tuple[str, Seeder], ...] = (
    ("logbook: demo site and people", seed_people),
    ("compliance: demo profile and certificates", seed_compliance),
    ("exports: the demo site file with its permit", seed_site_file),
    ("the plant's history", seed_history),
)

SERVICES: tuple[tuple[str, Service], ...] = (
    ("simulator, then its collectors", run_plant),
    ("compliance-stamps", run_stamping),
)
