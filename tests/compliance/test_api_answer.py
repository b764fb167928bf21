"""Compliance's answers: the core's encoder, with compliance's bytes (text as is, six-digit
fractions), as before the API used it."""

from datetime import UTC, date, datetime

from compliance.api.common import answer


def test_answers_keep_non_ascii_text_and_six_digit_fractions():
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
        '{"citation":"VT §3(a), §4(d)","at":"2026-11-28T08:33:33.808860+00:00",'
        '"expires":"2026-12-31"}'
    )
    assert response.body == expected.encode()
