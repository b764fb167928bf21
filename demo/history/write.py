"""The history into the database, once: readings by bulk COPY, the rest through the write layers.

Everything but the derived rows is one transaction that ends with the marker (an audit row
``demo.history`` naming the period and the seed): a second start finds the marker and
writes nothing, and a start that failed half-way left nothing behind. The logbook's
records go through ``logbook.write`` (shifts, crews, departures, samples, results,
handoff notes and acknowledgements, amendments as the API writes them; entries and
signatures as their rows plus the audit append the write layer makes, so that the month
needs no password check per signature and is stamped in one pass), certificates through
compliance's service, each attributed to the person who made it. Then the trend rollups
are refreshed and the staffing stamps made, as the web app and the stamp pass would.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from compliance.adapter import site_by_id
from compliance.services.levels import LevelIn, add_level
from compliance.services.records import CertificateIn, add_certificate
from compliance.stamping import stamp_pending
from dashboards.trends.rollups import mark_range, refresh_all
from demo.history.plant import STEP, EventRow, PlantRun, fold_events, history_model
from demo.history.records import EntryPlan, SamplePlan, ShiftRecords, plan_records, round_times
from demo.history.rota import EXPIRING, RELIEF, ShiftPlan, plan_shifts
from ingest.readings import COLUMNS, COPY_TYPES
from ingest.tagsync import sync_tags
from logbook import audit, kinds, store
from logbook.amend import check_fields
from logbook.auth.sessions import Principal
from logbook.people import create_person
from logbook.samples import CustodyFields, ResultFields, SampleFields
from logbook.write import amendments, crew, entries, handoffs, samples, shifts, signatures
from logbook.write.idempotency import RequestKey
from sitefile.models import SiteConfig

log = logging.getLogger(__name__)

SEED = 1
MARKER = "demo.history"
NO_KEY = RequestKey(None, None)
MEANING = "reviewed and attest this shift record"
_COPY = f"COPY readings ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_EVENT = (
    "INSERT INTO events (site_id, tag_id, source, kind, code, severity, message, value,"
    " threshold, started_at, last_seen_at, ended_at, occurrences)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)


@dataclass(frozen=True)
class History:
    """What the marker says: the period written and the model's seed."""

    start: datetime
    end: datetime
    seed: int


@dataclass(frozen=True)
class Written:
    history: History
    readings: int
    events: int
    shifts: int
    entries: int
    samples: int


@dataclass(frozen=True)
class _Member:
    person_id: int
    shift_role: str
    arrived_at: datetime | None


async def recorded(conn: psycopg.AsyncConnection[Any], site_code: str) -> History | None:
    """The history the marker says this site has, if any (one indexed-free scan of the
    audit log's newest rows is cheap: the marker is written once)."""
    cur = await conn.execute(
        "SELECT a.detail FROM audit_log a JOIN sites s ON s.id = a.site_id"
        " WHERE a.action = %s AND s.code = %s ORDER BY a.seq DESC LIMIT 1",
        (MARKER, site_code),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    d = row[0]
    return History(
        datetime.fromisoformat(d["start"]), datetime.fromisoformat(d["end"]), int(d["seed"])
    )


def period_start(end: datetime, days: float) -> datetime:
    """The history's first instant: ``days`` before ``end``, on a whole minute (so the
    model's minutes fall on whole minutes)."""
    start = end - timedelta(days=days)
    return start.replace(second=0, microsecond=0)


def days_for_last_month(now: datetime, tz: ZoneInfo, least: float) -> float:
    """At least ``least`` days, and far enough back that last month is whole in the history."""
    today = now.astimezone(tz).date()
    first = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    return max(least, (now - since).total_seconds() / 86400 + 1 / 24)


def _sync_tags(dsn: str, config: SiteConfig) -> None:
    with psycopg.connect(dsn) as conn:
        sync_tags(conn, config, "demo")
        conn.commit()


async def generate(
    dsn: str,
    config: SiteConfig,
    end: datetime,
    days: float,
    seed: int = SEED,
    *,
    catch_up: bool = False,
) -> Written | None:
    """Writes ``days`` of history up to ``end`` for the site of ``config``, unless the
    marker says it is there (None then). ``catch_up``: ``end`` is now, and the readings
    go on to the clock as it is once the rest is written, where the collectors take over."""
    # The collectors' own tag sync: the readings need the tags' ids, as theirs do.
    began = time.monotonic()
    await asyncio.to_thread(_sync_tags, dsn, config)
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        async with conn.transaction():
            if await recorded(conn, config.site.code):
                return None
            written = await _generate(conn, config, end, days, seed, began, catch_up)
        log.info("history committed at %.1f s", time.monotonic() - began)
        await conn.set_autocommit(True)
        await refresh_all(conn, batch=2000, wait_for_lock=True)
        log.info("trend rollups refreshed at %.1f s", time.monotonic() - began)
        await stamp_pending(conn)
        log.info("entries stamped at %.1f s", time.monotonic() - began)
    return written


async def _generate(
    conn: psycopg.AsyncConnection[Any],
    config: SiteConfig,
    end: datetime,
    days: float,
    seed: int,
    began: float,
    catch_up: bool,
) -> Written:
    cur = await conn.execute("SELECT id, timezone FROM sites WHERE code = %s", (config.site.code,))
    row = await cur.fetchone()
    assert row is not None, "the tag sync creates the site"
    site_id, tz = int(row[0]), ZoneInfo(row[1])
    # A database that already holds live data (an earlier demo's) gets the history before it.
    cur = await conn.execute(
        "SELECT least((SELECT min(r.time) FROM readings r JOIN tags t ON t.id = r.tag_id"
        " WHERE t.site_id = %(s)s), (SELECT min(opened_at) FROM shifts WHERE site_id = %(s)s))",
        {"s": site_id},
    )
    row = await cur.fetchone()
    if row is not None and row[0] is not None and row[0] <= end:
        end, catch_up = row[0] - STEP, False
    start = period_start(end, days)
    people = await _people(conn, site_id, start)
    cur = await conn.execute("SELECT name, id, unit FROM tags WHERE site_id = %s", (site_id,))
    tags = {r[0]: (int(r[1]), str(r[2])) for r in await cur.fetchall()}

    plans = plan_shifts(start, end, tz)
    run = PlantRun(config, {n: t[0] for n, t in tags.items()}, site_id, history_model(seed, start))
    wanted = {t for p in plans for t in round_times(p)}
    readings = await _copy_readings(conn, run, end, wanted)
    log.info("%d readings at %.1f s", readings, time.monotonic() - began)
    events = fold_events(run.events)
    event_ids = [await _insert_event(conn, e) for e in events]
    names = {t[0]: n for n, t in tags.items()}
    records = plan_records(plans, run.rounds, events, names, seed, tz)
    n_entries = n_samples = 0
    note: int | None = None
    for i, (plan, shift) in enumerate(zip(plans, records, strict=True)):
        closer = plans[i + 1].in_charge if _left_early(plan) and i + 1 < len(plans) else None
        note = await _write_shift(
            conn, site_id, config.site.code, plan, shift, people, tags, event_ids, note, closer
        )
        n_entries += len(shift.entries)
        n_samples += len(shift.samples)
    log.info("%d shifts at %.1f s", len(plans), time.monotonic() - began)
    if catch_up:
        # Writing took a while: the plant went on meanwhile, and the collectors start now.
        readings += await _copy_readings(conn, run, datetime.now(UTC), set())
    end = run.model.time
    await mark_range(conn, start, end + STEP)
    log.info("rollups marked at %.1f s", time.monotonic() - began)
    history = History(start, end, seed)
    await audit.append(
        conn,
        audit.SYSTEM,
        MARKER,
        "site",
        site_id,
        site_id,
        {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "seed": seed,
            "readings": readings,
            "events": len(events),
            "shifts": len(plans),
            "entries": n_entries,
            "samples": n_samples,
            "demo": True,
        },
    )
    return Written(history, readings, len(events), len(plans), n_entries, n_samples)


def _left_early(plan: ShiftPlan) -> bool:
    return plan.crew[0].left_at is not None


async def _people(
    conn: psycopg.AsyncConnection[Any], site_id: int, start: datetime
) -> dict[str, Principal]:
    """The demo's people and the history's relief operators (created, with their
    certificates, if missing), as the principals their records are attributed to."""
    cur = await conn.execute("SELECT id FROM people WHERE username = 'chief'")
    row = await cur.fetchone()
    assert row is not None, "the logbook's demo seeder runs first"
    chief = await _principal(conn, "chief")
    site = await site_by_id(conn, site_id)
    for username, name, role, grade in RELIEF:
        cur = await conn.execute("SELECT 1 FROM people WHERE username = %s", (username,))
        if await cur.fetchone() is not None:
            continue
        # Nobody logs in as them: a password nobody knows.
        person = await create_person(
            conn, chief.actor, username, name, role, secrets.token_urlsafe(24), None, [site_id]
        )
        today = start.date()
        expires = date(today.year if username == EXPIRING else today.year + 2, 12, 31)
        issued = date(expires.year - 2, 1, 1)
        await add_certificate(
            conn,
            chief.actor,
            CertificateIn(
                person_id=person,
                state="UT",
                category="treatment",
                grade=grade,
                number=f"DEMO-UT-T-{person:04d}",
                issued=issued,
                expires=expires,
            ),
        )
        # Assessed, like the demo's own operators: no level on record would count them
        # as emerging (the site's competency policy) and flag every entry they make.
        await add_level(
            conn,
            chief.actor,
            site,
            LevelIn(
                facility=site.code,
                person_id=person,
                level="proficient",
                assessed_on=issued,
                assessor_id=chief.id,
                note="demo history",
            ),
            today,
        )
    usernames = ["chief", "operator", "trainee", *(r[0] for r in RELIEF)]
    return {u: await _principal(conn, u) for u in usernames}


async def _principal(conn: psycopg.AsyncConnection[Any], username: str) -> Principal:
    cur = await conn.execute(
        "SELECT p.id, p.full_name, (SELECT role FROM person_roles r WHERE r.person_id = p.id"
        " ORDER BY r.id DESC LIMIT 1),"
        " ARRAY(SELECT m.site_id FROM site_members m WHERE m.person_id = p.id)"
        " FROM people p WHERE p.username = %s",
        (username,),
    )
    row = await cur.fetchone()
    assert row is not None, f"no person {username}"
    return Principal(
        id=int(row[0]), username=username, full_name=row[1], role=row[2], sites=frozenset(row[3])
    )


async def _copy_readings(
    conn: psycopg.AsyncConnection[Any], run: PlantRun, end: datetime, wanted: set[datetime]
) -> int:
    n = 0
    async with conn.cursor() as cur, cur.copy(_COPY) as copy:
        copy.set_types(list(COPY_TYPES))
        for rows in run.run(end, wanted):
            for r in rows:
                await copy.write_row(r)
            n += len(rows)
    return n


async def _insert_event(conn: psycopg.AsyncConnection[Any], e: EventRow) -> int:
    cur = await conn.execute(
        _EVENT,
        (
            e.site_id,
            e.tag_id,
            e.source,
            e.kind,
            e.code,
            e.severity,
            e.message,
            e.value,
            e.threshold,
            e.started_at,
            e.last_seen_at,
            e.ended_at,
            e.occurrences,
        ),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def _state(conn: psycopg.AsyncConnection[Any], shift_id: int) -> store.ShiftState:
    state = await store.shift_state(conn, shift_id, "update")
    assert state is not None
    return state


async def _write_shift(
    conn: psycopg.AsyncConnection[Any],
    site_id: int,
    site_code: str,
    plan: ShiftPlan,
    records: ShiftRecords,
    people: Mapping[str, Principal],
    tags: Mapping[str, tuple[int, str]],
    event_ids: Sequence[int],
    previous_note: int | None,
    closer: str | None,
) -> int:
    """One shift from opening to signature; returns its handoff note's id."""
    ic = people[plan.in_charge]
    crew_in = [_Member(people[s.username].id, s.shift_role, plan.start) for s in plan.crew]
    sent = {
        "site": site_code,
        "label": plan.label,
        "opened_at": plan.start,
        "crew": [
            {"person_id": m.person_id, "shift_role": m.shift_role, "arrived_at": m.arrived_at}
            for m in crew_in
        ],
    }
    made = await shifts.open_shift(
        conn, ic, site_id, plan.label, plan.start, crew_in, sent, NO_KEY, plan.start
    )
    shift_id = made.id
    if previous_note is not None and plan.crew[0].shift_role == "drc":
        await handoffs.acknowledge(conn, ic, previous_note, shift_id)
    verified: list[int] = []
    for e in records.entries:
        entry_id = await _entry(conn, site_id, shift_id, e, people, tags, event_ids)
        if e.verify:
            verified.append(entry_id)
        if e.amendment is not None:
            changes, reason = e.amendment
            assert not check_fields("entry", changes)
            await amendments.amend(
                conn, people[e.author], "entry", entry_id, changes, reason, NO_KEY
            )
    verifier_left = plan.crew[0].left_at or plan.end
    signed_at = min(plan.end, verifier_left) - timedelta(minutes=25)
    for entry_id in verified:
        await _countersign(conn, ic, site_id, entry_id, signed_at)
    for s in records.samples:
        await _sample(conn, ic, site_id, site_code, shift_id, s, people, signed_at)
    state = await _state(conn, shift_id)
    members = await store.crew(conn, shift_id)
    for stint in plan.crew:
        if stint.left_at is None:
            continue
        crew_id = next(m["id"] for m in members if m["person_id"] == people[stint.username].id)
        who = people[stint.username]
        await crew.record_departure(conn, who, state, crew_id, stint.left_at, stint.left_at)
    note = await handoffs.write_note(conn, ic, state, records.handoff, NO_KEY)
    await shifts.close_shift(conn, people[closer or plan.in_charge], state, plan.end, plan.end)
    await _sign(conn, ic, await _state(conn, shift_id), plan.end + timedelta(minutes=10))
    return note.id


async def _entry(
    conn: psycopg.AsyncConnection[Any],
    site_id: int,
    shift_id: int,
    e: EntryPlan,
    people: Mapping[str, Principal],
    tags: Mapping[str, tuple[int, str]],
    event_ids: Sequence[int],
) -> int:
    """An entry as ``logbook.write.entries.record_entry`` writes it (its fields validated by
    their kind, the row, the audit append), less the staffing stamp, made for the whole
    history at the end."""
    author = people[e.author]
    data = dict(e.data)
    event_id = None
    if e.tag is not None:
        tag_id, unit = tags[e.tag]
        data.update(tag_id=tag_id, unit=unit)
    if e.event is not None:
        event_id = event_ids[e.event]
        data["event_id"] = event_id
    fields = kinds.validate_entry_data(e.kind, data)
    recorded_at = e.at + timedelta(minutes=2)
    made = await entries.insert_entry(
        conn,
        site_id,
        shift_id,
        e.kind,
        fields,
        e.at,
        recorded_at,
        author.id,
        author.role == "trainee",
        event_id,
    )
    await audit.append(
        conn,
        author.actor,
        "entry.create",
        "entry",
        made.id,
        site_id,
        {"shift_id": shift_id, "kind": e.kind, "data": fields, "occurred_at": e.at},
    )
    return made.id


async def _countersign(
    conn: psycopg.AsyncConnection[Any],
    verifier: Principal,
    site_id: int,
    entry_id: int,
    at: datetime,
) -> None:
    """A verification as ``signatures.countersign`` records it, at the time it was made."""
    entry = await store.entry(conn, entry_id)
    assert entry is not None
    digest = signatures.entry_digest(entry)
    assert await signatures.insert_countersignature(conn, entry_id, verifier.id, digest, at)
    await audit.append(
        conn,
        verifier.actor,
        "entry.countersign",
        "entry",
        entry_id,
        site_id,
        {"content_sha256": digest},
    )


async def _sign(
    conn: psycopg.AsyncConnection[Any], signer: Principal, state: store.ShiftState, at: datetime
) -> None:
    """A shift signature as ``signatures.sign_shift`` records it, at the time it was made."""
    digest = await store.content_hash(conn, state)
    signature = await signatures.insert_signature(conn, state.id, signer.id, digest, MEANING, at)
    assert signature is not None
    await audit.append(
        conn,
        signer.actor,
        "shift.sign",
        "shift",
        state.id,
        state.site_id,
        {"content_sha256": digest, "signature_id": signature, "meaning": MEANING},
    )


async def _sample(
    conn: psycopg.AsyncConnection[Any],
    user: Principal,
    site_id: int,
    site_code: str,
    shift_id: int,
    s: SamplePlan,
    people: Mapping[str, Principal],
    verified_at: datetime,
) -> None:
    fields = SampleFields(**s.fields)
    custody = [CustodyFields(**c) for c in s.custody]
    sampled_by = [people[u].id for u in s.sampled_by]
    sent = {
        **fields.model_dump(mode="json"),
        "site": site_code,
        "shift_id": shift_id,
        "sampled_by": sampled_by,
        "custody": [c.model_dump(mode="json") for c in custody],
    }
    made = await samples.create_sample(
        conn, user, site_id, site_code, shift_id, fields, sampled_by, custody, sent, NO_KEY
    )
    sample = await store.one_sample(conn, made.id)
    assert sample is not None
    for r in s.results:
        result = ResultFields(**r)
        await samples.add_result(conn, user, sample, result, result.model_dump(mode="json"), NO_KEY)
    # The site's policy wants a trainee's sampling directly supervised: the one in charge,
    # on site with them and not a sampler, verifies it, as the floor would record it.
    if user.id not in sampled_by and any(people[u].role == "trainee" for u in s.sampled_by):
        record = signatures.sample_record(sample, None)
        assert await signatures.insert_sample_countersignature(conn, record, user.id, verified_at)
        await audit.append(
            conn,
            user.actor,
            "sample.countersign",
            "sample",
            record.ident,
            site_id,
            {"content_sha256": record.digest, "sample_id": record.ident},
        )
