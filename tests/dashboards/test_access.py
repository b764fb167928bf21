"""Action checks of the pages and the API (pure: what is refused when the app is
assembled)."""

from __future__ import annotations

import pytest

from clearwell.authorize import acting
from dashboards.access import page_action


@pytest.mark.parametrize("make", [page_action, acting])
def test_a_misspelt_action_is_refused_before_any_request(make) -> None:
    with pytest.raises(ValueError, match=r"no action 'chief.raed' in clearwell.access.MATRIX"):
        make("chief.raed")
    make("chief.read")  # actions of the matrix pass
