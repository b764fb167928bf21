"""No logbook record is changed or removed in place: the database refuses it."""

import psycopg
import pytest

from tests.logbook.scenario import full_shift

RECORD_TABLES = [
    "audit_log",
    "people",
    "person_roles",
    "person_credentials",
    "site_logbook_settings",
    "sessions",
    "session_ends",
    "login_attempts",
    "shifts",
    "shift_closures",
    "shift_crew",
    "crew_departures",
    "handoff_notes",
    "handoff_acks",
    "shift_signatures",
    "entries",
    "entry_staffing",
    "entry_countersignatures",
    "samples",
    "sample_samplers",
    "custody_transfers",
    "sample_results",
    "sample_countersignatures",
    "result_countersignatures",
    "amendments",
    "plausibility_confirmations",
]


def test_every_logbook_table_has_the_append_only_triggers(db_url):
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT c.relname, array_agg(t.tgname ORDER BY t.tgname) FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgfoid = 'logbook_append_only'::regproc GROUP BY c.relname"
        ).fetchall()
    triggers = dict(rows)
    # Other packages make their record tables append-only with the same function.
    assert set(RECORD_TABLES) <= set(triggers)
    for table in RECORD_TABLES:
        assert triggers[table] == ["append_only_rows", "append_only_truncate"]


async def test_update_delete_and_truncate_are_refused_even_for_a_superuser(api):
    ids = await full_shift(api)
    with psycopg.connect(api.superuser_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO entry_staffing (entry_id, stamp) VALUES (%s, '{\"drc\": null}')",
            (ids["reading"],),
        )
        rolsuper = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert rolsuper.fetchone()[0] is True
        for table in RECORD_TABLES:
            count = conn.execute(
                psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(table))
            ).fetchone()[0]
            assert count > 0, f"the scenario left {table} empty"
            for stmt in (
                "UPDATE {} SET {} = {} WHERE true",
                "DELETE FROM {} WHERE true",
                "TRUNCATE {} CASCADE",
            ):
                col = conn.execute(
                    "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
                    " AND attidentity = '' AND NOT attisdropped ORDER BY attnum LIMIT 1",
                    (table,),
                ).fetchone()[0]
                query = psycopg.sql.SQL(stmt).format(
                    *[
                        psycopg.sql.Identifier(table),
                        psycopg.sql.Identifier(col),
                        psycopg.sql.Identifier(col),
                    ][: stmt.count("{}")]
                )
                with pytest.raises(psycopg.errors.InsufficientPrivilege) as info:
                    conn.execute(query)
                assert f"table {table} is append-only" in str(info.value)
            after = conn.execute(
                psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(table))
            ).fetchone()[0]
            assert after == count


def test_the_application_role_has_no_update_or_delete_grant_through_public(db_url):
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants"
            " WHERE grantee = 'PUBLIC' AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')"
            " AND table_name = ANY(%s)",
            (RECORD_TABLES,),
        ).fetchall()
    assert rows == []
