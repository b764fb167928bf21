"""Two database roles: the owner migrates, the runtime role (the app's) may read and append
records and nothing else there; its grants come from one declarative place."""

from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from clearwell.errors import MigrationError
from clearwell.migrate import RECORD_PRIVILEGES, declared_privileges, grant_runtime


def record_tables(conn: psycopg.Connection) -> list[str]:
    """Every table the migrations made append-only, read from the catalog, so that a
    record table added later is covered too."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " WHERE t.tgname = 'append_only_rows' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def first_column(conn: psycopg.Connection, table: str) -> str:
    return conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
        " AND attidentity = '' AND NOT attisdropped ORDER BY attnum LIMIT 1",
        (table,),
    ).fetchone()[0]


# What the runtime role tries on each record table; each must be refused by privilege,
# not by the append-only trigger (which the owner could switch off).
ATTEMPTS = (
    "ALTER TABLE {t} ADD COLUMN sneaky int",
    "ALTER TABLE {t} DISABLE TRIGGER USER",
    "ALTER TABLE {t} DISABLE TRIGGER append_only_rows",
    "UPDATE {t} SET {c} = {c}",
    "DELETE FROM {t}",
    "TRUNCATE {t}",
    "DROP TABLE {t}",
    "CREATE TRIGGER t_sneaky BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION"
    " logbook_append_only()",
)


def test_the_runtime_role_can_only_read_and_append_every_record_table(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        tables = record_tables(conn)
        assert {"audit_log", "entries", "people", "operator_certificates"} <= set(tables)
        assert len(tables) >= 25
        for table in tables:
            for privilege in ("SELECT", "INSERT"):
                assert conn.execute(
                    "SELECT has_table_privilege(%s, %s)", (table, privilege)
                ).fetchone()[0], (table, privilege)
            col = first_column(conn, table)
            for attempt in ATTEMPTS:
                stmt = sql.SQL(attempt).format(t=sql.Identifier(table), c=sql.Identifier(col))
                with pytest.raises(psycopg.errors.InsufficientPrivilege) as info:
                    conn.execute(stmt)
                message = str(info.value)
                assert "append-only" not in message, (table, attempt)
                assert "permission denied" in message or "must be owner" in message, (
                    table,
                    attempt,
                    message,
                )


def test_the_runtime_role_owns_nothing_and_may_create_nothing(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        owned = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole"
        ).fetchone()[0]
        assert owned == 0
        assert conn.execute(
            "SELECT datdba <> current_user::regrole FROM pg_database"
            " WHERE datname = current_database()"
        ).fetchone()[0]
        for stmt in (
            "CREATE TABLE public.mine (x int)",
            "CREATE FUNCTION public.mine() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "CREATE SCHEMA mine",
            "CREATE OR REPLACE FUNCTION audit_take_records() RETURNS text[]"
            " LANGUAGE sql AS 'SELECT NULL::text[]'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(stmt)


def test_every_table_has_exactly_the_privileges_declared(db_url, db_owner_url):
    declared = declared_privileges()
    with psycopg.connect(db_url) as conn:
        records = set(record_tables(conn))
        rows = conn.execute(
            "SELECT c.relname, c.relkind FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v')"
        ).fetchall()
        for table, kind in rows:
            if kind == "v":
                wanted: tuple[str, ...] = ("SELECT",)
            else:
                wanted = RECORD_PRIVILEGES if table in records else declared[table]
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"):
                has = conn.execute(
                    "SELECT has_table_privilege(%s, %s)", (table, privilege)
                ).fetchone()[0]
                assert has == (privilege in wanted), (table, privilege)
    # Granting again changes nothing (migrate runs it every time).
    with psycopg.connect(db_owner_url, autocommit=True) as conn:
        runtime = psycopg.conninfo.conninfo_to_dict(db_url)["user"]
        assert grant_runtime(conn, str(runtime)) == grant_runtime(conn, str(runtime))


def test_the_grants_reach_hypertable_chunks_made_later(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO sites (code, name, timezone) VALUES ('a', 'A', 'UTC')")
        # A reading far from any other makes a new chunk, as the runtime role.
        conn.execute(
            "INSERT INTO readings (time, tag_id, value) VALUES ('2031-05-05T00:00Z', 1, 2.5)"
        )
        chunks = conn.execute(
            "SELECT format('%I.%I', chunk_schema, chunk_name) FROM timescaledb_information.chunks"
            " WHERE hypertable_name = 'readings'"
        ).fetchall()
        assert chunks
        for (chunk,) in chunks:
            assert conn.execute("SELECT has_table_privilege(%s, 'SELECT')", (chunk,)).fetchone()[0]
            for stmt in ("DELETE FROM {}", "UPDATE {} SET value = 0", "TRUNCATE {}"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(sql.SQL(stmt).format(sql.SQL(chunk)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "SELECT drop_chunks('readings', older_than => now() + interval '10 years')"
            )


def test_a_working_table_without_declared_privileges_is_refused(db_owner_url, db_url):
    runtime = str(psycopg.conninfo.conninfo_to_dict(db_url)["user"])
    with psycopg.connect(db_owner_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE scratchpad (x int)")
        with pytest.raises(MigrationError) as err:
            grant_runtime(conn, runtime)
        assert "scratchpad: neither a record table" in str(err.value)
        assert "runtime.toml" in str(err.value)
        # Made append-only, it is a record table: read and append.
        conn.execute("ALTER TABLE scratchpad ADD PRIMARY KEY (x)")
        conn.execute("SELECT logbook_make_append_only('scratchpad')")
        assert grant_runtime(conn, runtime)["scratchpad"] == RECORD_PRIVILEGES


def test_declarations_are_checked(tmp_path: Path, monkeypatch):
    package = tmp_path / "pkg_grants"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "runtime.toml").write_text('t = ["SELECT", "ALTER"]\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MigrationError) as err:
        declared_privileges(("pkg_grants",))
    assert "runtime.toml: t: a list of" in str(err.value)
