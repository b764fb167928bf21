"""Which facility a chief's or regulator's page shows: pure, a table of cases."""

from __future__ import annotations

import pytest

from dashboards.regulator.view import pick_site

SITES = [
    {"code": "aaa", "has_profile": False},
    {"code": "bbb", "has_profile": True},
    {"code": "ccc", "has_profile": True},
]


@pytest.mark.parametrize(
    ("sites", "wanted", "code", "problem"),
    [
        (SITES, "ccc", "ccc", None),
        (SITES, "aaa", "aaa", None),  # asked for by code: shown, profile or not
        (SITES, None, "bbb", None),  # else the first with a compliance profile
        (SITES[:1], None, "aaa", None),  # else the first
        (SITES, "zzz", "bbb", "No facility with code “zzz”."),
        ([], "zzz", None, "No facility with code “zzz”."),
        ([], None, None, None),
    ],
)
def test_the_site_asked_for_else_a_default_and_why(sites, wanted, code, problem):
    site, said = pick_site(sites, wanted)
    assert (site["code"] if site else None, said) == (code, problem)
