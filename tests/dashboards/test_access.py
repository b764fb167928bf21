"""Role checks of the dashboards' pages (pure: what is refused when the app is assembled)."""

from __future__ import annotations

import pytest

from dashboards.access import page_role
from logbook.auth.deps import require_role


@pytest.mark.parametrize("make", [page_role, require_role])
def test_a_misspelt_role_is_refused_before_any_request(make) -> None:
    with pytest.raises(ValueError, match=r"unknown role\(s\): \['opertor'\]"):
        make("chief_operator", "opertor")
    make("chief_operator", "regulator")  # known roles pass
