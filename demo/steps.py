"""What ``clearwell demo`` does before serving, and what it runs beside the web app.

Each seeder is idempotent: a second ``clearwell demo`` must start in seconds and keep
what the first one (or a person using the demo) wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from clearwell.settings import Settings

Seeder = Callable[[Settings], None]
Service = Callable[[Settings], Coroutine[Any, Any, None]]


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


async def run_simulator(settings: Settings) -> None:
    """The demo plant at real time on the map's ports."""
    from simulators.runtime import PlantSimulator, utc_now_seconds

    sim = PlantSimulator(start=utc_now_seconds(), data_dir=Path(settings.data_dir) / "simulator")
    await sim.run_forever()


async def run_collectors(settings: Settings) -> None:
    """The collectors reading the demo simulator, configured by the simulator's own map."""
    from ingest.service import IngestService
    from simulators.address_map import DEFAULT_MAP
    from sitefile.load import load_config

    site = load_config(DEFAULT_MAP)
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
)

SERVICES: tuple[tuple[str, Service], ...] = (
    ("simulator", run_simulator),
    ("collectors", run_collectors),
    ("compliance-stamps", run_stamping),
)
