"""``clearwell backup`` and ``clearwell restore`` on a plant with a month of readings,
shifts with entries, an amendment and a signature, lab results and an export bundle:
restored into a fresh database, every table's rows are there, ``clearwell verify``
passes, and the bundle verifies against the restored site key. Then the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from clearwell import backup as backups
from clearwell.backup import BackupError, count_rows, find_tool
from tests.core.commands import run_cli, skip_unless_superuser
from tests.dashboards.exports import month as m
from tests.support.api import PASSWORDS
from tests.support.database import owner_of
from tests.support.pg_cluster import LocalCluster


@pytest.fixture(scope="module")
def plant(db_server, tmp_path_factory):
    """(database URL, data directory, the bundle exported from it)."""
    url = db_server.make_database()
    data_dir = tmp_path_factory.mktemp("data")
    m.populate(url, data_dir)
    out = tmp_path_factory.mktemp("out")
    done = run_cli(
        "export", "bundle", "--site", m.SITE, "--month", m.MONTH, "--as", "chief",
        "--password-stdin", "--out", str(out), url=url, data_dir=data_dir,
        stdin=PASSWORDS["chief"] + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    yield url, data_dir, out / f"{m.SITE}-bundle-{m.MONTH}.zip"
    db_server.drop_database(url)


@pytest.fixture(scope="module")
def backup_dir(plant, tmp_path_factory):
    url, data_dir, _ = plant
    target = tmp_path_factory.mktemp("backups") / "plant-backup"
    done = run_cli("backup", str(target), url=url, data_dir=data_dir, owner=owner_of(url))
    assert done.returncode == 0, done.stderr
    assert f"into {target}" in done.stdout
    return target


def _facts(url: str) -> dict[str, object]:
    """What must survive: each table's rows, and a few of them in full."""
    with psycopg.connect(url) as conn:
        return {
            "rows": count_rows(conn),
            "readings": conn.execute(
                "SELECT count(*), sum(value::numeric), min(time), max(time) FROM readings"
            ).fetchone(),
            "chain": conn.execute(
                "SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1"
            ).fetchone(),
            "hypertables": conn.execute(
                "SELECT hypertable_name, num_chunks FROM timescaledb_information.hypertables"
                " ORDER BY 1"
            ).fetchall(),
        }


def test_restore_into_a_fresh_database_keeps_every_row_and_verifies(
    db_server, plant, backup_dir, tmp_path
):
    url, _, bundle = plant
    manifest = json.loads((backup_dir / "clearwell-backup.json").read_text())
    before = _facts(url)
    assert manifest["rows"] == before["rows"]
    for table in ("readings", "entries", "amendments", "samples", "audit_log", "shifts"):
        assert before["rows"][table] > 0, table
    assert before["readings"][0] > 1000
    # The plant verifies before its backup: what the restored copy must verify as well.
    original = run_cli("verify", url=url, data_dir=plant[1])
    assert original.returncode == 0, original.stderr

    skip_unless_superuser(db_server.admin_url)
    fresh = db_server.make_database(migrated=False)
    restored_dir = tmp_path / "restored-data"
    try:
        done = run_cli(
            "restore", str(backup_dir), url=fresh, data_dir=restored_dir,
            owner=db_server.superuser_url(fresh),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "every one accounted for" in done.stdout
        assert _facts(fresh) == before

        verified = run_cli("verify", url=fresh, data_dir=restored_dir)
        assert verified.returncode == 0, verified.stderr
        assert f"audit chain ok: {before['rows']['audit_log']} rows" in verified.stdout
        # The site key came back with the data directory: the bundle made before the
        # backup verifies against it.
        public = tmp_path / "site.pub"
        from cryptography.hazmat.primitives import serialization

        from clearwell.signing_key import load_or_create

        key = load_or_create(restored_dir).public_key()
        public.write_bytes(
            key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        ok = run_cli(
            "verify", str(bundle), "--public-key", str(public), url=fresh, data_dir=restored_dir
        )
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert (restored_dir / "sites" / f"{m.SITE}.yaml").read_text() == m.SITE_FILE

        # The restored plant takes new writes: the hypertables' restore steps were run.
        migrated = run_cli("db", "migrate", url=fresh, data_dir=restored_dir, owner=owner_of(fresh))
        assert "(0 applied)" in migrated.stdout, migrated.stderr
        with psycopg.connect(fresh) as conn:
            conn.execute(
                "INSERT INTO readings (time, tag_id, value)"
                " SELECT now(), tag_id, 1 FROM readings LIMIT 1"
            )
    finally:
        db_server.drop_database(fresh)


def test_restore_refuses_a_database_that_is_not_empty(db_server, plant, backup_dir, tmp_path):
    url, _, _ = plant
    done = run_cli(
        "restore", str(backup_dir), url=url, data_dir=tmp_path / "new",
        owner=db_server.superuser_url(url),
    )  # fmt: skip
    assert done.returncode == 1
    assert "is not empty" in done.stderr and "restore into a new database" in done.stderr
    assert not (tmp_path / "new").exists()


def test_restore_refuses_a_data_directory_that_is_not_empty(db_server, backup_dir, tmp_path):
    (tmp_path / "keys").mkdir()
    fresh = db_server.make_database(migrated=False)
    try:
        done = run_cli(
            "restore", str(backup_dir), url=fresh, data_dir=tmp_path,
            owner=db_server.superuser_url(fresh),
        )  # fmt: skip
        assert done.returncode == 1
        assert f"the data directory {tmp_path} is not empty" in done.stderr
    finally:
        db_server.drop_database(fresh)


def test_restore_refuses_a_directory_backup_did_not_make(plant, tmp_path):
    url, data_dir, _ = plant
    (tmp_path / "database.dump").write_bytes(b"PGDMP")
    done = run_cli("restore", str(tmp_path), url=url, data_dir=tmp_path / "new")
    assert done.returncode == 1
    assert "has no clearwell-backup.json: not a directory `clearwell backup` made" in done.stderr
    (tmp_path / "clearwell-backup.json").write_text('{"format": "something else"}')
    with pytest.raises(BackupError, match="not a directory `clearwell backup` made"):
        backups.read_backup(tmp_path)


def test_restore_refuses_a_changed_file(backup_dir, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in backup_dir.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    data = bytearray((copy / "database.dump").read_bytes())
    data[-1] ^= 1
    (copy / "database.dump").write_bytes(bytes(data))
    with pytest.raises(BackupError, match="database.dump does not match its SHA-256"):
        backups.read_backup(copy)


def test_backup_refuses_a_directory_that_is_not_empty(plant, backup_dir):
    url, data_dir, _ = plant
    done = run_cli("backup", str(backup_dir), url=url, data_dir=data_dir, owner=owner_of(url))
    assert done.returncode == 1
    assert f"{backup_dir} is not empty: back up into a new directory" in done.stderr


def test_a_missing_tool_names_the_package_that_has_it(tmp_path):
    with pytest.raises(BackupError) as caught:
        find_tool("pg_dump", 990004, search_path=str(tmp_path))
    assert str(caught.value) == (
        "pg_dump not found in /usr/lib/postgresql/99/bin nor on PATH: install PostgreSQL 99's"
        " client tools (Debian: apt-get install postgresql-client-99)"
    )


def test_the_servers_own_tools_are_found_before_path():
    major_dir = Path("/usr/lib/postgresql/15/bin")
    if not (major_dir / "pg_restore").exists():
        pytest.skip("no PostgreSQL 15 client tools where Debian puts them")
    assert find_tool("pg_restore", 150004, search_path="") == major_dir / "pg_restore"


def test_restore_into_a_fresh_cluster_over_its_socket_as_a_plant_does(plant, backup_dir, tmp_path):
    """A new machine: the backup's owner role there, an empty database, the restore run by
    the superuser over the Unix socket, the owners kept; a restore by a role that is not a
    superuser is refused saying why (TimescaleDB's pre-restore step needs one)."""
    manifest = json.loads((backup_dir / "clearwell-backup.json").read_text())
    with psycopg.connect(owner_of(plant[0])) as conn:
        owner = str(conn.execute("SELECT current_user").fetchone()[0])
    with psycopg.connect(plant[0]) as conn:
        runtime = str(conn.execute("SELECT current_user").fetchone()[0])
    with LocalCluster() as cluster, psycopg.connect(cluster.admin_url, autocommit=True) as admin:
        # The backup's roles, made first on the new machine as the README says.
        for role in {owner, runtime} - {"postgres"}:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        admin.execute("CREATE ROLE clearwell LOGIN")
        admin.execute("CREATE DATABASE clearwell")
        socket = f"host={cluster.root} port={cluster.port} dbname=clearwell"
        refused = run_cli(
            "restore", str(backup_dir), url=f"{socket} user=clearwell", data_dir=tmp_path / "a"
        )
        assert refused.returncode == 1
        assert "needs a superuser" in refused.stderr
        done = run_cli(
            "restore", str(backup_dir), url=f"{socket} user=postgres", data_dir=tmp_path / "b"
        )
        assert done.returncode == 0, done.stderr
        with psycopg.connect(f"{socket} user=postgres") as conn:
            owners = conn.execute(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        assert owners == [(owner,)]
        verified = run_cli("verify", url=f"{socket} user={runtime}", data_dir=tmp_path / "b")
        assert verified.returncode == 0, verified.stderr
        assert f"audit chain ok: {manifest['rows']['audit_log']} rows" in verified.stdout
