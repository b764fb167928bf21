"""Sessions that cannot take over an account (issue 17, items 2, 4, 5 and 10), each
finding as the issue found it, through the HTTP API against the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from clearwell.settings import Settings
from logbook.auth import sessions, throttle
from tests.support.api import PASSWORDS, Api

PIN = {"chief": "2468", "operator": "1357", "trainee": "8642"}


def rows(db_url: str, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(query, params).fetchall()


async def _pin_session(api: Api, username: str) -> dict[str, str]:
    r = await api.client.post(
        "/api/auth/pin-login",
        json={"site": "demo-wwtp", "username": username, "pin": PIN[username]},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def _me(api: Api, headers: dict[str, str]) -> int:
    api.client.cookies.clear()
    return (await api.client.get("/api/auth/me", headers=headers)).status_code


async def test_a_pin_session_cannot_set_the_password(api: Api) -> None:
    """Item 2: with a chief's PIN session, POST /api/people/{chief}/password set a new
    password without the current one. Now refused (an audited 403), with or without it."""
    chief = await api.id("chief")
    pin = await _pin_session(api, "chief")
    for body in (
        {"value": "taken-over-password"},
        {"value": "taken-over-password", "current_password": PASSWORDS["chief"]},
    ):
        r = await api.client.post(f"/api/people/{chief}/password", json=body, headers=pin)
        assert r.status_code == 403, r.text
        assert "a PIN session may not" in r.json()["detail"]
    r = await api.client.post(f"/api/people/{chief}/pin", json={"value": "9753"}, headers=pin)
    assert r.status_code == 403
    # The password is the old one still.
    r = await api.client.post(
        "/api/auth/login", json={"username": "chief", "password": PASSWORDS["chief"]}
    )
    assert r.status_code == 200


async def test_changing_ones_password_needs_the_current_one_and_ends_other_sessions(
    api: Api,
) -> None:
    """Item 2: the new password worked while the old sessions stayed valid. Now the
    current password is needed (a wrong one is refused and counted), and every other
    session of the person ends; the one that asked goes on."""
    me = await api.id("operator")
    asking = await api.headers("operator")
    pin = await _pin_session(api, "operator")
    r = await api.client.post(
        "/api/auth/login", json={"username": "operator", "password": PASSWORDS["operator"]}
    )
    other = {"Authorization": f"Bearer {r.json()['token']}"}
    path = f"/api/people/{me}/password"
    r = await api.post("operator", path, {"value": "a-new-password-1"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "current_password"]
    r = await api.post(
        "operator", path, {"value": "a-new-password-1", "current_password": "not-mine-at-all"}
    )
    assert r.status_code == 403
    assert rows(
        api.db_url,
        "SELECT outcome FROM login_attempts WHERE username = 'operator' ORDER BY id DESC LIMIT 1",
    ) == [("bad_credentials",)]
    assert await _me(api, pin) == 200 and await _me(api, other) == 200
    r = await api.post(
        "operator", path, {"value": "a-new-password-1", "current_password": PASSWORDS["operator"]}
    )
    assert r.status_code == 204, r.text
    assert await _me(api, pin) == 401 and await _me(api, other) == 401
    assert await _me(api, asking) == 200
    ended = rows(api.db_url, "SELECT detail->>'sessions_ended' FROM audit_log"
                 " WHERE action = 'person.set_password'")  # fmt: skip
    assert ended == [("2",)]


async def test_an_admin_resetting_a_password_ends_all_the_persons_sessions(api: Api) -> None:
    op = await api.id("operator")
    held = await api.headers("operator")
    r = await api.post("admin", f"/api/people/{op}/password", {"value": "reset-by-the-admin"})
    assert r.status_code == 204, r.text
    assert await _me(api, held) == 401


async def test_re_enabling_a_disabled_person_brings_no_old_session_back(api: Api) -> None:
    """Item 10: re-enabling a disabled user brought their old sessions back."""
    op = await api.id("operator")
    held = await api.headers("operator")
    for role in ("disabled", "operator"):
        r = await api.post("admin", f"/api/people/{op}/role", {"role": role})
        assert r.status_code == 200, r.text
    assert await _me(api, held) == 401
    api.tokens.pop("operator")
    assert (await api.get("operator", "/api/auth/me")).status_code == 200


async def test_a_session_unused_for_the_idle_timeout_ends(api: Api) -> None:
    """Item 10: sessions had no idle timeout (CLEARWELL_SESSION_IDLE_S, 30 min by default)."""
    held = await api.headers("operator")
    assert await _me(api, held) == 200
    idle = timedelta(seconds=Settings.model_fields["session_idle_s"].default)
    with psycopg.connect(api.db_url) as conn:
        conn.execute(
            "UPDATE session_activity SET last_seen_at = %s",
            (datetime.now(UTC) - idle + timedelta(minutes=1),),
        )
    assert await _me(api, held) == 200  # used within the timeout, and moved forward
    with psycopg.connect(api.db_url) as conn:
        conn.execute(
            "UPDATE session_activity SET last_seen_at = %s",
            (datetime.now(UTC) - idle - timedelta(minutes=1),),
        )
    assert await _me(api, held) == 401


async def _close_a_shift_the_operator_signs(api: Api) -> int:
    shift = await api.open_shift("operator")
    r = await api.post("operator", f"/api/shifts/{shift['id']}/close", {})
    assert r.status_code == 200, r.text
    return int(shift["id"])


async def test_a_password_re_entered_to_sign_is_limited_like_a_login(api: Api) -> None:
    """Item 4: 30 wrong passwords to sign, then the right one, was accepted. Now the wrong
    ones are counted as logins are: after a few, even the right one waits (429)."""
    shift = await _close_a_shift_the_operator_signs(api)
    for _ in range(throttle.FREE_PER_PAIR):
        r = await api.post("operator", f"/api/shifts/{shift}/sign", {"password": "wrong-pass"})
        assert r.status_code == 403, r.text
    for _ in range(3):
        r = await api.post(
            "operator", f"/api/shifts/{shift}/sign", {"password": PASSWORDS["operator"]}
        )
        assert r.status_code == 429, r.text
        assert 0 < int(r.headers["retry-after"]) <= throttle.FIRST_WAIT.total_seconds()
    assert rows(api.db_url, "SELECT count(*) FROM shift_signatures") == [(0,)]
    failed = rows(api.db_url, "SELECT count(*) FROM audit_log WHERE action = 'auth.reenter_failed'")
    assert failed == [(throttle.FREE_PER_PAIR + 3,)]


async def test_a_password_re_entered_to_countersign_is_limited_like_a_login(api: Api) -> None:
    shift = await api.open_shift(
        "chief",
        crew=[
            {"person_id": await api.id("chief"), "shift_role": "drc"},
            {"person_id": await api.id("operator"), "shift_role": "operator"},
        ],
    )
    r = await api.entry(
        "chief", shift["id"], "reading", {"instrument": "pH", "value": 7.0, "unit": "pH"}
    )
    path = f"/api/entries/{r.json()['id']}/countersign"
    for _ in range(throttle.FREE_PER_PAIR):
        assert (await api.post("operator", path, {"password": "wrong-pass"})).status_code == 403
    r = await api.post("operator", path, {"password": PASSWORDS["operator"]})
    assert r.status_code == 429, r.text


async def test_one_persons_wrong_passwords_do_not_lock_out_the_address(api: Api) -> None:
    """Item 5: 30 wrong passwords for one user locked the whole client address: the
    trainee's correct PIN at the same terminal was refused."""
    for _ in range(30):
        r = await api.client.post(
            "/api/auth/login", json={"username": "chief", "password": "wrong-password"}
        )
        assert r.status_code in (401, 429)
    r = await api.client.post(
        "/api/auth/pin-login",
        json={"site": "demo-wwtp", "username": "trainee", "pin": PIN["trainee"]},
    )
    assert r.status_code == 200, r.text


async def test_refused_attempts_are_not_counted_so_nobody_is_kept_out_forever(
    api: Api,
) -> None:
    """Item 5: refused attempts kept counting, so anyone could keep anyone locked out.
    Now an attempt refused for waiting is not checked and not counted: however many, the
    wait is the first backoff's, and only wrong secrets make it grow."""
    for _ in range(throttle.FREE_PER_PAIR):
        await api.client.post(
            "/api/auth/login", json={"username": "chief", "password": "wrong-password"}
        )
    for _ in range(25):
        r = await api.client.post(
            "/api/auth/login", json={"username": "chief", "password": "wrong-password"}
        )
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) <= throttle.FIRST_WAIT.total_seconds()
    counted = rows(
        api.db_url,
        "SELECT outcome, count(*) FROM login_attempts WHERE username = 'chief' GROUP BY 1",
    )
    outcomes = {outcome: n for outcome, n in counted}
    assert outcomes == {"bad_credentials": throttle.FREE_PER_PAIR, "rate_limited": 25}


async def test_guesses_from_elsewhere_do_not_keep_a_person_out_of_their_own_terminal(
    api: Api,
) -> None:
    """Item 5: limits per user AND address. Guesses for the chief from many addresses
    make those addresses wait, not the chief at the address they log in from."""
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        async with conn.transaction():
            ok = await sessions.login(conn, "chief", PASSWORDS["chief"], "password", "10.1.1.1")
        assert ok.outcome == "ok"
        for n in range(throttle.FREE_PER_USER):
            async with conn.transaction():
                bad = await sessions.login(
                    conn, "chief", "wrong-password", "password", f"10.9.0.{n}"
                )
            assert bad.outcome == "bad_credentials"
        async with conn.transaction():
            guess = await sessions.login(conn, "chief", "wrong-password", "password", "10.9.1.1")
        assert guess.outcome == "rate_limited"  # the guesser, from a new address, waits
        async with conn.transaction():
            home = await sessions.login(conn, "chief", PASSWORDS["chief"], "password", "10.1.1.1")
        assert home.outcome == "ok"  # the chief, at their own terminal, does not
