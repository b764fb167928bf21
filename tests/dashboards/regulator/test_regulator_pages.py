"""The regulator's pages on a real database: records with their amendment history, and
every write refused on the server."""

from __future__ import annotations

import re
from typing import Any

from tests.dashboards.scenario import SITE, GapScenario, api_caller, make_gap, make_sample
from tests.support.api import Api


async def scenario(api: Api) -> tuple[GapScenario, int, int]:
    """The gap scenario, plus a sample with a result amended after the lab called."""
    ids = {u: await api.id(u) for u in ("chief", "operator", "trainee", "admin", "regulator")}
    s = await make_gap(api_caller(api), ids)
    return (s, *await make_sample(api_caller(api), s))


async def page(api: Api, who: str, path: str, **params: Any) -> str:
    r = await api.get(who, path, **params)
    assert r.status_code == 200, r.text
    return r.text


async def test_regulator_reads_entries_with_their_amendment_history(api: Api) -> None:
    s, _, _ = await scenario(api)
    day = s.day.isoformat()
    html = await page(api, "regulator", "/regulator", facility=SITE, **{"from": day, "to": day})
    entry = re.search(rf'id="entry-{s.amended_entry}"(.*?)</article>', html, re.S)
    assert entry, html
    text = entry.group(1)
    assert "amended 1×" in text
    # The value now, the original, and the amendment: who, why, before and after.
    assert "Amount: 15 gal" in text
    assert "As first recorded" in text and "Amount: 12.5 gal" in text
    assert "Oli Operator (demo)" in text and "Why: misread the day tank gauge" in text
    assert re.search(
        r"<td>Amount</td><td class=\"change-before\">12.5 gal</td><td>15 gal</td>", text
    )
    # The trainee's entry shows that it is not countersigned.
    trainee = re.search(rf'id="entry-{s.trainee_entry}"(.*?)</article>', html, re.S)
    assert trainee and "not countersigned" in trainee.group(1)
    # No form here writes anything: the only forms pick the period, search the log and pick
    # the export (GET).
    forms = re.findall(r"<form[^>]*>", html)
    assert len(forms) == 3 and all('method="get"' in f for f in forms), forms
    assert '<input type="password"' not in html


async def test_regulator_reads_lab_results_with_their_history(api: Api) -> None:
    s, sample, result = await scenario(api)
    html = await page(api, "regulator", "/regulator", facility=SITE)
    block = re.search(rf'id="sample-{sample}"(.*?)</article>', html, re.S)
    assert block, html
    text = block.group(1)
    assert "Total residual chlorine" in text and "0.08 mg/L" in text
    assert "Why: decimal slipped when transcribing" in text
    assert "Casey Chief (demo)" in text
    assert re.search(
        r"<td>Value</td><td class=\"change-before\">0.8 mg/L</td><td>0.08 mg/L</td>", text
    )


async def test_the_entry_page_shows_one_record_and_its_history(api: Api) -> None:
    s, _, _ = await scenario(api)
    html = await page(api, "regulator", f"/records/entries/{s.amended_entry}")
    assert f"Entry {s.amended_entry}" in html
    assert "Why: misread the day tank gauge" in html
    assert "<td>Amount</td><td>15 gal</td>" in html
    # The fields by their labels, the unit with its number, an empty one as a dash.
    assert "<td>Feed point</td><td>CCT</td>" in html and "<td>Notes</td><td>—</td>" in html
    assert "<td>unit</td>" not in html and "feed_point" not in html
    r = await api.get("regulator", "/records/entries/999999")
    assert r.status_code == 404


async def test_a_bad_period_is_named_and_cut(api: Api) -> None:
    html = await page(api, "regulator", "/regulator", facility=SITE, **{"from": "2026-02-30"})
    assert "“from” must be a date written YYYY-MM-DD (got “2026-02-30”)." in html
    html = await page(
        api, "regulator", "/regulator", facility=SITE, **{"from": "2025-01-01", "to": "2025-12-31"}
    )
    assert "At most 93 days at a time; showing up to 2025-04-03." in html


async def test_who_may_open_the_records(api: Api) -> None:
    for who in ("regulator", "chief", "admin"):
        await page(api, who, "/regulator")
    for who in ("operator", "trainee"):
        r = await api.get(who, "/regulator")
        assert r.status_code == 403, (who, r.text)


# The logbook's and compliance's records: nothing of these may a regulator write.
WRITE_PREFIXES = ("/api/entries", "/api/amendments", "/api/shifts", "/api/samples",
                  "/api/handoff", "/api/compliance", "/api/people", "/api/sites")  # fmt: skip


# Where the body is checked before the person: a valid one (another person's password).
BODIES = {"/api/people/{person_id}/{kind}": {"value": "a-password-long-enough-1"}}


async def test_every_write_is_refused_to_a_regulator(api: Api) -> None:
    s, sample, result = await scenario(api)
    paths = (await api.client.get("/openapi.json")).json()["paths"]
    ids = {
        "shift_id": s.shift_id,
        "entry_id": s.trainee_entry,
        "crew_id": 1,
        "sample_id": sample,
        "result_id": result,
        "note_id": 1,
        "person_id": s.ids["operator"],
        "cert_id": 1,
        "training_id": 1,
        "amendment_id": 1,
        "facility": SITE,
        "kind": "password",
        "site": SITE,
        "code": SITE,
    }
    tried = []
    for template, operations in paths.items():
        if not template.startswith(WRITE_PREFIXES):
            continue
        for method in set(operations) - {"get", "head", "options"}:
            path = template.format(**ids)
            headers = await api.headers("regulator")
            api.client.cookies.clear()
            body = BODIES.get(template, {})
            r = await api.client.request(method.upper(), path, json=body, headers=headers)
            assert r.status_code == 403, (method, path, r.status_code, r.text)
            tried.append((method.upper(), template))
    assert len(tried) >= 15, tried
    assert ("POST", "/api/entries") in tried
    assert ("POST", "/api/entries/{entry_id}/countersign") in tried
    assert ("POST", "/api/amendments") in tried
    # Each refusal is in the audit log (most at no site: the admin reads those).
    r = await api.get(
        "admin", "/api/audit", action="forbidden", person=s.ids["regulator"], limit=200
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) == len(tried)


async def test_the_log_is_searched_from_the_records_page(api: Api) -> None:
    s, _, _ = await scenario(api)
    day = s.day.isoformat()
    period = {"facility": SITE, "from": day, "to": day}
    for who in ("regulator", "chief", "admin"):
        html = await page(api, who, "/regulator", q="wet well", **period)
        assert 'role="search"' in html and 'value="wet well"' in html
        assert f'id="entry-{s.trainee_entry}"' in html
        assert f'id="entry-{s.amended_entry}"' not in html
        assert "1 entry with “wet well”" in html
    # An amendment's reason finds its entry; each entry links to its shift's report.
    html = await page(api, "regulator", "/regulator", q="gauge", **period)
    assert f'id="entry-{s.amended_entry}"' in html and f'id="entry-{s.trainee_entry}"' not in html
    assert f'href="http://test/api/shifts/{s.shift_id}/report.html"' in html
    # A search without a word says so and lists the period as before.
    html = await page(api, "regulator", "/regulator", q="&&", **period)
    assert "Search: no word to search for" in html
    assert f'id="entry-{s.trainee_entry}"' in html and f'id="entry-{s.amended_entry}"' in html
