"""A shift with a coverage gap, a trainee's entry and an amended entry, and a sample with a
lab result amended after the lab called, made through the logbook's and compliance's APIs
(in process, or over HTTP against ``clearwell serve``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SITE = "demo-wwtp"  # Utah, treatment, America/Denver (logbook/demo.py)
TZ = ZoneInfo("America/Denver")

# (username, method, path, body) -> (status, json)
Call = Callable[[str, str, str, Any], Awaitable[tuple[int, Any]]]


@dataclass(frozen=True)
class GapScenario:
    shift_id: int
    opened: datetime
    left: datetime  # when the DRC left: the gap starts here
    trainee_entry: int
    amended_entry: int
    ids: dict[str, int]
    amended_month: str  # the month the amendment was made in (now)

    @property
    def month(self) -> str:
        return self.left.astimezone(TZ).strftime("%Y-%m")

    @property
    def day(self) -> date:
        return self.left.astimezone(TZ).date()


def api_caller(api: Any) -> Call:
    """A ``Call`` through the logbook tests' in-process ``Api`` client."""

    async def call(who: str, method: str, path: str, body: Any) -> tuple[int, Any]:
        r = await (api.post(who, path, body) if method == "POST" else api.get(who, path))
        return r.status_code, r.json() if r.content else None

    return call


def ago(**kw: float) -> datetime:
    return datetime.now(UTC) - timedelta(**kw)


async def _ok(call: Call, who: str, method: str, path: str, body: Any = None) -> Any:
    status, data = await call(who, method, path, body)
    assert 200 <= status < 300, (path, status, data)
    return data


async def make_gap(call: Call, ids: dict[str, int]) -> GapScenario:
    """Class II facility; the chief (grade II) is DRC and leaves early, the operator and a
    trainee stay: a shift with crew but no one in DRC (UT R317-10-4 I). The chief is
    assessed advanced and the operator proficient (the site's competency policy); the
    trainee has no level on record, so counts as emerging. ``ids``: the demo people's,
    the admin's included (who assesses the chief)."""
    await _ok(
        call,
        "chief",
        "POST",
        f"/api/compliance/facilities/{SITE}/profile",
        {"effective_from": "2020-01-01", "class": "II"},
    )
    for who in ("chief", "operator"):
        await _ok(
            call,
            # Nobody records their own (issue 17): the admin records the chief's.
            "admin" if who == "chief" else "chief",
            "POST",
            "/api/compliance/certificates",
            {
                "person_id": ids[who],
                "state": "UT",
                "category": "treatment",
                "grade": "II",
                "kind": "full",
                "number": f"UT-{who}",
                # Utah's longest term: three years to December 31 (R317-10-11 C).
                "issued": f"{datetime.now(UTC).year - 1}-01-01",
                "expires": f"{datetime.now(UTC).year + 1}-12-31",
            },
        )
    for who, level, assessor in (
        ("chief", "advanced", "admin"),
        ("operator", "proficient", "chief"),
    ):
        await _ok(
            call,
            # Nobody records their own (issue 17): the admin records the chief's.
            "admin" if who == "chief" else "chief",
            "POST",
            "/api/compliance/levels",
            {
                "facility": SITE,
                "person_id": ids[who],
                "level": level,
                "assessed_on": "2020-01-01",
                "assessor_id": ids[assessor],
            },
        )
    # Everything on one local day, whatever the hour the test runs at.
    now = datetime.now(UTC)
    midnight = now.astimezone(TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    base = (
        now if now - midnight > timedelta(hours=3, minutes=30) else midnight - timedelta(minutes=5)
    )
    opened = base - timedelta(hours=3)
    crew = [
        {"person_id": ids[u], "shift_role": role, "arrived_at": opened.isoformat()}
        for u, role in (("chief", "drc"), ("operator", "operator"), ("trainee", "trainee"))
    ]
    shift = await _ok(
        call,
        "chief",
        "POST",
        "/api/shifts",
        {"site": SITE, "label": "day", "crew": crew, "opened_at": opened.isoformat()},
    )
    drc = next(c["id"] for c in shift["crew"] if c["shift_role"] == "drc")
    left = base - timedelta(hours=1)
    await _ok(
        call,
        "chief",
        "POST",
        f"/api/shifts/{shift['id']}/crew/{drc}/departure",
        {"left_at": left.isoformat()},
    )
    trainee_entry = await _ok(
        call,
        "trainee",
        "POST",
        "/api/entries",
        {
            "shift_id": shift["id"],
            "kind": "note",
            "data": {"text": "Wet well level checked by the trainee."},
            "occurred_at": (base - timedelta(minutes=50)).isoformat(),
        },
    )
    dose = await _ok(
        call,
        "operator",
        "POST",
        "/api/entries",
        {
            "shift_id": shift["id"],
            "kind": "chemical_addition",
            "data": {"chemical": "NaOCl", "amount": 12.5, "unit": "gal", "feed_point": "CCT"},
            "occurred_at": (base - timedelta(minutes=40)).isoformat(),
        },
    )
    await _ok(
        call,
        "operator",
        "POST",
        "/api/amendments",
        {
            "target": "entry",
            "target_id": dose["id"],
            "changes": {"data": {"amount": 15}},
            "reason": "misread the day tank gauge",
        },
    )
    amended_month = datetime.now(UTC).astimezone(TZ).strftime("%Y-%m")
    return GapScenario(
        shift["id"], opened, left, trainee_entry["id"], dose["id"], ids, amended_month
    )


async def make_sample(call: Call, s: GapScenario) -> tuple[int, int]:
    """A grab sample on the scenario's shift, taken half an hour ago, with a result the chief
    amended (0.8 to 0.08 mg/L); the sample's and the result's ids."""
    sample = await _ok(
        call,
        "operator",
        "POST",
        "/api/samples",
        {
            "site": SITE,
            "shift_id": s.shift_id,
            "sample_point": "Effluent",
            "sample_type": "grab",
            "sampled_at": ago(minutes=30).isoformat(),
            "sampled_by": [s.ids["operator"]],
        },
    )
    analysed = await _ok(
        call,
        "operator",
        "POST",
        f"/api/samples/{sample['id']}/results",
        {
            "analyte": "Total residual chlorine",
            "method": "SM 4500-Cl G",
            "analyzed_at": ago(minutes=20).isoformat(),
            "analyst_id": s.ids["operator"],
            "value": 0.8,
            "unit": "mg/L",
        },
    )
    result = analysed["results"][0]["id"]
    await _ok(
        call,
        "chief",
        "POST",
        "/api/amendments",
        {
            "target": "result",
            "target_id": result,
            "changes": {"value": 0.08},
            "reason": "decimal slipped when transcribing",
        },
    )
    return sample["id"], result
