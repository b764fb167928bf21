"""Reading one shift for its report: the logbook's read side (the shift, crew, entries and
samples with amendments folded in, handoff notes, signatures), the alarms active during
it with their acknowledgements, who held charge (the compliance engine's coverage), and
the key tags' minute rollups over the shift."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from clearwell.errors import ClearwellError
from compliance.adapter import NoProfile, resolve_site
from compliance.adapter import load as compliance_load
from compliance.engine import check
from dashboards.exports.service import permit_for
from dashboards.regulator import queries as records
from dashboards.shiftreport.view import Loaded, Stretch, drc_stretches, stretches
from logbook import store
from logbook.store import load_samples

AsyncConn = psycopg.AsyncConnection[Any]
# A shift's records are a few hundred; these bound a runaway one.
MAX_ENTRIES = 5000
MAX_SAMPLES = 500
MAX_ALARMS = 500
# Without a permit naming the key tags, the site's current tags, up to this many.
MAX_TAGS = 40

_EVENTS = """
SELECT id, message, severity, started_at, ended_at FROM events
WHERE site_id = %s AND severity IN ('warning', 'alarm', 'critical')
  AND started_at < %s AND coalesce(ended_at, 'infinity') >= %s
ORDER BY started_at, id LIMIT %s
"""

_NOTES_IN = """
SELECT n.id, n.from_shift_id, n.body, n.written_by, n.written_at,
       a.to_shift_id, a.acknowledged_by, a.acknowledged_at
FROM handoff_acks a JOIN handoff_notes n ON n.id = a.note_id
WHERE a.to_shift_id = %s ORDER BY n.id
"""

# min/avg/max of the good samples of each tag's minutes that begin in the shift.
_SUMMARY = """
SELECT t.id, coalesce(nullif(t.description, ''), t.name) AS tag, t.unit,
       min(r.min) AS min, sum(r.sum) / nullif(sum(r.n_good), 0) AS avg, max(r.max) AS max,
       coalesce(sum(r.n_good), 0) AS n
FROM tags t LEFT JOIN readings_1m r
  ON r.tag_id = t.id AND r.bucket >= %s AND r.bucket < %s AND r.n_good > 0
WHERE t.id = ANY(%s)
GROUP BY t.id ORDER BY t.name
"""


async def shift_row(conn: AsyncConn, shift_id: int) -> dict[str, Any] | None:
    state = await store.shift_state(conn, shift_id)
    if state is None:
        return None
    cur = await conn.execute(
        "SELECT code, name, timezone FROM sites WHERE id = %s", (state.site_id,)
    )
    code, name, timezone = await cur.fetchone() or ("", "", "UTC")
    return {
        **state.row,
        "site": {"code": code, "name": name, "timezone": timezone},
        "closed_by": state.closed_by,
        "signed": state.signed,
    }


async def _charge(
    conn: AsyncConn,
    code: str,
    shift_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    crew: Sequence[dict[str, Any]],
) -> tuple[list[Stretch], str]:
    try:
        facts = await compliance_load(
            conn, await resolve_site(conn, code), start, end, now, entries=(), with_training=False
        )
    except NoProfile:
        return drc_stretches(crew, start, end), (
            "the crew's DRC role (the facility has no compliance profile, so who held charge"
            " under the state's rule was not judged)"
        )
    found = check(facts.scenario)
    rules = found.class_spans[-1].rule_set if found.class_spans else None
    basis = "the compliance engine's reading of the crew" + (f" under {rules}" if rules else "")
    return stretches(found.coverage, shift_id, start, end), basis


async def _key_tags(
    conn: AsyncConn, site_id: int, code: str, data_dir: Path
) -> tuple[list[int], str]:
    """The tags the site's permit reports on, else its current tags (up to MAX_TAGS)."""
    try:
        names = sorted(permit_for(code, data_dir).tags())
        source = "the tags the site's permit reports on"
    except (ClearwellError, OSError, ValueError):
        names = []
    if names:
        cur = await conn.execute(
            "SELECT id FROM tags WHERE site_id = %s AND name = ANY(%s) ORDER BY name",
            (site_id, names),
        )
    else:
        source = f"the site's current tags (the first {MAX_TAGS} by name)"
        cur = await conn.execute(
            "SELECT id FROM tags WHERE site_id = %s AND retired_at IS NULL ORDER BY name LIMIT %s",
            (site_id, MAX_TAGS),
        )
    return [int(r[0]) for r in await cur.fetchall()], source


async def load(
    conn: AsyncConn,
    shift: dict[str, Any],
    now: datetime,
    data_dir: Path,
    generated_by: str,
) -> Loaded:
    """Everything the shift's report shows, as it stands ``now`` (an open shift to now)."""
    sid, site = int(shift["id"]), shift["site"]
    start = shift["opened_at"]
    end = shift["closed_at"] or max(now, start + timedelta(microseconds=1))
    crew = await store.crew(conn, sid)
    entries = await store.entries_where(conn, sql.SQL("e.shift_id = %s"), [sid], MAX_ENTRIES)
    samples = await load_samples(conn, sql.SQL("shift_id = %s"), [sid], MAX_SAMPLES)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_EVENTS, (shift["site_id"], end, start, MAX_ALARMS))
        events = await cur.fetchall()
    acks = await store.entries_where(
        conn,
        sql.SQL("e.event_id = ANY(%s)"),
        [[int(v["id"]) for v in events]],
        MAX_ENTRIES,
    )
    notes_out = await store.handoff_notes(conn, sid)
    cur2 = await conn.execute(_NOTES_IN, (sid,))
    notes_in = [
        {
            "id": r[0],
            "from_shift_id": r[1],
            "body": r[2],
            "written_by": r[3],
            "written_at": r[4],
            "acknowledgement": {
                "to_shift_id": r[5],
                "acknowledged_by": r[6],
                "acknowledged_at": r[7],
            },
        }
        for r in await cur2.fetchall()
    ]
    signatures = await store.signatures(conn, sid)
    charge, basis = await _charge(conn, site["code"], sid, start, end, now, crew)
    tags, readings_from = await _key_tags(conn, shift["site_id"], site["code"], data_dir)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_SUMMARY, (start, end, tags), prepare=False)
        readings = await cur.fetchall()
    people = (
        records.people_in(entries)
        | records.people_in(acks)
        | records.people_in(samples)
        | {int(c["person_id"]) for c in crew}
        | {int(h["amended_by"]) for c in crew for h in c["history"]}
        | {int(n["written_by"]) for n in notes_out + notes_in}
        | {
            int(n["acknowledgement"]["acknowledged_by"])
            for n in notes_out + notes_in
            if n["acknowledgement"]
        }
        | {int(g["person_id"]) for g in signatures}
        | {int(p) for s in charge for p in s.people}
        | {int(shift["opened_by"])}
        | ({int(shift["closed_by"])} if shift["closed_by"] else set())
    )
    names = await records.names(conn, people)
    refs = await records.refs(conn, entries, names)
    return Loaded(
        site=site,
        shift=shift,
        crew=crew,
        charge=charge,
        charge_basis=basis,
        entries=entries,
        samples=samples,
        events=events,
        acks=acks,
        notes_out=notes_out,
        notes_in=notes_in,
        signatures=signatures,
        readings=readings,
        readings_from=readings_from,
        names=names,
        refs=refs,
        generated_at=now,
        generated_by=generated_by,
    )
