"""A client of the app's API that logs in as the demo people, and the people it knows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import psycopg

from logbook import audit
from logbook.demo import DEMO_USERS, seed_async
from logbook.people import create_person

PASSWORDS = {u[0]: u[3] for u in DEMO_USERS} | {"operator2": "second-operator-pass"}


class Api:
    def __init__(
        self,
        client: httpx.AsyncClient,
        db_url: str,
        data_dir: Path,
        owner_url: str = "",
        superuser_url: str = "",
    ) -> None:
        self.client = client
        # The app's URL (the runtime role); the owner's and the server's own for tampering.
        self.db_url = db_url
        self.owner_url = owner_url
        self.superuser_url = superuser_url
        # The app's data directory: a site file put there sets the site's ranges.
        self.data_dir = data_dir
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    async def login(self, username: str) -> str:
        if username not in self.tokens:
            r = await self.client.post(
                "/api/auth/login", json={"username": username, "password": PASSWORDS[username]}
            )
            assert r.status_code == 200, r.text
            self.tokens[username] = r.json()["token"]
            self.ids[username] = r.json()["user"]["id"]
        return self.tokens[username]

    async def id(self, username: str) -> int:
        await self.login(username)
        return self.ids[username]

    async def headers(self, username: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.login(username)}", **(extra or {})}

    async def post(
        self, username: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        self.client.cookies.clear()
        return await self.client.post(
            path, json=body, headers=await self.headers(username, headers)
        )

    async def get(self, username: str, path: str, **params: Any) -> httpx.Response:
        self.client.cookies.clear()
        return await self.client.get(path, params=params, headers=await self.headers(username))

    async def open_shift(self, username: str = "operator", **extra: Any) -> dict[str, Any]:
        crew = extra.pop("crew", [{"person_id": await self.id(username), "shift_role": "operator"}])
        r = await self.post(
            username, "/api/shifts", {"site": "demo-wwtp", "label": "day", "crew": crew, **extra}
        )
        assert r.status_code == 201, r.text
        return r.json()

    async def entry(
        self, username: str, shift_id: int, kind: str, data: dict[str, Any], **extra: Any
    ) -> httpx.Response:
        return await self.post(
            username, "/api/entries", {"shift_id": shift_id, "kind": kind, "data": data, **extra}
        )


async def site_id(conn: psycopg.AsyncConnection[Any], code: str) -> int:
    cur = await conn.execute("SELECT id FROM sites WHERE code = %s", (code,))
    row = await cur.fetchone()
    assert row is not None, f"no site {code}"
    return int(row[0])


async def seed_people(db_url: str) -> None:
    """The demo site and people, and a second operator."""
    await seed_async(db_url)
    async with await psycopg.AsyncConnection.connect(db_url) as conn, conn.transaction():
        await create_person(
            conn,
            audit.SYSTEM,
            "operator2",
            "Second Operator",
            "operator",
            PASSWORDS["operator2"],
            None,
            [await site_id(conn, "demo-wwtp")],
        )
