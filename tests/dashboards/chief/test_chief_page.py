"""The chief operator's page on a real database: the gap the test makes, its finding, the
review lists, and who may open the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.dashboards.scenario import SITE, GapScenario, api_caller, make_gap
from tests.support.api import Api


async def scenario(api: Api) -> GapScenario:
    ids = {u: await api.id(u) for u in ("chief", "operator", "trainee", "admin", "regulator")}
    return await make_gap(api_caller(api), ids)


async def page(api: Api, who: str, path: str = "/chief", **params: Any) -> str:
    r = await api.get(who, path, **params)
    assert r.status_code == 200, r.text
    return r.text


async def test_chief_sees_the_gap_and_its_finding(api: Api) -> None:
    s = await scenario(api)
    html = await page(api, "chief", facility=SITE, month=s.month)

    row = re.search(rf'id="d-{s.day.isoformat()}"(.*?)</div>\s*</div>', html, re.S)
    assert row, "the day of the gap has a row"
    day = row.group(1)
    # The DRC's stretch names the chief; then the crew is on site with no one in DRC.
    assert 'data-kind="drc"' in day and "Casey Chief (demo)" in day
    assert 'data-kind="gap"' in day and "on site: Oli Operator (demo)" in day
    mark = re.search(
        r'<a class="cov-mark sev-violation" href="#(f-\d+)" data-rule="drc-missing"', day
    )
    assert mark, day
    # The mark leads to the finding: rule, message, citation, people.
    finding = re.search(
        rf'<article class="finding sev-violation" id="{mark.group(1)}"(.*?)</article>', html, re.S
    )
    assert finding
    assert "drc-missing" in finding.group(1)
    assert "R317-10-4" in finding.group(1)
    on_site = re.search(r'<dd class="on-site">(.*?)</dd>', finding.group(1))
    assert on_site and "Oli Operator (demo)" in on_site.group(1)
    # The trainee's unsigned entry is a finding with a link to the entry.
    cs = re.search(r'data-rule="countersign-missing">(.*?)</article>', html, re.S)
    assert cs and f'/records/entries/{s.trainee_entry}"' in cs.group(1)
    # The count above the timeline is the violations listed below it.
    count = re.search(r'id="violation-count">(\d+) violations?<', html)
    assert count and int(count.group(1)) == html.count('<article class="finding sev-violation"')
    assert int(count.group(1)) >= 1


async def test_review_lists_amendments_and_entries_awaiting_countersignature(api: Api) -> None:
    s = await scenario(api)
    html = await page(api, "chief", facility=SITE, month=s.amended_month)
    amendments = html[html.index('id="amendments"') :]
    assert f'/records/entries/{s.amended_entry}"' in amendments
    assert "misread the day tank gauge" in amendments and "Oli Operator (demo)" in amendments
    awaiting = html[html.index('id="countersign"') : html.index('id="amendments"')]
    assert f'id="await-{s.trainee_entry}"' in awaiting
    assert "Wet well level checked by the trainee." in awaiting
    # The chief is on the shift's crew: the page offers the countersignature.
    assert f'data-api="/api/entries/{s.trainee_entry}/countersign"' in awaiting

    r = await api.post(
        "chief", f"/api/entries/{s.trainee_entry}/countersign", {"password": "demo-chief-pass"}
    )
    assert r.status_code == 201, r.text
    html = await page(api, "chief", facility=SITE, month=s.month)
    assert f'id="await-{s.trainee_entry}"' not in html
    assert "Every trainee entry is countersigned." in html


async def test_admin_sees_the_list_without_the_countersign_form(api: Api) -> None:
    s = await scenario(api)
    html = await page(api, "admin", facility=SITE, month=s.month)
    assert f'id="await-{s.trainee_entry}"' in html
    assert 'countersign"' not in html.split('id="countersign"')[1].split('id="amendments"')[0]


async def test_certificates_expiring_are_listed_most_urgent_first(api: Api) -> None:
    s = await scenario(api)
    # The operator's certificate is retracted and replaced by one ending in 40 days;
    # the trainee gets one ending in 10 days.
    r = await api.get("chief", "/api/compliance/certificates", person=s.ids["operator"])
    (held,) = r.json()["items"]
    r = await api.post(
        "chief", f"/api/compliance/certificates/{held['id']}/retract", {"reason": "test: lapsed"}
    )
    assert r.status_code == 200, r.text
    # New York's seed sets no term, so its certificates may end on any day (Utah's end on
    # a December 31, R317-10-11 C): the facility is judged under New York's rules here.
    r = await api.post(
        "chief",
        f"/api/compliance/facilities/{SITE}/profile",
        {"effective_from": "2020-01-01", "rules": "NY", "class": "2"},
    )
    assert r.status_code == 201, r.text
    for who, days in (("operator", 40), ("trainee", 10)):
        day = (datetime.now(UTC) + timedelta(days=days)).date()
        r = await api.post(
            "chief",
            "/api/compliance/certificates",
            {"person_id": s.ids[who], "state": "NY", "category": "treatment", "grade": "1",
             "kind": "full", "issued": "2020-01-01", "expires": day.isoformat()},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    html = await page(api, "chief", facility=SITE, month=s.month)
    table = html[html.index('id="expiries"') : html.index('id="countersign"')]
    # A row per finding: New York judges renewal training too (Table 3).
    people = list(dict.fromkeys(re.findall(r'data-person="(\d+)"', table)))
    assert people == [str(s.ids["trainee"]), str(s.ids["operator"])]
    assert "certificate-expiring" in table and "Tess Trainee (demo)" in table
    assert 'class="soon"' in table


async def test_a_month_without_records_and_bad_input(api: Api) -> None:
    await scenario(api)
    html = await page(api, "chief", facility=SITE, month="2020-02")
    assert html.count('class="cov-row') == 29  # a leap year's February
    assert "cov-status-violation" not in html
    html = await page(api, "chief", facility=SITE, month="2026-13")
    assert "month must be written YYYY-MM (got &#39;2026-13&#39;)" in html
    html = await page(api, "chief", facility="nowhere")
    assert "No facility with code “nowhere”." in html


async def test_a_facility_without_profile_says_so(api: Api) -> None:
    html = await page(api, "chief", facility=SITE)
    assert "no compliance profile" in html
    assert "No one on this month's shifts." in html and "Levels as on" not in html
    assert "/api/compliance/facilities/demo-wwtp/profile" in html


async def test_only_chief_operators_and_admins_open_the_page(api: Api) -> None:
    for who in ("operator", "trainee", "regulator"):
        r = await api.get(who, "/chief")
        assert r.status_code == 403, (who, r.text)
    api.client.cookies.clear()
    r = await api.client.get("/chief?month=2026-03")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fchief%3Fmonth%3D2026-03"


async def test_the_expiry_table_shows_what_the_expiries_endpoint_gives(api: Api) -> None:
    s = await scenario(api)
    r = await api.post(
        "chief",
        "/api/compliance/certificates",
        {"person_id": s.ids["trainee"], "state": "UT", "category": "treatment", "grade": "I",
         "kind": "full", "issued": f"{datetime.now(UTC).year - 2}-01-01",
         "expires": f"{datetime.now(UTC).year}-12-31"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    r = await api.get("chief", "/api/compliance/expiries", facility=SITE)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items
    html = await page(api, "chief", facility=SITE, month=s.month)
    table = html[html.index('id="expiries"') : html.index('id="countersign"')]
    cells = re.findall(
        r'data-person="(\d+)">.*?<code class="rule">([^<]*)</code>.*?</td>\s*'
        r'<td[^>]*>([^<]*)</td>\s*<td class="num"[^>]*>(-?\d+)</td>',
        table,
        re.S,
    )
    assert cells == [
        (str(p["person_id"]), f["rule"], f["ends"][:10], str(int(round(f["days_left"]))))
        for p in items
        for f in p["findings"]
    ]


async def test_without_a_profile_the_expiry_panel_says_what_the_endpoint_says(api: Api) -> None:
    r = await api.get("chief", "/api/compliance/expiries", facility=SITE)
    assert r.status_code == 409
    detail = r.json()["detail"]
    html = await page(api, "chief", facility=SITE)
    table = html[html.index('id="expiries"') : html.index('id="countersign"')]
    assert f'<p class="empty">{detail}</p>' in table


async def test_levels_supervision_and_what_findings_rest_on(api: Api) -> None:
    """Each person's level at the site (date and assessor; none on record counts as
    emerging), the kinds they record unsupervised, with verification later or under direct
    supervision; a regulation's finding reads as a violation of the cited rule, a site
    policy's as the site's policy, never a violation of law."""
    s = await scenario(api)
    html = await page(api, "chief", facility=SITE, month=s.month)
    levels = html[html.index('id="levels"') : html.index('id="expiries"')]
    rows = dict(re.findall(r'<tr data-person="(\d+)" data-level="([a-z]+)">', levels))
    assert rows == {
        str(s.ids["chief"]): "advanced",
        str(s.ids["operator"]): "proficient",
        str(s.ids["trainee"]): "emerging",
    }
    chief = levels[levels.index(f'data-person="{s.ids["chief"]}"') :].split("</tr>")[0]
    assert "since 2020-01-01, assessed by Demo Admin" in chief
    trainee = levels[levels.index(f'data-person="{s.ids["trainee"]}"') :].split("</tr>")[0]
    assert "no level on record: counted as emerging" in trainee
    assert "on shifts as trainee" in trainee
    cells = dict(re.findall(r'<td class="kinds-(\w+)" data-label="[^"]*">([^<]*)</td>', trainee))
    assert cells["unsupervised"] == "—"
    assert "reading" in cells["verify"] and "note" in cells["verify"]
    assert "chemical addition" in cells["direct"] and "sample" in cells["direct"]
    operator = levels[levels.index(f'data-person="{s.ids["operator"]}"') :].split("</tr>")[0]
    assert re.search(r'<td class="kinds-verify" data-label="[^"]*">—</td>', operator)

    gap = re.search(r'data-rule="drc-missing">(.*?)</article>', html, re.S)
    assert gap
    assert '<span class="badge sev-violation">violation</span>' in gap.group(1)
    assert re.search(r'class="basis basis-regulation">Violation of UT R317-10-4 I', gap.group(1))
    policy = re.search(
        r'<article class="finding sev-policy" id="f-\d+" data-rule="countersign-missing">'
        r"(.*?)</article>",
        html,
        re.S,
    )
    assert policy, "a site policy finding is styled as one"
    text = policy.group(1)
    assert '<span class="badge sev-policy">site policy</span>' in text
    assert "Site policy (competency framework), not a violation of law" in text
    assert "Violation" not in text
    assert re.search(r'id="policy-count">1 site policy finding<', html)
    # The timeline marks the policy finding in its own colour, and its key says so.
    assert 'class="cov-mark sev-policy"' in html
    assert '<span class="swatch sev-policy"></span>Site policy' in html
