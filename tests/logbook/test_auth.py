"""Logins, sessions, PINs, rate limits and roles, against the real database."""

from datetime import UTC, datetime, timedelta

import psycopg

from logbook.auth import sessions, throttle
from logbook.auth.secrets import token_hash
from tests.support.api import PASSWORDS


def rows(db_url, query, params=()):
    with psycopg.connect(db_url) as conn:
        return conn.execute(query, params).fetchall()


async def test_password_login_gives_a_bearer_token_and_a_cookie(api):
    r = await api.client.post(
        "/api/auth/login", json={"username": "operator", "password": PASSWORDS["operator"]}
    )
    assert r.status_code == 200
    token = r.json()["token"]
    assert r.cookies.get("clearwell_session") == token
    assert "httponly" in r.headers["set-cookie"].lower()
    # The cookie alone authenticates (browser pages) ...
    me = await api.client.get("/api/auth/me")
    assert me.json()["username"] == "operator" and me.json()["role"] == "operator"
    api.client.cookies.clear()
    # ... and so does the header alone (API clients).
    me = await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    # Only the token's hash is stored.
    stored = rows(api.db_url, "SELECT token_hash FROM sessions")
    assert (token_hash(token),) in stored and all(token not in r[0] for r in stored)


async def test_no_token_or_a_bad_one_is_401(api):
    assert (await api.client.get("/api/entries")).status_code == 401
    r = await api.client.get("/api/entries", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


async def test_expired_and_logged_out_sessions_are_refused(api):
    token = await api.login("operator")
    assert (await api.get("operator", "/api/auth/me")).status_code == 200
    with psycopg.connect(api.db_url) as conn:
        past = datetime.now(UTC) - timedelta(hours=13)
        conn.execute(
            "INSERT INTO sessions (token_hash, person_id, method, created_at, expires_at)"
            " SELECT %s, id, 'password', %s, %s FROM people WHERE username = 'operator'",
            (token_hash("old-token"), past, past + sessions.PASSWORD_SESSION),
        )
    r = await api.client.get("/api/auth/me", headers={"Authorization": "Bearer old-token"})
    assert r.status_code == 401
    assert (await api.post("operator", "/api/auth/logout")).status_code == 204
    r = await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert rows(api.db_url, "SELECT reason FROM session_ends") == [("logout",)]


async def test_failed_logins_are_recorded_then_rate_limited(api):
    for _ in range(throttle.FREE_PER_PAIR):
        r = await api.client.post(
            "/api/auth/login", json={"username": "operator", "password": "wrong-password"}
        )
        assert r.status_code == 401
    # Now even the right password waits (from this address) until the backoff passes.
    r = await api.client.post(
        "/api/auth/login", json={"username": "operator", "password": PASSWORDS["operator"]}
    )
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    outcomes = rows(
        api.db_url,
        "SELECT outcome, count(*) FROM login_attempts WHERE username = 'operator' GROUP BY 1",
    )
    assert dict(outcomes) == {"bad_credentials": 5, "rate_limited": 1}
    audited = rows(
        api.db_url,
        "SELECT detail->>'outcome' FROM audit_log WHERE action = 'auth.login_failed'",
    )
    assert len(audited) == 6
    # Another user is not affected.
    assert await api.login("operator2")


async def test_unknown_users_fail_like_wrong_passwords(api):
    r = await api.client.post("/api/auth/login", json={"username": "ghost", "password": "x" * 12})
    assert r.status_code == 401
    assert r.json()["detail"] == "wrong username or password"
    assert rows(api.db_url, "SELECT outcome FROM login_attempts") == [("bad_credentials",)]


async def test_pin_login_only_where_the_site_allows_it(api):
    r = await api.client.post(
        "/api/auth/pin-login", json={"site": "demo-wwtp", "username": "operator", "pin": "1357"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["method"] == "pin"
    expires = datetime.fromisoformat(r.json()["expires_at"])
    assert expires - datetime.now(UTC) <= sessions.PIN_SESSION
    wrong = await api.client.post(
        "/api/auth/pin-login", json={"site": "demo-wwtp", "username": "operator", "pin": "0000"}
    )
    assert wrong.status_code == 401
    r = await api.post("chief", "/api/sites/demo-wwtp/logbook-settings", {"allow_pin_login": False})
    assert r.status_code == 200 and r.json()["allow_pin_login"] is False
    r = await api.client.post(
        "/api/auth/pin-login", json={"site": "demo-wwtp", "username": "operator", "pin": "1357"}
    )
    assert r.status_code == 403
    assert rows(api.db_url, "SELECT outcome FROM login_attempts WHERE method = 'pin' ORDER BY id")[
        -1
    ] == ("pin_not_allowed",)


async def test_a_regulator_reads_but_every_write_is_403_and_audited(api):
    assert (await api.get("regulator", "/api/entries")).status_code == 200
    assert (await api.get("regulator", "/api/audit")).status_code == 200
    attempts = [
        ("/api/shifts", {"site": "demo-wwtp"}),
        ("/api/entries", {"shift_id": 1, "kind": "note", "data": {"text": "x"}}),
        (
            "/api/amendments",
            {"target": "entry", "target_id": 1, "changes": {"data": {}}, "reason": "because"},
        ),
    ]
    for path, body in attempts:
        r = await api.post("regulator", path, body)
        assert r.status_code == 403, (path, r.text)
    audited = rows(
        api.db_url,
        "SELECT actor, detail->>'path' FROM audit_log WHERE action = 'forbidden' ORDER BY seq",
    )
    assert audited == [("regulator", p) for p, _ in attempts]


async def test_operators_cannot_manage_people_and_role_changes_are_audited(api):
    trainee = await api.id("trainee")
    r = await api.post("operator", f"/api/people/{trainee}/role", {"role": "chief_operator"})
    assert r.status_code == 403
    r = await api.post("admin", f"/api/people/{trainee}/role", {"role": "operator"})
    assert r.status_code == 200 and r.json()["role"] == "operator"
    # The change ended the person's sessions (issue 17); the next one carries the new role.
    assert (await api.get("trainee", "/api/auth/me")).status_code == 401
    api.tokens.pop("trainee")
    assert (await api.get("trainee", "/api/auth/me")).json()["role"] == "operator"
    changes = rows(
        api.db_url,
        "SELECT actor, detail->>'from', detail->>'to' FROM audit_log"
        " WHERE action = 'person.role_change'",
    )
    assert changes == [("admin", "trainee", "operator")]
    r = await api.post("admin", f"/api/people/{trainee}/role", {"role": "disabled"})
    assert r.status_code == 200
    assert (await api.get("trainee", "/api/auth/me")).status_code == 401


async def test_admin_adds_people_with_field_errors_as_422(api):
    r = await api.post(
        "admin",
        "/api/people",
        {
            "username": "new.op",
            "full_name": "New Op",
            "role": "operator",
            "password": "long-enough-pass",
        },
    )
    assert r.status_code == 201, r.text
    r = await api.post(
        "admin",
        "/api/people",
        {
            "username": "new.op",
            "full_name": "Again",
            "role": "operator",
            "password": "long-enough-pass",
        },
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "username"]
    assert "already taken" in r.json()["detail"][0]["msg"]
    r = await api.post(
        "admin",
        "/api/people",
        {"username": "x", "full_name": "X", "role": "boss", "password": "short"},
    )
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {("body", "role"), ("body", "password")}


async def test_people_change_their_own_password_only(api):
    me, other = await api.id("operator"), await api.id("operator2")
    r = await api.post("operator", f"/api/people/{other}/password", {"value": "taken-over-123"})
    assert r.status_code == 403
    r = await api.post(
        "operator",
        f"/api/people/{me}/password",
        {"value": "a-new-password-1", "current_password": PASSWORDS["operator"]},
    )
    assert r.status_code == 204
    r = await api.client.post(
        "/api/auth/login", json={"username": "operator", "password": "a-new-password-1"}
    )
    assert r.status_code == 200
    r = await api.post(
        "operator",
        f"/api/people/{me}/pin",
        {"value": "1111", "current_password": "a-new-password-1"},
    )
    assert r.status_code == 422 and "same digit" in r.text


async def test_a_pin_session_writes_only_at_its_own_site(api):
    with psycopg.connect(api.db_url) as conn:
        conn.execute(
            "INSERT INTO sites (code, name, timezone) VALUES ('other-plant', 'Other', 'UTC')"
        )
        # The operator works at both sites; the PIN session is the demo site's only.
        conn.execute(
            "INSERT INTO site_memberships (person_id, site_id, member)"
            " SELECT p.id, s.id, true FROM people p, sites s"
            " WHERE p.username = 'operator' AND s.code = 'other-plant'"
        )
    op = await api.id("operator")
    here = await api.open_shift("operator")
    r = await api.post(
        "operator",
        "/api/shifts",
        {"site": "other-plant", "crew": [{"person_id": op, "shift_role": "operator"}]},
    )
    assert r.status_code == 201
    there = r.json()
    r = await api.client.post(
        "/api/auth/pin-login", json={"site": "demo-wwtp", "username": "operator", "pin": "1357"}
    )
    pin = {"Authorization": f"Bearer {r.json()['token']}"}
    note = {"kind": "note", "data": {"text": "from the floor terminal"}}
    r = await api.client.post("/api/entries", json={**note, "shift_id": here["id"]}, headers=pin)
    assert r.status_code == 201
    r = await api.client.post("/api/entries", json={**note, "shift_id": there["id"]}, headers=pin)
    assert r.status_code == 403
    assert rows(
        api.db_url, "SELECT detail->>'reason' FROM audit_log WHERE action = 'forbidden'"
    ) == [("a PIN session acts only at the site it was opened at (entry.create)",)]


async def test_confirming_who_one_is_makes_no_session_and_counts_as_a_login_attempt(api):
    """Countersigning at someone else's terminal: the person's password (or PIN where the
    site allows it) proves who they are, with a login's record and rate limits, and no
    session is opened."""
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        async with conn.transaction():
            ok = await sessions.confirm_identity(
                conn, "operator", PASSWORDS["operator"], "password", "127.0.0.1"
            )
        assert ok.outcome == "ok" and ok.token is None
        assert ok.principal is not None and ok.principal.username == "operator"
        assert ok.principal.session_id is None and ok.principal.method == "password"
        async with conn.transaction():
            pin = await sessions.confirm_identity(
                conn, "operator", "2468", "pin", "127.0.0.1", site_id=1, pin_allowed=False
            )
        assert pin.outcome == "pin_not_allowed"
        for _ in range(throttle.FREE_PER_PAIR):
            async with conn.transaction():
                bad = await sessions.confirm_identity(
                    conn, "operator", "wrong-password", "password", "127.0.0.1"
                )
            assert bad.outcome == "bad_credentials"
    assert rows(api.db_url, "SELECT count(*) FROM sessions") == [(0,)]
    assert rows(api.db_url, "SELECT count(*) FROM audit_log WHERE action = 'auth.login'") == [(0,)]
    failed = rows(api.db_url, "SELECT count(*) FROM audit_log WHERE action = 'auth.confirm_failed'")
    # The PIN refused and the wrong passwords; only the wrong passwords count to the limit.
    assert failed == [(throttle.FREE_PER_PAIR + 1,)]
    # The failures count against logging in too (from the same address).
    r = await api.client.post(
        "/api/auth/login", json={"username": "operator", "password": PASSWORDS["operator"]}
    )
    assert r.status_code == 429
