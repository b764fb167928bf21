"""The chief's page lists the month's values confirmed outside their plausible range."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.support.api import Api
from tests.support.site_file import WHY, confirmed_records


async def test_the_chief_sees_the_months_confirmations(api: Api) -> None:
    entry_id, result_id = await confirmed_records(api)
    month = datetime.now(ZoneInfo("America/Denver")).strftime("%Y-%m")
    page = await api.get("chief", "/chief", facility="demo-wwtp", month=month)
    assert page.status_code == 200
    section = page.text[page.text.index('id="plausibility"') :]
    rows = re.findall(r'<tr data-confirmation="\d+">(.*?)</tr>', section, re.S)
    assert len(rows) == 2
    newest, first = (" ".join(r.split()) for r in rows)
    assert f"/records/entries/{entry_id}" in first and "14 mg/L" in first
    assert "0 to 12 mg/L for Aeration basin dissolved oxygen" in first and WHY in first
    assert f"BOD5 result {result_id}" in newest and "influent grab, not effluent" in newest
    assert "Oli Operator (demo)" in newest
    before = await api.get("chief", "/chief", facility="demo-wwtp", month="2020-01")
    assert "No value outside its plausible range this month." in before.text
