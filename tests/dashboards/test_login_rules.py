"""After login: back to the page the person came from, else the role's own page."""

from __future__ import annotations

import pytest

from dashboards.login_rules import landing_for, safe_next


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/floor/demo-wwtp", "/floor/demo-wwtp"),
        ("/trends?site=a&tag=b", "/trends?site=a&tag=b"),
        (None, None),
        ("", None),
        ("floor", None),
        ("//evil.example/floor", None),
        ("/\\evil.example", None),
        ("https://evil.example/", None),
        ("/floor\r\nSet-Cookie: x=1", None),
        ("/login?next=/floor", None),
        ("/landing", None),
    ],
)
def test_only_paths_on_this_site_are_followed(target, expected):
    assert safe_next(target) == expected


@pytest.mark.parametrize(
    ("role", "target", "expected"),
    [
        ("operator", None, "/floor"),
        ("trainee", None, "/floor"),
        ("admin", None, "/floor"),
        ("chief_operator", None, "/chief"),
        ("regulator", None, "/regulator"),
        ("regulator", "/trends?site=x", "/trends?site=x"),
        ("operator", "https://evil.example/", "/floor"),
        ("someone_new", None, "/trends"),
    ],
)
def test_landing_page_by_role(role, target, expected):
    assert landing_for(role, target) == expected
