"""Record rows checked against the audit chain (what ``clearwell verify`` adds to the chain's
own check): every row of a record table is named by an audit row with its hash, and every
row an audit row names is still there as it was.

An audit row's ``records`` name the record rows its transaction wrote (migration 0210,
rules in :mod:`logbook.canonical`). The hashes are recomputed here with PostgreSQL's
built-in functions only (``search_path`` set to ``pg_catalog``), never with a function of
the schema, which the tables' owner could replace.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

# The trigger that names a record table's rows to the audit chain (migration 0210).
TRACKED_BY = "audit_rows"
# How many findings of each kind are named one by one.
NAMED = 20


@dataclass(frozen=True)
class Ref:
    """An audit row's reference to one record row."""

    table: str
    key: str
    columns: int
    sha256: str
    seq: int


def parse(ref: str, seq: int) -> Ref:
    """``"<table> <key> <columns> <sha256>"`` as the audit row at ``seq`` holds it."""
    table, key, columns, digest = ref.split(" ")
    return Ref(table, key, int(columns), digest, seq)


@dataclass(frozen=True)
class Finding:
    """A record row that does not match the chain: ``changed`` (its hash differs from its
    audit row's), ``gone`` (an audit row names it, the table has no such row) or
    ``unaudited`` (no audit row names it); or a record table whose trigger is gone or
    disabled (``untracked``, ``key`` says which)."""

    kind: str
    table: str
    key: str
    seq: int | None = None

    def describe(self) -> str:
        if self.kind == "untracked":
            return f"{self.table}: its new rows are not named to the audit chain ({self.key})"
        row = f"{self.table} {self.key}"
        if self.kind == "changed":
            return f"{row}: changed since audit row seq {self.seq} recorded it"
        if self.kind == "gone":
            return f"{row}: gone (audit row seq {self.seq} recorded it)"
        return f"{row}: no audit row names it (written around the audit chain)"


Refs = dict[tuple[str, str], Ref]


def collect(refs: Refs, seq: int, records: Iterable[str] | None) -> None:
    """Adds an audit row's references to ``refs``; a later reference to the same row wins."""
    for text in records or ():
        ref = parse(text, seq)
        refs[(ref.table, ref.key)] = ref


def compare(
    table: str, refs: Mapping[tuple[str, str], Ref], rows: Iterable[tuple[str, dict[int, str]]]
) -> Iterator[Finding]:
    """The findings of one table (pure): ``rows`` are its rows as ``(key, {columns: sha256})``
    with a hash for each column bound its references use."""
    seen = set()
    for key, hashes in rows:
        seen.add(key)
        ref = refs.get((table, key))
        if ref is None:
            yield Finding("unaudited", table, key)
        elif hashes.get(ref.columns) != ref.sha256:
            yield Finding("changed", table, key, ref.seq)
    for (name, key), ref in refs.items():
        if name == table and key not in seen:
            yield Finding("gone", table, key, ref.seq)


@dataclass(frozen=True)
class Table:
    name: str
    keys: tuple[str, ...]
    # attnum -> name of the columns it has now.
    columns: dict[int, str]
    # The trigger's state: 'O' enabled, 'D' disabled, None gone.
    tracked: str | None


def record_tables(conn: psycopg.Connection[Any], named: Iterable[str] = ()) -> list[Table]:
    """Every table whose rows the audit chain names (those with the trigger, and those
    ``named`` by references), with its primary key and columns."""
    rows = conn.execute(
        "SELECT c.relname,"
        " (SELECT array_agg(a.attname::text ORDER BY k.o) FROM pg_catalog.pg_index i"
        "  CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, o)"
        "  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
        "  WHERE i.indrelid = c.oid AND i.indisprimary),"
        " (SELECT array_agg(a.attnum::int ORDER BY a.attnum) FROM pg_catalog.pg_attribute a"
        "  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),"
        " (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_catalog.pg_attribute a"
        "  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),"
        " (SELECT t.tgenabled::text FROM pg_catalog.pg_trigger t"
        "  WHERE t.tgrelid = c.oid AND t.tgname = %(trigger)s)"
        " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND (c.relname = ANY(%(named)s)"
        "  OR EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t"
        "             WHERE t.tgrelid = c.oid AND t.tgname = %(trigger)s))"
        " ORDER BY c.relname",
        {"trigger": TRACKED_BY, "named": sorted(set(named))},
    ).fetchall()
    return [Table(r[0], tuple(r[1] or ()), dict(zip(r[2], r[3], strict=True)), r[4]) for r in rows]


def row_hashes(
    conn: psycopg.Connection[Any], table: Table, bounds: Iterable[int]
) -> Iterator[tuple[str, dict[int, str]]]:
    """Each row's key and its hash under each column bound, in the caller's transaction
    (inside :func:`session_settings`)."""
    bounds = sorted(set(bounds))
    hashes = [
        sql.SQL("encode(sha256(convert_to((x.j - {}::text[])::text, 'UTF8')), 'hex')").format(
            sql.Literal([c for n, c in table.columns.items() if n > bound])
        )
        for bound in bounds
    ]
    query = sql.SQL(
        "SELECT (SELECT string_agg(x.j ->> k, ',' ORDER BY o)"
        " FROM unnest({}::text[]) WITH ORDINALITY AS u (k, o)){}"
        " FROM (SELECT to_jsonb(t) AS j FROM public.{} t) x"
    ).format(
        sql.Literal(list(table.keys)),
        sql.SQL("").join(sql.SQL(", ") + h for h in hashes),
        sql.Identifier(table.name),
    )
    with conn.cursor(name=f"records_{table.name}") as cur:
        cur.itersize = 5000
        cur.execute(query)
        for row in cur:
            yield row[0], dict(zip(bounds, row[1:], strict=True))


_SETTINGS = {
    "search_path": "pg_catalog, pg_temp",
    "timezone": "UTC",
    "extra_float_digits": "1",
    "intervalstyle": "postgres",
}


@contextlib.contextmanager
def session_settings(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """What the row hashes are made under (migration 0210), and only PostgreSQL's own
    functions and operators in reach; as before afterwards (the caller's transaction
    goes on)."""
    names = list(_SETTINGS)
    before = conn.execute(
        "SELECT " + ", ".join(f"current_setting('{n}')" for n in names)
    ).fetchone()
    assert before is not None
    for name, value in _SETTINGS.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))
    try:
        yield
    finally:
        for name, value in zip(names, before, strict=True):
            conn.execute("SELECT pg_catalog.set_config(%s, %s, true)", (name, value))


@dataclass(frozen=True)
class RecordCheck:
    findings: list[Finding]
    # Rows per record table, as read.
    counts: dict[str, int]

    def by_kind(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = defaultdict(list)
        for f in self.findings:
            out[f.kind].append(f)
        return out


def check(conn: psycopg.Connection[Any], refs: Refs) -> RecordCheck:
    """Every record table's rows against ``refs``, in the caller's transaction."""
    with session_settings(conn):
        return _check(conn, refs)


def _check(conn: psycopg.Connection[Any], refs: Refs) -> RecordCheck:
    bounds: dict[str, set[int]] = defaultdict(set)
    for (name, _), ref in refs.items():
        bounds[name].add(ref.columns)
    tables = record_tables(conn, bounds)
    findings: list[Finding] = []
    counts: dict[str, int] = {}
    known = {t.name for t in tables}
    for table in tables:
        if table.tracked not in ("O", "A"):
            state = "trigger audit_rows gone" if table.tracked is None else "trigger disabled"
            findings.append(Finding("untracked", table.name, state))
        rows = list(row_hashes(conn, table, bounds[table.name]))
        counts[table.name] = len(rows)
        findings += compare(table.name, refs, rows)
    # References to a table that is no longer a record table (dropped, or its trigger gone).
    for (name, key), ref in sorted(refs.items()):
        if name not in known:
            findings.append(Finding("gone", name, key, ref.seq))
    return RecordCheck(findings, counts)
