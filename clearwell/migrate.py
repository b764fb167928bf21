"""Ordered SQL migrations, each applied once, inside its own transaction.

Migrations are ``NNNN_name.sql`` files in a ``migrations/`` folder of the core
package and of each domain package (the dashboards' in ``dashboards.trends``, whose
rollups they make); the number is global, so each package owns a range: core
0001-0099, ingest 0100-0199, logbook 0200-0299, compliance 0300-0399, dashboards
0400-0499. Applied migrations are recorded in
``schema_migrations`` with a checksum, so an edited migration is refused rather
than silently skipped.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from clearwell.errors import MigrationError

PACKAGES_WITH_MIGRATIONS = ("clearwell", "ingest", "logbook", "compliance", "dashboards.trends")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Serialises concurrent `migrate` runs (two containers starting at once).
_LOCK_KEY = 0x636C6561  # "clea"


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
