"""The demo's compliance records: created once, and enough for coverage to be in order."""

from __future__ import annotations

import psycopg

from compliance.certificates import term_problem
from compliance.demo import seed_async
from compliance.grades import parse_grade
from compliance.model import Certificate
from compliance.rulesets import latest


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
        terms = conn.execute(
            "SELECT number, grade, kind, issued, expires FROM operator_certificates"
        ).fetchall()
        levels = conn.execute(
            "SELECT p.username, a.level, q.username FROM competency_assessments a"
            " JOIN people p ON p.id = a.person_id JOIN people q ON q.id = a.assessor_id"
            " ORDER BY p.username"
        ).fetchall()
        actions = conn.execute(
            "SELECT action FROM audit_log WHERE action LIKE 'compliance.%' ORDER BY seq"
        ).fetchall()
    assert grades == [("chief", "III"), ("operator", "II")]
    # Terms Utah allows (R317-10-11 C): up to three years, to a December 31.
    for number, grade, kind, issued, expires in terms:
        cert = Certificate(number, "UT", "treatment", parse_grade(grade), kind, issued, expires)
        assert term_problem(cert, latest("UT")) is None
    # Levels, so the demo's entries are not all the site policy's findings.
    assert levels == [
        ("chief", "advanced", "admin"),
        ("operator", "proficient", "chief"),
        ("trainee", "emerging", "chief"),
    ]
    assert [a[0] for a in actions] == (
        ["compliance.profile_set"]
        + ["compliance.certificate_add"] * 2
        + ["compliance.level_add"] * 3
    )
