"""`clearwell users`, the demo seeder, and the OpenAPI document."""

import asyncio

import httpx
import psycopg

from clearwell.app import create_app
from clearwell.settings import load_settings
from logbook.demo import DEMO_SITE, seed_async
from tests.logbook.test_audit_chain import run_cli


def test_users_add_and_list(db_url):
    added = run_cli(
        "users",
        "add",
        "dana",
        "--role",
        "chief_operator",
        "--name",
        "Dana Diaz",
        "--password-stdin",
        db_url=db_url,
        stdin="a-long-password\n",
    )
    assert added.returncode == 0, added.stderr
    assert "added dana (chief_operator)" in added.stdout
    listed = run_cli("users", "list", db_url=db_url)
    assert "dana" in listed.stdout and "chief_operator" in listed.stdout
    again = run_cli(
        "users",
        "add",
        "dana",
        "--role",
        "operator",
        "--password-stdin",
        db_url=db_url,
        stdin="a-long-password\n",
    )
    assert again.returncode == 1 and "already taken" in again.stderr
    bad = run_cli(
        "users",
        "add",
        "eve",
        "--role",
        "boss",
        "--password-stdin",
        db_url=db_url,
        stdin="a-long-password\n",
    )
    assert bad.returncode == 1 and "unknown role" in bad.stderr
    short = run_cli(
        "users",
        "add",
        "eve",
        "--role",
        "operator",
        "--password-stdin",
        db_url=db_url,
        stdin="short\n",
    )
    assert short.returncode == 1 and "password" in short.stderr
    with psycopg.connect(db_url) as conn:
        actions = [r[0] for r in conn.execute("SELECT actor || ' ' || action FROM audit_log")]
    assert actions == ["cli person.create"]


def test_demo_seeder_completes_a_site_the_collectors_created_first(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO sites (code, name, timezone)"
            " VALUES ('demo-wwtp', 'Demo', 'America/Denver')"
        )
    created = asyncio.run(seed_async(db_url))
    assert "site demo-wwtp" not in created and "PIN login at the demo site" in created
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT state, category FROM sites").fetchone() == ("UT", "treatment")
        assert conn.execute("SELECT allow_pin_login FROM site_logbook_settings").fetchone() == (
            True,
        )


def test_demo_seeder_is_idempotent(db_url):
    first = asyncio.run(seed_async(db_url))
    assert "site demo-wwtp" in first and "user operator" in first
    assert asyncio.run(seed_async(db_url)) == []
    with psycopg.connect(db_url) as conn:
        site = conn.execute("SELECT code, name, timezone, state, category FROM sites").fetchall()
        people = conn.execute("SELECT count(*) FROM people").fetchone()[0]
    assert site == [tuple(DEMO_SITE.values())]
    assert people == 5


async def test_openapi_describes_every_resource_and_entry_kind(db_url):
    app = create_app(load_settings(database_url=db_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            doc = (await client.get("/openapi.json")).json()
    paths = doc["paths"]
    # The logbook's routes, by their tags: every one of them, and no more.
    logbook_tags = {
        "auth",
        "people",
        "sites",
        "shifts",
        "entries",
        "samples",
        "amendments",
        "audit",
    }
    served = {
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method, operation in item.items()
        if logbook_tags & set(operation["tags"])
    }
    assert served == {
        "POST /api/auth/login",
        "POST /api/auth/pin-login",
        "POST /api/auth/logout",
        "GET /api/auth/me",
        "GET /api/people",
        "POST /api/people",
        "GET /api/people/{person_id}",
        "POST /api/people/{person_id}/role",
        "POST /api/people/{person_id}/sites",
        "POST /api/people/{person_id}/{kind}",
        "GET /api/sites",
        "POST /api/sites/{code}/logbook-settings",
        "GET /api/shifts",
        "POST /api/shifts",
        "GET /api/shifts/{shift_id}",
        "POST /api/shifts/{shift_id}/close",
        "POST /api/shifts/{shift_id}/crew",
        "POST /api/shifts/{shift_id}/crew/{crew_id}/departure",
        "POST /api/shifts/{shift_id}/handoff",
        "POST /api/handoff-notes/{note_id}/acknowledge",
        "POST /api/shifts/{shift_id}/sign",
        "GET /api/entries",
        "POST /api/entries",
        "GET /api/entries/{entry_id}",
        "POST /api/entries/{entry_id}/countersign",
        "GET /api/samples",
        "POST /api/samples",
        "GET /api/samples/{sample_id}",
        "POST /api/samples/{sample_id}/custody",
        "POST /api/samples/{sample_id}/results",
        "POST /api/samples/{sample_id}/countersign",
        "GET /api/amendments",
        "POST /api/amendments",
        "GET /api/amendments/{amendment_id}",
        "GET /api/audit",
        "GET /api/audit/verify",
    }
    schemas = doc["components"]["schemas"]
    for name in (
        "ReadingIn",
        "ChemicalAdditionIn",
        "ProcessAdjustmentIn",
        "MaintenanceIn",
        "AlarmAckIn",
        "EntryOut",
        "SampleOut",
        "ResultOut",
        "ShiftOut",
    ):
        assert name in schemas, name
    post = paths["/api/entries"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["discriminator"]["propertyName"] == "kind"
    assert "201" in post["responses"] and "422" in post["responses"]


def test_commands_on_an_unmigrated_database_say_what_to_do(db_server):
    url = db_server.make_database(migrated=False)
    try:
        for args in (("verify",), ("users", "list")):
            result = run_cli(*args, db_url=url)
            assert result.returncode == 1
            assert "run `clearwell db migrate`" in result.stderr
            assert "Traceback" not in result.stderr
    finally:
        db_server.drop_database(url)
