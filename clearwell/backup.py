"""``clearwell backup`` and ``clearwell restore``: the database with PostgreSQL's own tools
and TimescaleDB's restore steps, and the data directory beside it.

A backup is a directory holding ``database.dump`` (``pg_dump -Fc``), ``data.tar.gz`` (the
data directory: signing keys, certificates, site files, spool, checkpoints) and
``clearwell-backup.json``, the manifest: versions, migrations, each table's row count in
the dump's own snapshot, and each file's SHA-256. A restore refuses a directory without a
manifest, a file that does not match it, a database or data directory that is not empty,
and ends by counting every table's rows against the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from clearwell.db import connection, describe_target
from clearwell.errors import ClearwellError

FORMAT = "clearwell-backup"
FORMAT_VERSION = 1
MANIFEST = "clearwell-backup.json"
DUMP = "database.dump"
DATA = "data.tar.gz"
# Where Debian's postgresql-client-NN puts the tools of each major version.
DEBIAN_BIN = "/usr/lib/postgresql/{major}/bin"


class BackupError(ClearwellError):
    """A backup or restore that cannot go on, said so a person can act on it."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    database: str
    postgresql: str
    timescaledb: str | None
    migrations: list[str]
    rows: dict[str, int]
    files: dict[str, str]

    def to_json(self) -> str:
        body = {"format": FORMAT, "version": FORMAT_VERSION, **self.__dict__}
        return json.dumps(body, indent=2, sort_keys=True) + "\n"


def parse_manifest(text: str, source: str) -> Manifest:
    """The manifest of a backup directory, or why the directory is not one."""
    try:
        body = json.loads(text)
    except ValueError:
        raise BackupError(
            f"{source} is not JSON: not a directory `clearwell backup` made"
        ) from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise BackupError(f"{source}: not a directory `clearwell backup` made")
    if body.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"{source}: backup format {body.get('version')!r};"
            f" this Clearwell reads {FORMAT_VERSION}"
        )
    fields = {k: body[k] for k in Manifest.__dataclass_fields__ if k in body}
    missing = sorted(set(Manifest.__dataclass_fields__) - set(fields))
    if missing:
        raise BackupError(f"{source}: manifest lacks {', '.join(missing)}")
    return Manifest(**fields)


def row_differences(expected: Mapping[str, int], found: Mapping[str, int]) -> list[str]:
    """Each table whose rows differ from the manifest's, as one line."""
    out = []
    for table in sorted(set(expected) | set(found)):
        want, got = expected.get(table), found.get(table)
        if want != got:
            shown = ["absent" if n is None else str(n) for n in (want, got)]
            out.append(f"{table}: {shown[0]} in the backup, {shown[1]} restored")
    return out


def find_tool(name: str, server_version_num: int, search_path: str | None = None) -> Path:
    """``pg_dump`` or ``pg_restore`` of the server's major version, else on PATH."""
    major = server_version_num // 10000
    debian = Path(DEBIAN_BIN.format(major=major)) / name
    if debian.is_file() and os.access(debian, os.X_OK):
        return debian
    found = shutil.which(name, path=search_path)
    if found:
        return Path(found)
    raise BackupError(
        f"{name} not found in {debian.parent} nor on PATH:"
        f" install PostgreSQL {major}'s client tools"
        f" (Debian: apt-get install postgresql-client-{major})"
    )


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tool_env(dsn: str) -> tuple[str, dict[str, str]]:
    """The connection string without its password, which goes in the environment
    instead of a command line that ``ps`` shows."""
    info = conninfo_to_dict(dsn)
    env = dict(os.environ)
    password = info.pop("password", None)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**{k: str(v) for k, v in info.items()}), env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        raise BackupError(f"{what} failed: {' / '.join(lines[-3:]) or f'exit {done.returncode}'}")


def user_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """Clearwell's tables: those in ``public`` that no extension owns."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')"
        " ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def count_rows(conn: psycopg.Connection[Any]) -> dict[str, int]:
    counts = {}
    for table in user_tables(conn):
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = int(row.fetchone()[0])  # type: ignore[index]
    return counts


def _versions(conn: psycopg.Connection[Any]) -> tuple[int, str, str | None]:
    row = conn.execute(
        "SELECT current_setting('server_version_num')::int, current_setting('server_version'),"
        " (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb')"
    ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1]), row[2]


def _is_superuser(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


@contextmanager
def _database_errors(dsn: str) -> Iterator[None]:
    """A query the database refuses (a privilege, a lock) as one line naming it."""
    try:
        yield
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BackupError(f"{describe_target(dsn)}: {first}") from None


def _empty_or_absent(directory: Path) -> bool:
    return not directory.exists() or (directory.is_dir() and not any(directory.iterdir()))


def backup(dsn: str, data_dir: Path, target: Path) -> Manifest:
    """Dumps the database and packs the data directory into ``target`` (new or empty)."""
    if not _empty_or_absent(target):
        raise BackupError(f"{target} is not empty: back up into a new directory")
    with _database_errors(dsn), connection(dsn, autocommit=True) as conn:
        version_num, version, timescaledb = _versions(conn)
        pg_dump = find_tool("pg_dump", version_num)
        target.mkdir(parents=True, exist_ok=True)
        # The counts and the dump read one snapshot, so that every row the dump holds
        # is counted and nothing written meanwhile is.
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
            rows = count_rows(conn)
            migrations = []
            if "schema_migrations" in rows:
                found = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1")
                migrations = [f"{v}_{n}" for v, n in found.fetchall()]
            conninfo, env = _tool_env(dsn)
            _run(
                [str(pg_dump), "-Fc", "--snapshot", str(snapshot), "-f", str(target / DUMP),
                 "-d", conninfo],
                env,
                "pg_dump",
            )  # fmt: skip
    with tarfile.open(target / DATA, "w:gz") as tar:
        if data_dir.is_dir():
            tar.add(data_dir, arcname=".")
    manifest = Manifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        database=describe_target(dsn),
        postgresql=version,
        timescaledb=timescaledb,
        migrations=migrations,
        rows=rows,
        files={name: sha256(target / name) for name in (DUMP, DATA)},
    )
    (target / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def read_backup(source: Path) -> Manifest:
    """The manifest of ``source`` once every file matches it."""
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} has no {MANIFEST}: not a directory `clearwell backup` made")
    manifest = parse_manifest(path.read_text(encoding="utf-8"), str(path))
    for name, digest in sorted(manifest.files.items()):
        if not (source / name).is_file():
            raise BackupError(f"{source / name} is missing")
        if sha256(source / name) != digest:
            raise BackupError(f"{source / name} does not match its SHA-256 in {MANIFEST}")
    return manifest


def restore(dsn: str, data_dir: Path, source: Path, *, keep_owners: bool = True) -> Manifest:
    """Restores ``source`` into an empty database and an empty data directory.

    The backup's owners and grants are kept (its roles must exist, as on the machine it
    came from); without ``keep_owners`` the restoring role owns what it restores."""
    manifest = read_backup(source)
    if not _empty_or_absent(data_dir):
        raise BackupError(f"the data directory {data_dir} is not empty: restore into a new one")
    with _database_errors(dsn), connection(dsn, autocommit=True) as conn:
        present = user_tables(conn)
        if present:
            shown = ", ".join(present[:5]) + (" …" if len(present) > 5 else "")
            raise BackupError(
                f"{describe_target(dsn)} is not empty ({len(present)} tables: {shown}):"
                " restore into a new database (createdb)"
            )
        version_num, _, _ = _versions(conn)
        pg_restore = find_tool("pg_restore", version_num)
        if manifest.timescaledb and not _is_superuser(conn):
            raise BackupError(
                f"restoring into {describe_target(dsn)} needs a superuser: TimescaleDB's"
                " timescaledb_pre_restore() sets a parameter only a superuser may (on Debian:"
                " as the postgres user, with the backup's roles created first)"
            )
        if manifest.timescaledb:
            # The dump's catalog belongs to this version of the extension.
            conn.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS timescaledb VERSION {}").format(
                    sql.Literal(manifest.timescaledb)
                )
            )
            installed = _versions(conn)[2]
            if installed != manifest.timescaledb:
                raise BackupError(
                    f"the backup needs TimescaleDB {manifest.timescaledb};"
                    f" {describe_target(dsn)} has {installed}"
                )
            conn.execute("SELECT timescaledb_pre_restore()")
        conninfo, env = _tool_env(dsn)
        try:
            _run(
                [str(pg_restore), "--exit-on-error", *([] if keep_owners else ["--no-owner"]),
                 "-d", conninfo, str(source / DUMP)],
                env,
                "pg_restore",
            )  # fmt: skip
        finally:
            if manifest.timescaledb:
                conn.execute("SELECT timescaledb_post_restore()")
        conn.execute("ANALYZE")
        differences = row_differences(manifest.rows, count_rows(conn))
    if differences:
        raise BackupError("restored rows differ from the backup's: " + "; ".join(differences))
    data_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / DATA, "r:gz") as tar:
        tar.extractall(data_dir, filter="data")
    return manifest
