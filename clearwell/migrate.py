"""Ordered SQL migrations, each applied once, inside its own transaction.

Migrations are ``NNNN_name.sql`` files in a ``migrations/`` folder of the core
package and of each domain package (the dashboards' in ``dashboards.trends``, whose
rollups they make); the number is global, so each package owns a range: core
0001-0099, ingest 0100-0199, logbook 0200-0299, compliance 0300-0399, dashboards
0400-0499. Applied migrations are recorded in
``schema_migrations`` with a checksum, so an edited migration is refused rather
than silently skipped.

After migrating, the runtime role (the one ``clearwell serve`` and ``clearwell ingest``
connect as, when it is not the owner that migrates) is granted what it may do, from one
declarative place: a record table, one made append-only (it has the trigger
``append_only_rows``), may be read and appended to and nothing else; every other table
is a working table, and the ``migrations/runtime.toml`` of the package that made it names
the privileges the code needs on it. A table in neither is refused, so that a new
migration cannot forget its grants.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from clearwell.errors import MigrationError

PACKAGES_WITH_MIGRATIONS = ("clearwell", "ingest", "logbook", "compliance", "dashboards.trends")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Serialises concurrent `migrate` runs (two containers starting at once).
_LOCK_KEY = 0x636C6561  # "clea"
# The trigger that makes a table a record table (logbook_make_append_only).
RECORD_TRIGGER = "append_only_rows"
RECORD_PRIVILEGES = ("SELECT", "INSERT")
GRANTS_FILE = "runtime.toml"
_PRIVILEGES = {"SELECT", "INSERT", "UPDATE", "DELETE"}


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def summary(self) -> str:
        return summary(self.sql)


_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]'\"])\.(?=\s|$)")
SUMMARY_MAX = 200


def summary(sql: str) -> str:
    """What a migration says it does: the first sentence of its leading comment."""
    lines: list[str] = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        text = stripped.removeprefix("--").strip()
        if not text and lines:
            break
        if text:
            lines.append(text)
    text = " ".join(lines)
    end = _SENTENCE_END.search(text)
    text = text[: end.end()] if end else text
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


@dataclass(frozen=True)
class UpgradePlan:
    """What ``migrate`` would do to a database: apply ``pending`` in order, unless a
    migration was ``changed`` after it was applied (it refuses). ``unknown``: versions
    the database has that this code does not (a newer Clearwell migrated it)."""

    applied: list[Migration]
    pending: list[Migration]
    changed: list[Migration]
    unknown: list[str]


def plan(migrations: list[Migration], done: dict[str, str]) -> UpgradePlan:
    known = {m.version for m in migrations}
    return UpgradePlan(
        applied=[m for m in migrations if m.version in done],
        pending=[m for m in migrations if m.version not in done],
        changed=[m for m in migrations if m.version in done and done[m.version] != m.checksum],
        unknown=sorted(v for v in done if v not in known),
    )


def discover(packages: tuple[str, ...] = PACKAGES_WITH_MIGRATIONS) -> list[Migration]:
    found: dict[str, Migration] = {}
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for root in spec.submodule_search_locations:
            folder = Path(root) / "migrations"
            for path in sorted(folder.glob("*.sql")) if folder.is_dir() else []:
                match = _NAME.match(path.name)
                if not match:
                    raise MigrationError(f"{path}: migration file names must be NNNN_name.sql")
                version = match.group(1)
                if version in found:
                    raise MigrationError(
                        f"{path}: number {version} is also used by {found[version].path}"
                    )
                found[version] = Migration(version, match.group(2), path, path.read_text("utf-8"))
    return [found[v] for v in sorted(found)]


def _folders(packages: tuple[str, ...]) -> list[Path]:
    found = []
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        found += [Path(root) / "migrations" for root in spec.submodule_search_locations]
    return [f for f in found if f.is_dir()]


def declared_privileges(
    packages: tuple[str, ...] = PACKAGES_WITH_MIGRATIONS,
) -> dict[str, tuple[str, ...]]:
    """Working table -> the runtime role's privileges on it, from each package's
    ``migrations/runtime.toml`` (``table = ["SELECT", "INSERT"]``)."""
    out: dict[str, tuple[str, ...]] = {}
    for folder in _folders(packages):
        path = folder / GRANTS_FILE
        if not path.exists():
            continue
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise MigrationError(f"{path}: not valid TOML: {exc}") from None
        for table, privileges in data.items():
            if not isinstance(privileges, list) or not set(privileges) <= _PRIVILEGES:
                raise MigrationError(f"{path}: {table}: a list of {', '.join(sorted(_PRIVILEGES))}")
            if table in out:
                raise MigrationError(f"{path}: {table} is declared by another package too")
            out[table] = tuple(privileges)
    return out


def runtime_privileges(
    conn: psycopg.Connection[Any], declared: dict[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """Every table and view of the schema -> what the runtime role may do with it."""
    rows = conn.execute(
        "SELECT c.relname, c.relkind,"
        " EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = %s)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1",
        (RECORD_TRIGGER,),
    ).fetchall()
    out: dict[str, tuple[str, ...]] = {}
    missing, both = [], []
    for name, kind, record in rows:
        if kind in ("v", "m"):
            out[name] = ("SELECT",)
        elif record:
            out[name] = RECORD_PRIVILEGES
            if name in declared:
                both.append(name)
        elif name in declared:
            out[name] = declared[name]
        else:
            missing.append(name)
    if both:
        raise MigrationError(
            f"{', '.join(both)}: record tables (append-only) get {' and '.join(RECORD_PRIVILEGES)}"
            f" and nothing else; take them out of {GRANTS_FILE}"
        )
    if missing:
        raise MigrationError(
            f"{', '.join(missing)}: neither a record table (append-only) nor named in its"
            f" package's migrations/{GRANTS_FILE}; say what the runtime role may do with it"
        )
    return out


def grant_runtime(
    conn: psycopg.Connection[Any],
    role: str,
    packages: tuple[str, ...] = PACKAGES_WITH_MIGRATIONS,
) -> dict[str, tuple[str, ...]]:
    """Sets the runtime ``role``'s privileges on every table to exactly what
    :func:`runtime_privileges` says (run as the owner, after migrating; idempotent).

    Per table rather than ``ON ALL TABLES IN SCHEMA``: TimescaleDB passes a hypertable's
    grants on to its chunks, present and future."""
    role_id = sql.Identifier(role)
    with conn.transaction():
        found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if found is None:
            raise MigrationError(f"the runtime role {role} does not exist")
        wanted = runtime_privileges(conn, declared_privileges(packages))
        # Only the owner may create in the schema (PostgreSQL 15's default, made sure of).
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role_id))
        for table, privileges in wanted.items():
            table_id = sql.Identifier(table)
            conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(table_id, role_id))
            conn.execute(
                sql.SQL("GRANT {} ON {} TO {}").format(
                    sql.SQL(", ").join(map(sql.SQL, privileges)), table_id, role_id
                )
            )
    return wanted


def _ensure_table(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               version    text PRIMARY KEY,
               name       text NOT NULL,
               checksum   text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )


def applied(conn: psycopg.Connection[Any]) -> dict[str, str]:
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return {}
    return dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())


def _error_position(sql: str, exc: psycopg.Error) -> str:
    pos = getattr(exc.diag, "statement_position", None)
    if not pos:
        return ""
    line = sql.count("\n", 0, int(pos) - 1) + 1
    return f" at line {line}"


def migrate(conn: psycopg.Connection[Any], migrations: list[Migration] | None = None) -> list[str]:
    """Apply what is pending; returns the file names applied. ``conn`` must be in autocommit."""
    migrations = discover() if migrations is None else migrations
    done: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        with conn.transaction():
            _ensure_table(conn)
        already = applied(conn)
        for m in migrations:
            if m.version in already:
                if already[m.version] != m.checksum:
                    raise MigrationError(
                        f"{m.path.name}: changed after it was applied;"
                        " write a new migration instead"
                    )
                continue
            try:
                with conn.transaction():
                    conn.execute(m.sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES (%s, %s, %s)",
                        (m.version, m.name, m.checksum),
                    )
            except psycopg.Error as exc:
                first = str(exc).strip().splitlines()[0]
                raise MigrationError(
                    f"{m.path.name}{_error_position(m.sql, exc)}: {first}"
                    " (rolled back; nothing of it was applied)"
                ) from None
            done.append(m.path.name)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return done
