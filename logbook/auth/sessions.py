"""Logins and sessions against the database: rate limits, attempts, session lookup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
import psycopg
from psycopg import sql

from logbook import audit
from logbook.auth.secrets import new_token, token_hash, verify_secret

PASSWORD_SESSION = timedelta(hours=12)
PIN_SESSION = timedelta(hours=2)
# Failures counted since the last success, within the window, per username and
# per client address.
RATE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20


@dataclass(frozen=True)
class Principal:
    """The person behind a request: what every write is attributed to."""

    id: int
    username: str
    full_name: str
    role: str
    session_id: int | None = None
    method: str = "password"
    site_id: int | None = None

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.id, self.username)


@dataclass(frozen=True)
class LoginOutcome:
    outcome: str  # ok, bad_credentials, rate_limited, pin_not_allowed, disabled
    principal: Principal | None = None
    token: str | None = None
    expires_at: datetime | None = None
    retry_after_s: int = 0


_SESSION_SQL = """
SELECT s.id, s.person_id, s.method, s.site_id, p.username, p.full_name, r.role
FROM sessions s
JOIN people p ON p.id = s.person_id
CROSS JOIN LATERAL (SELECT role FROM person_roles WHERE person_id = p.id
                    ORDER BY id DESC LIMIT 1) r
WHERE s.token_hash = %s AND s.expires_at > now()
  AND NOT EXISTS (SELECT 1 FROM session_ends e WHERE e.session_id = s.id)
"""


async def principal_for_token(conn: psycopg.AsyncConnection[Any], token: str) -> Principal | None:
    cur = await conn.execute(_SESSION_SQL, (token_hash(token),))
    row = await cur.fetchone()
    if row is None or row[6] == "disabled":
        return None
    return Principal(
        id=row[1],
        username=row[4],
        full_name=row[5],
        role=row[6],
        session_id=row[0],
        method=row[2],
        site_id=row[3],
    )


_PERSON_SQL = """
SELECT p.id, p.username, p.full_name,
       (SELECT role FROM person_roles WHERE person_id = p.id ORDER BY id DESC LIMIT 1),
       (SELECT hash FROM person_credentials WHERE person_id = p.id AND kind = %s
        ORDER BY id DESC LIMIT 1)
FROM people p WHERE p.username = %s
"""


async def current_secret_hash(
    conn: psycopg.AsyncConnection[Any], person_id: int, kind: str = "password"
) -> str | None:
    cur = await conn.execute(
        "SELECT hash FROM person_credentials WHERE person_id = %s AND kind = %s"
        " ORDER BY id DESC LIMIT 1",
        (person_id, kind),
    )
    row = await cur.fetchone()
    return row[0] if row else None


async def check_secret(stored: str | None, secret: str) -> bool:
    # argon2 takes ~0.1 s of CPU: keep it off the event loop.
    return await anyio.to_thread.run_sync(verify_secret, stored, secret)


async def _failures(conn: psycopg.AsyncConnection[Any], column: str, value: str) -> int:
    # column is one of two fixed names, never user input.
    query = (
        "SELECT count(*) FROM login_attempts a WHERE a.{c} = %s AND a.at > now() - %s"
        " AND a.outcome <> 'ok' AND a.at > coalesce((SELECT max(at) FROM login_attempts"
        " WHERE {c} = %s AND outcome = 'ok'), '-infinity')"
    )
    stmt = sql.SQL(query).format(c=sql.Identifier(column))
    cur = await conn.execute(stmt, (value, RATE_WINDOW, value))
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _attempt(
    conn: psycopg.AsyncConnection[Any],
    username: str,
    secret: str,
    method: str,
    client: str,
    site_id: int | None,
    pin_allowed: bool,
    failed_action: str,
) -> tuple[str, Any]:
    """One attempt to prove who one is, recorded whatever its outcome (a failure audited
    as ``failed_action``): (outcome, the person's row or None)."""
    # Attempts on one username queue behind each other, so a burst cannot slip
    # past the failure count.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('login:' || %s))", (username,))
    cur = await conn.execute(_PERSON_SQL, (method, username))
    person = await cur.fetchone()
    person_id = person[0] if person else None
    outcome = "ok"
    if (
        await _failures(conn, "username", username) >= MAX_FAILURES_PER_USER
        or await _failures(conn, "client", client) >= MAX_FAILURES_PER_CLIENT
    ):
        outcome = "rate_limited"
    elif method == "pin" and not pin_allowed:
        outcome = "pin_not_allowed"
    else:
        ok = await check_secret(person[4] if person else None, secret)
        if not ok:
            outcome = "bad_credentials"
        elif person is None or person[3] == "disabled":
            outcome = "disabled"
    await conn.execute(
        "INSERT INTO login_attempts (username, person_id, method, client, outcome)"
        " VALUES (%s, %s, %s, %s, %s)",
        (username, person_id, method, client, outcome),
    )
    if outcome != "ok":
        detail = {"username": username, "method": method, "client": client, "outcome": outcome}
        await audit.append(
            conn,
            audit.Actor(person_id, username),
            failed_action,
            "person",
            person_id,
            site_id,
            detail,
        )
    return outcome, person


async def login(
    conn: psycopg.AsyncConnection[Any],
    username: str,
    secret: str,
    method: str,
    client: str,
    site_id: int | None = None,
    pin_allowed: bool = False,
) -> LoginOutcome:
    """One login attempt, recorded whatever its outcome; runs in the caller's transaction."""
    outcome, person = await _attempt(
        conn, username, secret, method, client, site_id, pin_allowed, "auth.login_failed"
    )
    if outcome != "ok":
        return LoginOutcome(outcome, retry_after_s=int(RATE_WINDOW.total_seconds()))
    token = new_token()
    life = PIN_SESSION if method == "pin" else PASSWORD_SESSION
    cur = await conn.execute(
        "INSERT INTO sessions (token_hash, person_id, method, site_id, expires_at, client)"
        " VALUES (%s, %s, %s, %s, clock_timestamp() + %s, %s) RETURNING id, expires_at",
        (token_hash(token), person[0], method, site_id, life, client),
    )
    sess = await cur.fetchone()
    assert sess is not None
    principal = Principal(person[0], person[1], person[2], person[3], sess[0], method, site_id)
    detail = {"username": username, "method": method, "client": client, "outcome": outcome}
    await audit.append(
        conn,
        principal.actor,
        "auth.login",
        "session",
        sess[0],
        site_id,
        {**detail, "expires_at": sess[1]},
    )
    return LoginOutcome("ok", principal, token, sess[1])


async def confirm_identity(
    conn: psycopg.AsyncConnection[Any],
    username: str,
    secret: str,
    method: str,
    client: str,
    site_id: int | None = None,
    pin_allowed: bool = False,
) -> LoginOutcome:
    """A person proves who they are at someone else's terminal (to countersign there)
    with their password, or their PIN where the site allows it: a login's checks, rate
    limits and record, and no session. The principal acts at ``site_id``."""
    outcome, person = await _attempt(
        conn, username, secret, method, client, site_id, pin_allowed, "auth.confirm_failed"
    )
    if outcome != "ok":
        return LoginOutcome(outcome, retry_after_s=int(RATE_WINDOW.total_seconds()))
    principal = Principal(person[0], person[1], person[2], person[3], None, method, site_id)
    return LoginOutcome("ok", principal)


async def logout(conn: psycopg.AsyncConnection[Any], principal: Principal) -> None:
    await conn.execute(
        "INSERT INTO session_ends (session_id, reason) VALUES (%s, 'logout')"
        " ON CONFLICT DO NOTHING",
        (principal.session_id,),
    )
    await audit.append(conn, principal.actor, "auth.logout", "session", principal.session_id)
