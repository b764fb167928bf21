"""The one insert path of records that take a client key, against the real database."""

from datetime import UTC, datetime

import psycopg
import pytest
from fastapi import HTTPException

from logbook.write.idempotency import Made, RequestKey, already_made, insert_once
from logbook.write.shifts import insert_shift


async def test_a_key_makes_one_row_and_replays_it_for_the_same_request_only(db_url):
    async with await psycopg.AsyncConnection.connect(db_url) as conn:
        site = await (
            await conn.execute(
                "INSERT INTO sites (code, name, timezone) VALUES ('k', 'K', 'UTC') RETURNING id"
            )
        ).fetchone()
        person = await (
            await conn.execute(
                "INSERT INTO people (username, full_name) VALUES ('k', 'K') RETURNING id"
            )
        ).fetchone()
        assert site and person
        at = datetime.now(UTC)
        key = RequestKey("tap-1", "sha-a")
        first = await insert_shift(conn, site[0], "day", at, person[0], key)
        assert first == Made(first.id, replayed=False)
        again = await insert_shift(conn, site[0], "day", at, person[0], key)
        assert again == Made(first.id, replayed=True)
        assert await already_made(conn, "shifts", person[0], key) == again
        with pytest.raises(HTTPException) as refused:
            await insert_shift(conn, site[0], "night", at, person[0], RequestKey("tap-1", "sha-b"))
        assert refused.value.status_code == 409
        assert "already used for a different request" in refused.value.detail
        # Without a key every insert is a new row; the request's sha is kept all the same.
        for _ in range(2):
            made = await insert_once(
                conn,
                "shifts",
                {"site_id": site[0], "opened_at": at},
                person[0],
                RequestKey(None, "s"),
            )
            assert not made.replayed
        assert await already_made(conn, "shifts", person[0], RequestKey(None, "s")) is None
        cur = await conn.execute("SELECT client_key, request_sha FROM shifts ORDER BY id")
        assert await cur.fetchall() == [("tap-1", "sha-a"), (None, "s"), (None, "s")]
