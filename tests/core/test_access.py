"""The access matrix's decisions (pure): PIN sessions, whose record, listings, and the
table in logbook/README.md. Password sessions' every cell is test_access_matrix.py's,
through the HTTP API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from clearwell import access


@dataclass(frozen=True)
class Who:
    id: int = 7
    role: str = "operator"
    method: str = "password"
    site_id: int | None = None
    sites: frozenset[int] = frozenset({1, 2})


def test_a_pin_session_acts_only_at_its_terminals_site() -> None:
    pin = Who(method="pin", site_id=1)
    assert access.decide(pin, "entry.create", 1) is None
    assert "site it was opened at" in str(access.decide(pin, "entry.create", 2))
    assert access.sites_for(pin, "entry.create") == {1}
    # An admin's PIN session too, though a password one acts everywhere.
    admin_pin = Who(role="admin", method="pin", site_id=1, sites=frozenset())
    assert access.decide(admin_pin, "shift.open", 3) is not None
    assert access.sites_for(admin_pin, "shift.open") == {1}
    assert access.sites_for(Who(role="admin"), "shift.open") is None


@pytest.mark.parametrize("name", sorted(access.PASSWORD_SESSION_ONLY))
def test_a_pin_session_changes_no_one(name: str) -> None:
    admin = Who(role="admin", method="pin", site_id=1)
    assert "a PIN session may not" in str(access.may_at_all(admin, name))
    assert access.may_at_all(Who(role="admin"), name) is None


def test_whose_record() -> None:
    trainee = Who(role="trainee")
    assert access.decide(trainee, "amendment.create", 1, owner=7) is None
    assert "only about themselves" in str(access.decide(trainee, "amendment.create", 1, 8))
    chief = Who(role="chief_operator")
    assert "about themselves" in str(access.decide(chief, "certificate.write", {1}, owner=7))
    assert access.decide(chief, "certificate.write", {2, 5}, owner=8) is None
    assert access.decide(chief, "certificate.write", {5}, owner=8) is not None
    assert access.only_own(trainee, "certificate.read")
    with pytest.raises(ValueError, match="say whose"):
        access.decide(trainee, "amendment.create", 1)


def test_the_matrix_is_well_formed() -> None:
    with pytest.raises(ValueError, match="no action"):
        access.action("entry.delete")
    with pytest.raises(ValueError, match="at a site: say which"):
        access.decide(Who(), "entry.create")
    with pytest.raises(ValueError, match="at no site"):
        access.decide(Who(), "people.read", 1)
    assert access.roles_for("audit.verify") == ("chief_operator", "admin", "regulator")


def test_the_logbook_readme_shows_the_matrix_as_it_is() -> None:
    readme = Path(__file__).parents[2] / "logbook" / "README.md"
    assert access.markdown() in readme.read_text()
