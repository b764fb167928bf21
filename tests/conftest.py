"""Fixtures every test package may use: a real TimescaleDB, the app with a client that
logs in, cheap password hashing, and leak checks."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from clearwell.app import create_app
from clearwell.settings import load_settings
from logbook.auth import secrets
from tests.support.api import Api, seed_people
from tests.support.database import DatabaseServer, database_server


@pytest.fixture(scope="session")
def db_server() -> Iterator[DatabaseServer]:
    with database_server() as server:
        yield server


@pytest.fixture
def db_url(db_server: DatabaseServer) -> Iterator[str]:
    """A fresh database with every migration applied, dropped after the test; the URL
    names the runtime role, with the grants the app has."""
    url = db_server.make_database()
    yield url
    db_server.drop_database(url)


@pytest.fixture
def db_owner_url(db_url: str, db_server: DatabaseServer) -> str:
    """The same database as its owner, for what the app never does: tampering with
    records, setting up working tables the app only reads."""
    return db_server.owner_url(db_url)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """argon2 at its cheapest: real parameters cost ~0.1 s a hash and the tests make
    hundreds; verifying reads the parameters from the stored hash, so servers the tests
    start still check these hashes."""
    monkeypatch.setattr(
        secrets, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    monkeypatch.setattr(secrets, "_dummy", [])
    yield


@pytest.fixture
async def api(db_url: str, db_server: DatabaseServer, tmp_path: Path) -> AsyncIterator[Api]:
    """The app on a fresh database with the demo site and people (and operator2), and a
    client that logs in as them. Its data directory is the test's own (no site file: no
    ranges, until a test puts one there)."""
    await seed_people(db_url)
    data_dir = tmp_path / "data"
    app = create_app(load_settings(database_url=db_url, data_dir=data_dir))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(
                client,
                db_url,
                data_dir,
                db_server.owner_url(db_url),
                db_server.superuser_url(db_url),
            )


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
