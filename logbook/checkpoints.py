"""Signed checkpoints of the audit chain, kept outside the database.

The chain proves that no row inside it was changed, but a database owner can cut rows
off its end, or rewrite it whole, and the chain alone would still add up. A checkpoint
is the chain's head (seq, row_hash, at) and the row count of every record table at one
moment, with the database's name (a data directory's checkpoints of another database
are not compared with this one), signed with the site key (:mod:`clearwell.signing_key`)
and kept in the data directory, out of the database owner's reach:
``checkpoints/latest.json``, and one line an hour (and one per export) in
``checkpoints/history.jsonl``. The web app writes them every minute the chain has grown
(:func:`lifespan`, wired in ``clearwell.hooks``), each export writes one and puts it into
the bundle, and ``clearwell verify`` compares the database with every checkpoint it can
see (:func:`compare`).

A checkpoint is made only over a sound chain: the rows since the previous checkpoint
must link onto it (:func:`extends`), else none is written and the error is logged.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from psycopg import sql

from clearwell.signing_key import fingerprint, load_or_create
from logbook.canonical import canonical_json, normalise, verify_chain
from logbook.records import TRACKED_BY

log = logging.getLogger(__name__)

FORMAT = "clearwell-checkpoint/1"
FOLDER = "checkpoints"
LATEST = "latest.json"
HISTORY = "history.jsonl"
HISTORY_EVERY = timedelta(hours=1)
INTERVAL_S = 60.0

AsyncConn = psycopg.AsyncConnection[Any]


def folder(data_dir: Path) -> Path:
    return data_dir / FOLDER


# --- pure: signing, reading, comparing ---------------------------------------------------


def sign(checkpoint: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The checkpoint with the Ed25519 signature of its canonical JSON."""
    body = normalise(dict(checkpoint))
    return {
        "checkpoint": body,
        "signature": base64.b64encode(key.sign(canonical_json(body))).decode("ascii"),
        "key_fingerprint": fingerprint(key.public_key()),
    }


@dataclass(frozen=True)
class Checked:
    """A signed checkpoint read back: ``checkpoint`` when its signature holds under one
    of the keys tried, else ``problem`` says why not."""

    where: str
    checkpoint: dict[str, Any] | None
    problem: str | None = None


def check(signed: Any, keys: Sequence[Ed25519PublicKey], where: str) -> Checked:
    """Whether ``signed`` (as :func:`sign` made it) is a checkpoint signed by one of ``keys``."""
    try:
        body = signed["checkpoint"]
        signature = base64.b64decode(signed["signature"], validate=True)
        if body.get("format") != FORMAT:
            return Checked(where, None, f"not a {FORMAT} checkpoint")
        data = canonical_json(body)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return Checked(where, None, f"not a signed checkpoint ({exc})")
    if not keys:
        return Checked(where, None, "no site key to check its signature with")
    for key in keys:
        try:
            key.verify(signature, data)
            return Checked(where, dict(body))
        except InvalidSignature:
            continue
    return Checked(where, None, "its signature does not match the site key: altered or forged")


def read_file(path: Path, keys: Sequence[Ed25519PublicKey]) -> list[Checked]:
    """The checkpoints of a ``latest.json`` or a ``history.jsonl`` (one per line)."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        return [Checked(str(path), None, f"cannot read: {exc.strerror}")]
    lines = [text] if path.suffix == ".json" else text.splitlines()
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = str(path) if path.suffix == ".json" else f"{path}:{n}"
        try:
            out.append(check(json.loads(line), keys, where))
        except ValueError as exc:
            out.append(Checked(where, None, f"not JSON ({exc})"))
    return out


def read_all(data_dir: Path, keys: Sequence[Ed25519PublicKey]) -> list[Checked]:
    """Every checkpoint the data directory keeps (history first, then the latest)."""
    out = []
    for name in (HISTORY, LATEST):
        path = folder(data_dir) / name
        if path.exists():
            out += read_file(path, keys)
    return out


def newest(checked: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    good = list(checked)
    return max(good, key=lambda c: (c["seq"], c["made_at"])) if good else None


def of_database(checkpoints: Iterable[dict[str, Any]], database: str) -> list[dict[str, Any]]:
    """The checkpoints made of ``database`` (by name)."""
    return [c for c in checkpoints if c.get("database") == database]


def compare(
    checkpoints: Sequence[dict[str, Any]],
    last_seq: int,
    hashes: Mapping[int, str],
    counts: Mapping[str, int],
) -> list[str]:
    """What the database has lost or rewritten since the checkpoints were made (pure).

    ``last_seq``: the database chain's last seq (0 for none); ``hashes``: its row_hash at
    each checkpoint's seq that it still has; ``counts``: its record tables' rows now.
    """
    problems = []
    rewritten = sorted(
        (c for c in checkpoints if c["seq"] in hashes and hashes[c["seq"]] != c["row_hash"]),
        key=lambda c: c["seq"],
    )
    if rewritten:
        c = rewritten[0]
        problems.append(
            f"audit row seq {c['seq']} is not the row the checkpoint of {c['made_at']} signed:"
            f" the chain was rewritten at or before seq {c['seq']}"
        )
    top = max(checkpoints, key=lambda c: (c["seq"], c["made_at"]), default=None)
    if top is None:
        return problems
    if top["seq"] > last_seq:
        problems.append(
            f"the audit chain ends at seq {last_seq}, but the checkpoint of {top['made_at']}"
            f" signed seq {top['seq']}: {top['seq'] - last_seq} audit row(s) at its end are"
            " missing"
        )
    for table, then in sorted(top["tables"].items()):
        now = counts.get(table, 0)
        if now < then:
            problems.append(
                f"{table}: {now} rows, {then - now} fewer than the checkpoint of"
                f" {top['made_at']} counted"
            )
    return problems


# --- the database and the data directory --------------------------------------------------


async def state(conn: AsyncConn) -> dict[str, Any] | None:
    """The chain's head and every record table's row count, as one snapshot (None: an
    empty chain). ``conn`` outside a transaction."""
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cur = await conn.execute(
            "SELECT seq, row_hash, at FROM audit_log ORDER BY seq DESC LIMIT 1"
        )
        head = await cur.fetchone()
        if head is None:
            return None
        cur = await conn.execute("SELECT current_database()")
        database = (await cur.fetchone() or ("",))[0]
        cur = await conn.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = %s ORDER BY 1",
            (TRACKED_BY,),
        )
        tables = [r[0] for r in await cur.fetchall()]
        counts = {}
        if tables:
            query = sql.SQL(" UNION ALL ").join(
                sql.SQL("SELECT {}::int, count(*) FROM public.{}").format(i, sql.Identifier(t))
                for i, t in enumerate(tables)
            )
            cur = await conn.execute(query)
            counts = {tables[i]: n for i, n in await cur.fetchall()}
    return {
        "format": FORMAT,
        "database": database,
        "seq": head[0],
        "row_hash": head[1],
        "at": normalise(head[2]),
        "made_at": normalise(datetime.now(UTC)),
        "tables": counts,
    }


async def extends(conn: AsyncConn, previous: Mapping[str, Any] | None) -> str | None:
    """Why the chain as it is now does not extend ``previous`` (None: it does): the rows
    after it must link onto its row, which must still be the one it signed."""
    if previous is None:
        return None
    cur = await conn.execute(
        "SELECT seq, at, actor_id, actor, action, subject, subject_id, site_id, detail,"
        " records, prev_hash, row_hash FROM audit_log WHERE seq >= %s ORDER BY seq",
        (previous["seq"],),
    )
    names = [d.name for d in cur.description or ()]
    rows = [dict(zip(names, r, strict=True)) for r in await cur.fetchall()]
    if not rows or rows[0]["seq"] != previous["seq"]:
        return f"audit row seq {previous['seq']} of the last checkpoint is gone"
    if rows[0]["row_hash"] != previous["row_hash"]:
        return f"audit row seq {previous['seq']} is not the one the last checkpoint signed"
    broken = verify_chain(rows[1:], previous["row_hash"])
    if broken is not None:
        return f"the chain breaks at seq {broken.seq}: {broken.reason}"
    if len(rows) > 1 and rows[1]["seq"] != previous["seq"] + 1:
        return f"the chain jumps from seq {previous['seq']} to {rows[1]['seq']}"
    return None


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save(data_dir: Path, signed: Mapping[str, Any], history: bool = False) -> None:
    """Writes ``signed`` as the latest checkpoint, and into the history when ``history``
    or when the history's last line is older than :data:`HISTORY_EVERY`."""
    where = folder(data_dir)
    where.mkdir(parents=True, exist_ok=True)
    line = json.dumps(signed, sort_keys=True, separators=(",", ":"))
    _write_atomically(where / LATEST, line.encode() + b"\n")
    past = where / HISTORY
    if not history and past.exists():
        last = _last_line(past)
        try:
            made = datetime.fromisoformat(json.loads(last)["checkpoint"]["made_at"])
            history = datetime.now(UTC) - made >= HISTORY_EVERY
        except (ValueError, KeyError, TypeError):
            history = True
    elif not past.exists():
        history = True
    if history:
        with past.open("a", encoding="utf-8") as out:
            out.write(line + "\n")


def _last_line(path: Path) -> str:
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 8192))
        lines = f.read().splitlines()
    return lines[-1].decode() if lines else ""


def latest(data_dir: Path, key: Ed25519PrivateKey) -> dict[str, Any] | None:
    """The data directory's latest checkpoint, if it holds under the site key."""
    path = folder(data_dir) / LATEST
    if not path.exists():
        return None
    found = read_file(path, [key.public_key()])
    return found[0].checkpoint if found else None


@dataclass(frozen=True)
class Made:
    """A checkpoint written (``signed``), or why none was (``refused``)."""

    signed: dict[str, Any] | None
    refused: str | None = None


async def write(conn: AsyncConn, data_dir: Path, history: bool = False) -> Made:
    """A checkpoint of the database now, signed and saved, unless the chain does not
    extend the last one (then nothing is written). ``conn`` outside a transaction."""
    key = load_or_create(data_dir)
    previous = latest(data_dir, key)
    now = await state(conn)
    if now is None:
        return Made(None, "the audit chain is empty")
    if previous is not None and previous.get("database") != now["database"]:
        previous = None
    async with conn.transaction():
        refused = await extends(conn, previous)
    if refused:
        return Made(None, refused)
    signed = sign(now, key)
    save(data_dir, signed, history)
    return Made(signed)


async def run_checkpointer(pool: Any, data_dir: Path, interval_s: float = INTERVAL_S) -> None:
    """Writes a checkpoint every ``interval_s`` in which the chain grew, until cancelled."""
    last_seq: int | None = None
    complained: str | None = None
    while True:
        await asyncio.sleep(interval_s)
        try:
            async with pool.connection(timeout=interval_s) as conn:
                cur = await conn.execute("SELECT max(seq) FROM audit_log")
                row = await cur.fetchone()
                await conn.commit()
                if row is None or row[0] is None or row[0] == last_seq:
                    continue
                made = await write(conn, data_dir)
            if made.refused:
                if made.refused != complained:
                    log.error("audit checkpoint NOT written: %s", made.refused)
                complained = made.refused
                continue
            complained = None
            last_seq = row[0]
        except (psycopg.Error, TimeoutError, OSError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning("audit checkpoint: %s", first)


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Runs :func:`run_checkpointer` for the life of the web app (``clearwell.hooks``).

    ``app.state.checkpoint_interval_s`` set to ``None`` before startup turns it off.
    """
    interval = getattr(app.state, "checkpoint_interval_s", INTERVAL_S)
    if interval is None:
        yield
        return
    data_dir = Path(app.state.settings.data_dir)
    task = asyncio.create_task(
        run_checkpointer(app.state.pool, data_dir, interval), name="audit-checkpoints"
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
