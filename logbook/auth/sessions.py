"""Logins and sessions against the database: attempts and their limits (``throttle``),
session lookup, passwords re-entered, sessions ended."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
import psycopg

from logbook import audit
from logbook.auth import throttle
from logbook.auth.secrets import new_token, token_hash, verify_secret

PASSWORD_SESSION = timedelta(hours=12)
PIN_SESSION = timedelta(hours=2)
# A session's last use is written at most this often (sessions' idle timeout).
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Principal:
    """The person behind a request: what every write is attributed to, and what the access
    matrix (``clearwell.access``) judges: their role, how they logged in (a PIN session at
    ``site_id``) and the sites they belong to."""

    id: int
    username: str
    full_name: str
    role: str
    session_id: int | None = None
    method: str = "password"
    site_id: int | None = None
    sites: frozenset[int] = frozenset()

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.id, self.username)


@dataclass(frozen=True)
class LoginOutcome:
    # ok, bad_credentials, rate_limited, pin_not_allowed, disabled, not_member
    outcome: str
    principal: Principal | None = None
    token: str | None = None
    expires_at: datetime | None = None
    retry_after_s: int = 0


# A session is valid until it expires, is ended (logout, a new password, a role change),
# or lies unused longer than the idle timeout; nor does one made before its person was
# disabled come back when they are enabled again. Using it moves its last use forward
# (at most every TOUCH_EVERY), in the same statement.
_SESSION_SQL = """
WITH s AS (
    SELECT s.id, s.person_id, s.method, s.site_id, p.username, p.full_name, r.role
    FROM sessions s
    JOIN people p ON p.id = s.person_id
    CROSS JOIN LATERAL (SELECT role FROM person_roles WHERE person_id = p.id
                        ORDER BY id DESC LIMIT 1) r
    LEFT JOIN session_activity a ON a.session_id = s.id
    WHERE s.token_hash = %(token)s AND s.expires_at > now()
      AND coalesce(a.last_seen_at, s.created_at) > now() - %(idle)s
      AND r.role <> 'disabled'
      AND NOT EXISTS (SELECT 1 FROM session_ends e WHERE e.session_id = s.id)
      AND NOT EXISTS (SELECT 1 FROM person_roles d WHERE d.person_id = s.person_id
                      AND d.role = 'disabled' AND d.granted_at >= s.created_at)
), touched AS (
    INSERT INTO session_activity (session_id, last_seen_at) SELECT id, now() FROM s
    ON CONFLICT (session_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at
    WHERE session_activity.last_seen_at < EXCLUDED.last_seen_at - %(touch)s
)
SELECT id, person_id, method, site_id, username, full_name, role,
       ARRAY(SELECT m.site_id FROM site_members m WHERE m.person_id = s.person_id)
FROM s
"""


async def principal_for_token(
    conn: psycopg.AsyncConnection[Any], token: str, idle: timedelta
) -> Principal | None:
    """The person whose session ``token`` is, if it is valid and was used within ``idle``."""
    cur = await conn.execute(
        _SESSION_SQL, {"token": token_hash(token), "idle": idle, "touch": TOUCH_EVERY}
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return Principal(
        id=row[1],
        username=row[4],
        full_name=row[5],
        role=row[6],
        session_id=row[0],
        method=row[2],
        site_id=row[3],
        sites=frozenset(row[7]),
    )


_PERSON_SQL = """
SELECT p.id, p.username, p.full_name,
       (SELECT role FROM person_roles WHERE person_id = p.id ORDER BY id DESC LIMIT 1),
       (SELECT hash FROM person_credentials WHERE person_id = p.id AND kind = %s
        ORDER BY id DESC LIMIT 1),
       ARRAY(SELECT m.site_id FROM site_members m WHERE m.person_id = p.id)
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


# The failures that judge an attempt (logbook.auth.throttle says how): wrong secrets
# only, never the attempts refused for waiting.
_FAILURES_SQL = """
WITH bad AS (
    SELECT username, client, at FROM login_attempts
    WHERE outcome = 'bad_credentials' AND at > now() - %(window)s
      AND (username = %(username)s OR client IS NOT DISTINCT FROM %(client)s)
), pair AS (
    SELECT count(*) AS n, max(at) AS newest FROM bad
    WHERE username = %(username)s AND client IS NOT DISTINCT FROM %(client)s
      AND at > coalesce((SELECT max(at) FROM login_attempts WHERE username = %(username)s
                         AND client IS NOT DISTINCT FROM %(client)s AND outcome = 'ok'),
                        '-infinity')
), known AS (
    SELECT DISTINCT client FROM login_attempts
    WHERE username = %(username)s AND outcome = 'ok' AND at > now() - %(known)s
), elsewhere AS (
    SELECT count(*) AS n, max(at) AS newest FROM bad b
    WHERE b.username = %(username)s
      AND NOT EXISTS (SELECT 1 FROM known k WHERE k.client IS NOT DISTINCT FROM b.client)
), names AS (
    SELECT count(DISTINCT username) AS n, max(at) AS newest FROM bad
    WHERE client IS NOT DISTINCT FROM %(client)s
)
SELECT pair.n, pair.newest, elsewhere.n, elsewhere.newest, names.n, names.newest,
       EXISTS (SELECT 1 FROM known WHERE client IS NOT DISTINCT FROM %(client)s),
       clock_timestamp()
FROM pair, elsewhere, names
"""


async def _wait(conn: psycopg.AsyncConnection[Any], username: str, client: str) -> int:
    """Seconds this attempt must wait before its secret is checked (0: none)."""
    cur = await conn.execute(
        _FAILURES_SQL,
        {
            "username": username,
            "client": client,
            "window": throttle.WINDOW,
            "known": throttle.KNOWN_ADDRESS,
        },
    )
    row = await cur.fetchone()
    assert row is not None
    failures = throttle.Failures(
        (int(row[0]), row[1]), (int(row[2]), row[3]), (int(row[4]), row[5]), bool(row[6])
    )
    return math.ceil(throttle.wait(failures, row[7]).total_seconds())


async def _attempt(
    conn: psycopg.AsyncConnection[Any],
    username: str,
    secret: str,
    method: str,
    client: str,
    site_id: int | None,
    pin_allowed: bool,
    failed_action: str,
) -> tuple[str, Any, int]:
    """One attempt to prove who one is, recorded whatever its outcome (a failure audited
    as ``failed_action``): (outcome, the person's row or None, seconds to wait). At a
    site (``site_id``: a floor terminal), only who belongs there (or an admin) gets in."""
    # Attempts on one username queue behind each other, so a burst cannot slip
    # past the failure count.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('login:' || %s))", (username,))
    cur = await conn.execute(_PERSON_SQL, (method, username))
    person = await cur.fetchone()
    person_id = person[0] if person else None
    outcome = "ok"
    waits = await _wait(conn, username, client)
    if waits > 0:
        outcome = "rate_limited"
    elif method == "pin" and not pin_allowed:
        outcome = "pin_not_allowed"
    else:
        ok = await check_secret(person[4] if person else None, secret)
        if not ok:
            outcome = "bad_credentials"
        elif person is None or person[3] == "disabled":
            outcome = "disabled"
        elif site_id is not None and person[3] != "admin" and site_id not in person[5]:
            outcome = "not_member"
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
    return outcome, person, waits


def _principal(person: Any, method: str, site_id: int | None, session: int | None) -> Principal:
    return Principal(
        person[0], person[1], person[2], person[3], session, method, site_id, frozenset(person[5])
    )


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
    outcome, person, waits = await _attempt(
        conn, username, secret, method, client, site_id, pin_allowed, "auth.login_failed"
    )
    if outcome != "ok":
        return LoginOutcome(outcome, retry_after_s=waits)
    token = new_token()
    life = PIN_SESSION if method == "pin" else PASSWORD_SESSION
    cur = await conn.execute(
        "INSERT INTO sessions (token_hash, person_id, method, site_id, expires_at, client)"
        " VALUES (%s, %s, %s, %s, clock_timestamp() + %s, %s) RETURNING id, expires_at",
        (token_hash(token), person[0], method, site_id, life, client),
    )
    sess = await cur.fetchone()
    assert sess is not None
    principal = _principal(person, method, site_id, sess[0])
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
    outcome, person, waits = await _attempt(
        conn, username, secret, method, client, site_id, pin_allowed, "auth.confirm_failed"
    )
    if outcome != "ok":
        return LoginOutcome(outcome, retry_after_s=waits)
    principal = _principal(person, method, site_id, None)
    await audit.append(
        conn,
        principal.actor,
        "auth.confirm",
        "person",
        principal.id,
        site_id,
        {"username": username, "method": method, "client": client},
    )
    return LoginOutcome("ok", principal)


async def reenter_password(
    conn: psycopg.AsyncConnection[Any], user: Principal, password: str, client: str
) -> LoginOutcome:
    """The person of a session re-enters their password (to sign, to countersign, to
    change their credentials): a login's checks, rate limits and record, in the caller's
    transaction, which must commit whatever the outcome (a refusal is counted)."""
    outcome, _, waits = await _attempt(
        conn, user.username, password, "password", client, None, False, "auth.reenter_failed"
    )
    if outcome == "ok":
        await audit.append(
            conn, user.actor, "auth.reenter", "session", user.session_id, None, {"client": client}
        )
    return LoginOutcome(outcome, user if outcome == "ok" else None, retry_after_s=waits)


async def end_sessions(
    conn: psycopg.AsyncConnection[Any], person_id: int, keep: int | None = None
) -> int:
    """Ends the person's sessions but ``keep`` (the one asking, when it is theirs); returns
    how many. The caller audits why, after this."""
    cur = await conn.execute(
        "INSERT INTO session_ends (session_id, reason)"
        " SELECT s.id, 'revoked' FROM sessions s WHERE s.person_id = %s AND s.expires_at > now()"
        " AND s.id IS DISTINCT FROM %s"
        " AND NOT EXISTS (SELECT 1 FROM session_ends e WHERE e.session_id = s.id)"
        " ON CONFLICT DO NOTHING RETURNING session_id",
        (person_id, keep),
    )
    return len(await cur.fetchall())


async def logout(conn: psycopg.AsyncConnection[Any], principal: Principal) -> None:
    await conn.execute(
        "INSERT INTO session_ends (session_id, reason) VALUES (%s, 'logout')"
        " ON CONFLICT DO NOTHING",
        (principal.session_id,),
    )
    await audit.append(conn, principal.actor, "auth.logout", "session", principal.session_id)
