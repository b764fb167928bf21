"""After login: back to the page the person came from, else the role's own page."""

from __future__ import annotations

import pytest

from dashboards.login_rules import landing_for, pin_choice, safe_next


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


def test_a_pin_session_lands_on_the_floor_whatever_the_role():
    """A PIN opens a session on a floor terminal: a chief operator stays on the floor."""
    assert landing_for("chief_operator", None, "pin") == "/floor"
    assert landing_for("chief_operator", "/floor/plant1", "pin") == "/floor/plant1"
    assert landing_for("chief_operator", None, "password") == "/chief"


@pytest.mark.parametrize(
    ("target", "terminal", "sites", "expected"),
    [
        # A floor page asks for the PIN of its site.
        ("/floor/b", None, ["a", "b"], (True, "b")),
        # The floor without a site: PIN first, at the only site allowing them ...
        ("/floor", None, ["a"], (True, "a")),
        # ... or at this terminal's site.
        ("/floor", "b", ["a", "b"], (True, "b")),
        ("/floor", None, ["a", "b"], (True, None)),
        # This browser was a floor terminal: PIN first even from "/".
        (None, "b", ["a", "b"], (True, "b")),
        # A desk: the password first, the only PIN site preselected should it be used.
        (None, None, ["a"], (False, "a")),
        ("/chief", None, ["a", "b"], (False, None)),
        # No site allows PINs: passwords only.
        ("/floor/a", "a", [], (False, None)),
        # A terminal whose site stopped allowing PINs.
        (None, "c", ["a", "b"], (False, None)),
    ],
)
def test_a_floor_terminal_logs_in_with_a_pin_first(target, terminal, sites, expected):
    assert pin_choice(target, terminal, sites) == expected
