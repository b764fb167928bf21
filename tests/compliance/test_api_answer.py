"""Compliance's answers: the API's one encoding (text as is, fractions as PostgreSQL writes
them)."""

from datetime import UTC, date, datetime

from compliance.api.common import answer


def test_answers_keep_non_ascii_text_and_write_fractions_as_the_database_does():
    response = answer(
        {
            "citation": "VT §3(a), §4(d)",
            "at": datetime(2026, 11, 28, 8, 33, 33, 808860, tzinfo=UTC),
            "expires": date(2026, 12, 31),
        },
        201,
    )
    assert response.status_code == 201
    assert response.media_type == "application/json"
    expected = (
        '{"citation":"VT §3(a), §4(d)","at":"2026-11-28T08:33:33.80886+00:00",'
        '"expires":"2026-12-31"}'
    )
    assert response.body == expected.encode()
