"""The demo plant's map as a site's file in the app's data directory, where the logbook and
the floor read its ranges; records confirmed outside its plausible ranges."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import psycopg

from ingest.tagsync import sync_tags
from simulators.address_map import DEFAULT_MAP
from sitefile.datadir import site_file
from sitefile.load import load_config
from tests.support.api import Api


def demo_site_file(api: Api) -> dict[str, int]:
    """Puts the demo plant's map where the app reads the site's file and syncs its tags;
    the tag ids by name."""
    path = site_file(api.data_dir, "demo-wwtp")
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEFAULT_MAP, path)
    with psycopg.connect(api.db_url) as conn:
        return sync_tags(conn, load_config(DEFAULT_MAP)).tag_ids


WHY = "probe fouled, read again by hand"
CONFIRM = {"plausibility": {"confirmed": True, "reason": WHY}}


async def confirmed_records(api: Api) -> tuple[int, int]:
    """With the demo plant's file: a DO reading of 14 mg/L and a BOD result of 900 mg/L,
    each confirmed with a reason (WHY for the reading); their entry and result ids."""
    tags = demo_site_file(api)
    shift = await api.open_shift()
    entry = await api.post(
        "operator",
        "/api/entries",
        {
            "shift_id": shift["id"],
            "kind": "reading",
            "data": {"tag_id": tags["aeration.do"], "value": 14, "unit": "mg/L"},
            **CONFIRM,
        },
    )
    assert entry.status_code == 201, entry.text
    sample = await api.post(
        "operator",
        "/api/samples",
        {
            "site": "demo-wwtp",
            "sample_point": "final effluent",
            "sample_type": "grab",
            "sampled_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
            "sampled_by": [await api.id("operator")],
        },
    )
    result = await api.post(
        "operator",
        f"/api/samples/{sample.json()['id']}/results",
        {
            "analyte": "BOD5",
            "method": "SM 5210 B",
            "analyzed_at": datetime.now(UTC).isoformat(),
            "analyst_name": "J. Rivera",
            "value": 900,
            "unit": "mg/L",
            "plausibility": {"confirmed": True, "reason": "influent grab, not effluent"},
        },
    )
    assert result.status_code == 201, result.text
    return int(entry.json()["id"]), int(result.json()["results"][0]["id"])
