"""Simulators under test: real servers on free loopback ports, the clock stopped unless asked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulators.runtime import PlantSimulator

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sim_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One certificate directory for the session: generating a key costs a little."""
    return tmp_path_factory.mktemp("simulator-data")


@pytest.fixture
async def modbus_sim() -> AsyncIterator[PlantSimulator]:
    async with PlantSimulator(seed=7, speed=0, start=START, modbus_port=0, opcua=False) as sim:
        yield sim
