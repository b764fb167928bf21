"""Fixtures every test package may use: a real TimescaleDB, and leak checks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.database import DatabaseServer, database_server


@pytest.fixture(scope="session")
def db_server() -> Iterator[DatabaseServer]:
    with database_server() as server:
        yield server


@pytest.fixture
def db_url(db_server: DatabaseServer) -> Iterator[str]:
    """A fresh database with every migration applied, dropped after the test."""
    url = db_server.make_database()
    yield url
    db_server.drop_database(url)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fails a test that leaves threads behind (servers, pools, executors not closed)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3.0
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if leaked:
        pytest.fail(f"test leaked threads: {[t.name for t in leaked]}")
