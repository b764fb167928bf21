"""A value confirmed outside its plausible range is shown with who, when and why on the
regulator's records and entry page."""

from __future__ import annotations

import re

from tests.support.api import Api
from tests.support.site_file import WHY, confirmed_records


async def test_the_regulator_sees_each_confirmation_with_who_when_and_why(api: Api) -> None:
    entry_id, result_id = await confirmed_records(api)
    page = await api.get("regulator", f"/records/entries/{entry_id}")
    assert page.status_code == 200
    shown = re.search(r'<p class="plausibility" data-confirmation="\d+">(.*?)</p>', page.text, re.S)
    assert shown, page.text
    text = " ".join(shown.group(1).split())
    assert "outside the plausible range" in text
    assert "14 mg/L for Aeration basin dissolved oxygen (0 to 12 mg/L expected)" in text
    assert "confirmed by Oli Operator (demo)" in text and f"Why: {WHY}" in text
    records = await api.get("regulator", "/regulator", facility="demo-wwtp")
    assert records.status_code == 200
    assert records.text.count('class="plausibility"') == 2
    lab = records.text[records.text.index(f'data-result="{result_id}"') :]
    assert "900 mg/L for BOD, 5-day (0 to 600 mg/L expected)" in " ".join(lab.split())
