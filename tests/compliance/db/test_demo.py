"""The demo's compliance records: created once, and enough for coverage to be in order."""

from __future__ import annotations

import psycopg

from compliance.demo import seed_async


async def test_demo_seed_is_idempotent_and_covers_the_chief(db_url: str) -> None:
    first = await seed_async(db_url)
    assert "compliance profile for the demo site (UT, class II)" in first
    assert "grade III certificate for chief" in first
    assert await seed_async(db_url) == []
    with psycopg.connect(db_url) as conn:
        grades = conn.execute(
            "SELECT p.username, c.grade FROM operator_certificates c"
            " JOIN people p ON p.id = c.person_id ORDER BY p.username"
        ).fetchall()
        actions = conn.execute(
            "SELECT action FROM audit_log WHERE action LIKE 'compliance.%' ORDER BY seq"
        ).fetchall()
    assert grades == [("chief", "III"), ("operator", "II")]
    assert [a[0] for a in actions] == ["compliance.profile_set"] + [
        "compliance.certificate_add"
    ] * 2
