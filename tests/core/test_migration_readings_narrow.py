"""Migration 0006 narrows ``readings`` on a database that has them: every row kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from clearwell.migrate import applied, discover, migrate
from tests.support.database import DatabaseServer, owner_of

T0 = datetime(2026, 3, 1, 23, 59, 58, tzinfo=UTC)
BAD_COMMUNICATION = -2146500608  # 0x80130000 as a signed 32-bit integer


def test_readings_are_moved_into_the_narrow_layout(db_server: DatabaseServer) -> None:
    url = db_server.make_database(migrated=False)
    previous = [m for m in discover() if m.version < "0006"]
    rows = [
        (T0, 1, 2.5, 0, None),
        (T0 + timedelta(seconds=1), 1, None, BAD_COMMUNICATION, None),
        # The next plant day's chunk, with an OPC UA server time.
        (T0 + timedelta(seconds=3), 2, -7.25, 0, T0 + timedelta(seconds=2)),
        (T0 + timedelta(days=3), 2, 1e300, 1073741824, None),
    ]
    # Migrations run as the schema's owner.
    with psycopg.connect(owner_of(url), autocommit=True) as conn:
        migrate(conn, previous)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO readings (time, tag_id, value, status, server_time)"
                " VALUES (%s, %s, %s, %s, %s)",
                rows,
            )
        assert migrate(conn, [m for m in discover() if m.version <= "0006"]) == [
            "0006_readings_narrow.sql"
        ]
        assert "0006" in applied(conn)
        got = conn.execute(
            "SELECT time, tag_id, value, status, server_time FROM readings ORDER BY time"
        ).fetchall()
        assert got == rows
        columns = conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'readings' ORDER BY ordinal_position"
        ).fetchall()
        assert [c for (c,) in columns] == ["time", "tag_id", "status", "value", "server_time"]
        chunks = conn.execute("SELECT count(*) FROM show_chunks('readings')").fetchone()
        assert chunks == (3,)
        # The rest of the migrations apply on top, and a replayed reading is absorbed.
        migrate(conn)
        conn.execute(
            "INSERT INTO readings (time, tag_id, value) VALUES (%s, 1, 9)"
            " ON CONFLICT (tag_id, time) DO NOTHING",
            (T0,),
        )
        assert conn.execute("SELECT value FROM readings WHERE time = %s", (T0,)).fetchone() == (
            2.5,
        )
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO readings (time, tag_id, value) VALUES (%s, 1, 9)", (T0,))
