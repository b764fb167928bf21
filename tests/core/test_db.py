"""Connections: how a target is named, and the app's pool across a lost server session."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from clearwell.app import create_app
from clearwell.db import describe_target
from clearwell.settings import load_settings


@pytest.mark.parametrize(
    ("dsn", "described"),
    [
        ("postgresql://cw:secret@db.example:5433/clearwell", "cw@db.example:5433/clearwell"),
        ("postgresql://cw@10.0.0.5/clearwell", "cw@10.0.0.5:5432/clearwell"),
        (
            "postgresql://cw:secret@10.0.0.5:5432,10.0.0.6:5433/clearwell"
            "?target_session_attrs=read-write",
            "cw@10.0.0.5:5432,10.0.0.6:5433/clearwell",
        ),
        ("postgresql://cw@a,b:6432/clearwell", "cw@a:5432,b:6432/clearwell"),
        ("host=a,b port=1,2 user=cw dbname=x password=secret", "cw@a:1,b:2/x"),
        ("postgresql://cw@a:1,b:2/x?badparam=1", "<unparseable database URL>"),
    ],
)
def test_a_target_names_every_node_and_never_the_password(dsn: str, described: str) -> None:
    assert describe_target(dsn) == described


async def test_a_pooled_connection_the_server_ended_is_replaced_not_a_failed_request(
    db_url: str,
) -> None:
    # What a failover leaves in the pool: connections to a server that is gone.
    app = create_app(load_settings(database_url=db_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/healthz")).status_code == 200
            with psycopg.connect(db_url, autocommit=True) as conn:
                ended = conn.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
            assert ended is not None and ended[0] >= 1
            assert (await client.get("/healthz")).status_code == 200
