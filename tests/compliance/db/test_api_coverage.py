"""Coverage from live logbook data: gaps, unqualified DRCs, trainees alone, the floor view."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg

from tests.compliance.db.helpers import (
    SITE,
    ago,
    certify,
    coverage,
    crew_shift,
    rules_of,
    set_profile,
)
from tests.support.api import Api


async def test_drc_leaving_early_is_a_drc_missing_gap(api: Api) -> None:
    """UT R317-10-4 I: the DRC departs mid-shift (recorded by the logbook) -> drc-missing."""
    await set_profile(api)
    await certify(api, "chief")
    await certify(api, "operator")
    opened = ago(hours=3)
    shift = await crew_shift(api, [("chief", "drc"), ("operator", "operator")], opened)
    drc_crew = next(c for c in shift["crew"] if c["shift_role"] == "drc")
    left = ago(hours=1)
    r = await api.post(
        "chief",
        f"/api/shifts/{shift['id']}/crew/{drc_crew['id']}/departure",
        {"left_at": left.isoformat()},
    )
    assert r.status_code == 200, r.text

    report = await coverage(api, opened, ago(minutes=1))

    assert rules_of(report) == ["drc-missing"]
    gap = report["findings"][0]
    assert abs(datetime.fromisoformat(gap["start"]) - left) < timedelta(seconds=1)
    assert "R317-10-4" in gap["citation"]
    assert report["facility_class"] == "II"
    # Before the departure the chief was in DRC; the operator stays certified on site.
    first = report["coverage"][0]
    chief_id = str(await api.id("chief"))
    assert first["drc"] == [chief_id]
    assert report["coverage"][-1]["drc"] == []
    assert str(await api.id("operator")) in report["coverage"][-1]["certified_on_site"]
    assert report["people"][chief_id] == "Casey Chief (demo)"


async def test_crew_amendment_moves_the_gap(api: Api) -> None:
    """A corrected departure time (crew amendment) is what the engine sees."""
    await set_profile(api)
    await certify(api, "chief")
    opened = ago(hours=3)
    shift = await crew_shift(api, [("chief", "drc")], opened)
    crew_id = shift["crew"][0]["id"]
    corrected = ago(hours=2)
    r = await api.post(
        "chief",
        "/api/amendments",
        {
            "target": "crew",
            "target_id": crew_id,
            "changes": {"left_at": corrected.isoformat()},
            "reason": "left at the end of the round, not at close",
        },
    )
    assert r.status_code == 201, r.text
    report = await coverage(api, opened, ago(minutes=1))
    gap = next(f for f in report["findings"] if f["rule"] == "drc-missing")
    assert abs(datetime.fromisoformat(gap["start"]) - corrected) < timedelta(seconds=1)


async def test_expired_certificate_makes_the_drc_unqualified(api: Api) -> None:
    """UT R317-10-11 C: a certificate that expired does not qualify its holder."""
    await set_profile(api)
    year = datetime.now(UTC).year
    await certify(api, "chief", expires=date(year - 1, 12, 31))
    opened = ago(hours=2)
    await crew_shift(api, [("chief", "drc")], opened)

    report = await coverage(api, opened, ago(minutes=1))

    rules = rules_of(report)
    assert "drc-unqualified" in rules
    finding = next(f for f in report["findings"] if f["rule"] == "drc-unqualified")
    assert "expired" in finding["message"]
    assert finding["operators"] == [str(await api.id("chief"))]


async def test_grade_below_class_is_unqualified_until_profile_lowers_it(api: Api) -> None:
    """Class III needs a grade III DRC; the same shift under class II is in order."""
    await set_profile(api, **{"class": "III"})
    await certify(api, "chief", grade="II")
    opened = ago(hours=2)
    await crew_shift(api, [("chief", "drc")], opened)
    assert "drc-unqualified" in rules_of(await coverage(api, opened, ago(minutes=1)))
    # A correction for the same effective date supersedes the first version.
    await set_profile(api, **{"class": "II"})
    assert rules_of(await coverage(api, opened, ago(minutes=1))) == []


async def test_operational_entry_by_a_trainee_alone(api: Api) -> None:
    """UT R317-10-4 I: a trainee alone holds no charge (no certified-on-site rule in Utah,
    and one name on the crews does not make a sole operator, issue 15); the trainee's
    chemical addition wants direct supervision under the site's competency policy (its kind
    is the logbook's), a policy finding."""
    await set_profile(api)
    await certify(api, "chief")
    opened = ago(hours=2)
    shift = await crew_shift(api, [("trainee", "trainee")], opened)
    r = await api.entry(
        "trainee",
        shift["id"],
        "chemical_addition",
        {"chemical": "NaOCl", "amount": 12.5, "unit": "gal", "feed_point": "contact tank"},
    )
    assert r.status_code == 201, r.text
    entry_id = str(r.json()["id"])

    report = await coverage(api, opened, ago(seconds=-60))

    by_rule = {f["rule"]: f for f in report["findings"]}
    assert "certified-on-site" not in by_rule
    assert by_rule["drc-missing"]["severity"] == "violation"
    unsigned = by_rule["supervision-missing"]
    assert entry_id in unsigned["entries"]
    assert (unsigned["severity"], unsigned["basis"]) == ("policy", "site policy")
    stamp = next(e for e in report["entries"] if e["id"] == entry_id)
    assert stamp["certified_on_duty"] == [] and stamp["drc"] == []


async def test_floor_view_now(api: Api) -> None:
    await set_profile(api)
    await certify(api, "chief")
    shift = await crew_shift(api, [("chief", "drc"), ("trainee", "trainee")], ago(hours=1))
    r = await api.get("trainee", "/api/compliance/now", facility=SITE)
    assert r.status_code == 200, r.text
    now = r.json()
    chief = await api.id("chief")
    assert now["drc"] == [{"person_id": chief, "name": "Casey Chief (demo)"}]
    assert [p["person_id"] for p in now["certified_on_site"]] == [chief]
    assert now["shifts_open"] == [shift["id"]]
    assert now["in_order"] is True
    assert now["findings"] == []

    # The chief leaves: nobody is in DRC now.
    crew_id = next(c["id"] for c in shift["crew"] if c["shift_role"] == "drc")
    r = await api.post("chief", f"/api/shifts/{shift['id']}/crew/{crew_id}/departure", {})
    assert r.status_code == 200, r.text
    now = (await api.get("operator", "/api/compliance/now", facility=SITE)).json()
    assert now["in_order"] is False
    assert now["drc"] == []
    assert {f["rule"] for f in now["findings"] if f["ongoing"]} >= {"drc-missing"}
    # The floor's banner says what each rests on: the state's rule (violations only).
    assert {(f["severity"], f["basis"]) for f in now["findings"]} == {("violation", "regulation")}


async def test_floor_view_now_with_a_shift_operator_below_the_column(api: Api) -> None:
    """NY 650.12(b) Table 2, 56-75 points: a shift run by a shift operator of grade 1 where
    2 is required is `shift-grade` (not drc-unqualified), and not in order."""
    profile = {"rules": "NY", "class": None, "points": 60}
    await set_profile(api, **profile)
    await certify(api, "operator", grade="1", state="NY", number="NY-1")
    await crew_shift(api, [("operator", "shift_operator")], ago(hours=1))
    now = (await api.get("operator", "/api/compliance/now", facility=SITE)).json()
    operator = await api.id("operator")
    assert [p["person_id"] for p in now["drc"]] == [operator]
    assert {f["rule"] for f in now["findings"] if f["ongoing"]} == {"shift-grade"}
    assert now["in_order"] is False


async def test_coverage_without_profile_is_409_and_unknown_facility_422(api: Api) -> None:
    r = await api.get(
        "chief",
        "/api/compliance/coverage",
        facility=SITE,
        start=ago(hours=2).isoformat(),
        end=ago(hours=1).isoformat(),
    )
    assert r.status_code == 409
    assert "no compliance profile" in r.json()["detail"]
    r = await api.get(
        "chief",
        "/api/compliance/coverage",
        facility="nowhere",
        start=ago(hours=2).isoformat(),
        end=ago(hours=1).isoformat(),
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "facility"]


async def test_amended_entry_time_is_the_time_judged(api: Api) -> None:
    """An entry's occurred_at corrected by an amendment moves it into (or out of) a period."""
    await set_profile(api)
    await certify(api, "chief")
    opened = ago(hours=3)
    shift = await crew_shift(api, [("chief", "drc")], opened)
    r = await api.entry("chief", shift["id"], "note", {"text": "round done"})
    assert r.status_code == 201, r.text
    entry_id = r.json()["id"]
    moved_to = ago(hours=2, minutes=30)
    r = await api.post(
        "chief",
        "/api/amendments",
        {
            "target": "entry",
            "target_id": entry_id,
            "changes": {"occurred_at": moved_to.isoformat()},
            "reason": "written up after the round",
        },
    )
    assert r.status_code == 201, r.text
    early = await coverage(api, opened, ago(hours=2))
    assert [e["id"] for e in early["entries"]] == [str(entry_id)]
    assert abs(datetime.fromisoformat(early["entries"][0]["time"]) - moved_to) < timedelta(
        seconds=1
    )
    late = await coverage(api, ago(hours=2), ago(seconds=-60))
    assert late["entries"] == []


async def test_grandfather_certificate_holds_at_its_own_facility_only(api: Api) -> None:
    """UT R317-10-11 G: a grandfather certificate qualifies at the one facility it names."""
    with psycopg.connect(api.db_url) as conn:
        conn.execute(
            "INSERT INTO sites (code, name, timezone, state, category)"
            " VALUES ('other-wrf', 'Other WRF', 'America/Denver', 'UT', 'treatment')"
        )
    await set_profile(api)
    year = datetime.now(UTC).year
    await certify(
        api, "chief", kind="grandfather", facility="other-wrf", expires=date(year + 1, 12, 31)
    )
    opened = ago(hours=2)
    await crew_shift(api, [("chief", "drc")], opened)
    report = await coverage(api, opened, ago(minutes=1))
    finding = next(f for f in report["findings"] if f["rule"] == "drc-unqualified")
    assert "grandfather" in finding["message"]
    await certify(api, "chief", kind="grandfather", facility=SITE, expires=date(year + 1, 12, 31))
    assert "drc-unqualified" not in rules_of(await coverage(api, opened, ago(minutes=1)))


async def test_new_york_points_and_activated_sludge(api: Api) -> None:
    """NY 650.12 Table 1: 60 points, activated sludge -> chief 3A, shift operators 2A."""
    body = await set_profile(api, rules="NY", points=60, activated_sludge=True, **{"class": None})
    cls = body["current"]["classification"]
    assert cls["class"] == "3A" and cls["assistant_shift_operator"] == "2A"
    r = await api.post(
        "admin",  # nobody records their own certificate (issue 17)
        "/api/compliance/certificates",
        {
            "person_id": await api.id("chief"),
            "state": "NY",
            "category": "treatment",
            "grade": "3",
            "issued": "2020-01-01",
            "expires": f"{datetime.now(UTC).year + 2}-12-31",
        },
    )
    assert r.status_code == 201, r.text
    opened = ago(hours=2)
    await crew_shift(api, [("chief", "drc")], opened)
    report = await coverage(api, opened, ago(minutes=1))
    assert report["rules"] == "NY" and report["facility_class"] == "3A"
    # A plain grade 3 does not meet an activated-sludge requirement.
    assert "drc-unqualified" in rules_of(report)


async def test_one_operator_employed_is_in_drc(api: Api) -> None:
    """UT R317-10-4 I "In cases where only one operator is employed": the profile's roster
    of 1 puts the one operator (role operator) in DRC; not on record, the shift has none."""
    await certify(api, "operator")
    opened = ago(hours=2)
    await crew_shift(api, [("operator", "operator")], opened)
    await set_profile(api)
    assert rules_of(await coverage(api, opened, ago(minutes=1))) == ["drc-missing"]
    await set_profile(api, employed_operators=1)
    report = await coverage(api, opened, ago(minutes=1))
    assert rules_of(report) == []
    assert report["coverage"][0]["drc"] == [str(await api.id("operator"))]


async def test_grandfather_certificate_lapses_a_year_after_a_rating_change(api: Api) -> None:
    """UT R317-10-11 G: a collection system's rating changed (the profile's rating_changes):
    the grandfather certificate counts until a year after, with the deadline warned."""
    today = datetime.now(UTC).date()
    year = today.year
    changed = today - timedelta(days=100)
    await set_profile(api, rating_changes=[changed.isoformat()])
    await certify(api, "chief", kind="grandfather", facility=SITE, expires=date(year + 1, 12, 31))
    opened = ago(hours=2)
    await crew_shift(api, [("chief", "drc")], opened)
    report = await coverage(api, opened, ago(minutes=1))
    (warning,) = report["findings"]
    assert (warning["rule"], warning["severity"]) == ("certificate-expiring", "warning")
    assert "rating changed" in warning["message"] and "R317-10-11 G" in warning["citation"]
    await set_profile(api, rating_changes=[(today - timedelta(days=400)).isoformat()])
    assert "drc-unqualified" in rules_of(await coverage(api, opened, ago(minutes=1)))
