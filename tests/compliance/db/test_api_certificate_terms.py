"""Certificates entered through the API are refused exactly as the scenario file refuses
them (compliance.certificates): terms, New York's old names, Vermont's types (issue 15,
§F 11, 12, 14), each a 422 naming the field and the rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api


async def post(api: Api, **fields: Any) -> Any:
    body = {
        "person_id": await api.id("operator"),
        "state": "UT",
        "category": "treatment",
        "grade": "II",
        "kind": "full",
        **fields,
    }
    return await api.post("chief", "/api/compliance/certificates", body)


def ut(issued: str, expires: str) -> dict[str, Any]:
    return {"issued": issued, "expires": expires}


def vt(issued: str, expires: str, kind: str = "full", **more: Any) -> dict[str, Any]:
    return {"state": "VT", "grade": "2", "kind": kind, "issued": issued, "expires": expires, **more}


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(ut("2023-01-01", "2025-12-31"), id="UT three years to December 31"),
        pytest.param({**ut("2023-01-01", "2025-12-31"), "kind": "restricted"}, id="UT restricted"),
        pytest.param(vt("2021-03-01", "2026-07-01"), id="VT July 1 five years on"),
        pytest.param(vt("2021-03-01", "2024-07-01"), id="VT reissued to an earlier July 1"),
        pytest.param(vt("2024-02-29", "2026-02-28", "provisional"), id="VT provisional 2024-02-29"),
        pytest.param(vt("2024-03-01", "2026-02-28", "provisional"), id="VT provisional 2024-03-01"),
        pytest.param(vt("2024-02-28", "2026-02-27", "provisional"), id="VT provisional 2024-02-28"),
        pytest.param(vt("2021-03-01", "2026-07-01", type="industrial"), id="VT industrial grade 2"),
    ],
)
async def test_terms_the_rules_allow_are_recorded(api: Api, fields: dict[str, Any]) -> None:
    r = await post(api, **fields)
    assert r.status_code == 201, r.text
    assert r.json()["expires"] == fields["expires"]


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        pytest.param(
            ut("2023-01-01", "2026-12-31"),
            "expires",
            "R317-10-11 C): issued 2023-01-01, it expires 2025-12-31 at the latest",
            id="UT longer than three years",
        ),
        pytest.param(
            ut("2023-01-01", "2025-06-30"),
            "expires",
            "2025-06-30 is not a December 31",
            id="UT not a December 31",
        ),
        pytest.param(
            {**ut("2023-01-01", "2026-12-31"), "kind": "grandfather", "facility": "demo-wwtp"},
            "expires",
            "R317-10-11",
            id="UT grandfather longer than three years",
        ),
        pytest.param(
            ut("2023-01-01", "2022-12-31"), "expires", "is before issued", id="before issued"
        ),
        pytest.param(
            vt("2021-03-01", "2027-07-01"),
            "expires",
            "§6(c)(i)",
            id="VT July 1 more than five years on",
        ),
        pytest.param(
            vt("2021-03-01", "2026-06-30"), "expires", "not a July 1", id="VT not a July 1"
        ),
        pytest.param(
            vt("2024-02-29", "2026-03-01", "provisional"),
            "expires",
            "§6(b)(ii)",
            id="VT provisional 2024-02-29 past two years",
        ),
        pytest.param(
            vt("2024-03-01", "2026-03-01", "provisional"),
            "expires",
            "2026-02-28 at the latest",
            id="VT provisional 2024-03-01 past two years",
        ),
        pytest.param(
            vt("2024-02-28", "2026-02-28", "provisional"),
            "expires",
            "2026-02-27 at the latest",
            id="VT provisional 2024-02-28 past two years",
        ),
        pytest.param(
            vt("2021-03-01", "2026-07-01", type="industrial", grade="3"),
            "type",
            "grade 3 is domestic only",
            id="VT industrial grade 3",
        ),
        pytest.param(
            vt("2021-03-01", "2026-07-01", type="industrial", grade="5"),
            "type",
            "domestic only",
            id="VT industrial grade 5",
        ),
        pytest.param(
            {**ut("2023-01-01", "2025-12-31"), "type": "industrial"},
            "type",
            "UT certificates have no industrial type",
            id="UT industrial",
        ),
        pytest.param(
            {"state": "NY", "grade": "IIA", "issued": "2020-01-01", "expires": "2026-03-31"},
            "grade",
            "'IIA' is an old New York certificate name (650.12 Table 4); enter it as legacy_grade",
            id="NY old name typed as grade",
        ),
        pytest.param(
            {"state": "NY", "grade": "IIIA", "issued": "2020-01-01", "expires": "2026-03-31"},
            "grade",
            "enter it as legacy_grade",
            id="NY IIIA typed as grade",
        ),
        pytest.param(
            {
                "state": "NY",
                "grade": None,
                "legacy_grade": "IIIA",
                "issued": "2020-01-01",
                "expires": "2026-03-31",
            },
            "legacy_grade",
            "IIIA",
            id="NY unknown old name",
        ),  # fmt: skip
        pytest.param(
            {**ut("2023-01-01", "2025-12-31"), "grade": None, "legacy_grade": "IIA"},
            "legacy_grade",
            "New York",
            id="old names are New York's",
        ),
        pytest.param(
            {**ut("2023-01-01", "2025-12-31"), "kind": "provisional"},
            "kind",
            "UT issues",
            id="UT issues no provisional",
        ),
    ],
)
async def test_certificates_the_rules_refuse(
    api: Api, fields: dict[str, Any], field: str, says: str
) -> None:
    r = await post(api, **fields)
    assert r.status_code == 422, r.text
    (detail,) = r.json()["detail"]
    assert detail["loc"] == ["body", field]
    assert says in detail["msg"], detail["msg"]


async def test_new_york_old_name_as_legacy_grade(api: Api) -> None:
    """650.12 Table 4 (first block): IIA is grade 3A today."""
    r = await post(
        api, state="NY", grade=None, legacy_grade="iia", issued="2020-01-01", expires="2026-03-31"
    )
    assert r.status_code == 201, r.text
    assert (r.json()["grade"], r.json()["legacy_grade"]) == ("3A", "IIA")
