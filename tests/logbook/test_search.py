"""Searching the log: what a search may be (pure), and GET /api/entries?q= over HTTP on a
real database, with the listing's other filters, amendments' words, paging and 422s;
migration 0212 on a database that already holds entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from clearwell.migrate import applied, discover, migrate
from logbook.search import MAX_QUERY, SearchRefused, search_clause, search_text
from tests.logbook.scenario import insert_event
from tests.support.api import seed_people
from tests.support.database import owner_of


@pytest.mark.parametrize(
    ("q", "text"),
    [
        ("pump", "pump"),
        ("  RAS-2 pump  ", "RAS-2 pump"),
        ("DO", "DO"),
        ("7.2", "7.2"),
        ("x" * MAX_QUERY, "x" * MAX_QUERY),
        ('"><img src=/etc/passwd>', '"><img src=/etc/passwd>'),
    ],
)
def test_a_search_is_its_text_trimmed(q, text):
    assert search_text(q) == text


@pytest.mark.parametrize(
    ("q", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * (MAX_QUERY + 1), "too long"),
        ("&|!:*()", "no word"),
        ("___", "no word"),
    ],
)
def test_a_search_without_words_or_too_long_is_refused(q, why):
    with pytest.raises(SearchRefused, match=why):
        search_text(q)


def test_a_search_takes_the_listings_filters_on_each_side_and_twice_the_page():
    clause, params = search_clause(
        " pump ", sql.SQL("e.site_id = %s AND e.kind = %s"), [3, "note"], 101
    )
    # The text and the filters' parameters for the entries' side, then the amendments'; an
    # entry may come from both, so twice the page is taken before the listing's LIMIT.
    assert params == ["pump", 3, "note", "pump", 3, "note", 202]
    with pytest.raises(SearchRefused, match="empty"):
        search_clause("", sql.SQL("true"), [], 10)


async def _ids(api, who="operator", **params):
    r = await api.get(who, "/api/entries", **params)
    assert r.status_code == 200, r.text
    return [e["id"] for e in r.json()["items"]]


async def _log(api):
    """A shift's entries of several kinds and authors, one amended."""
    shift = await api.open_shift()
    other = await api.open_shift("operator2", label="night")
    made = {}
    for name, who, sid, kind, data in [
        ("pumps", "operator", shift["id"], "note", {"text": "RAS pumps 1 and 2 swapped"}),
        ("do", "operator", shift["id"], "observation", {"text": "DO low in basin 2"}),
        (
            "clean",
            "operator",
            shift["id"],
            "cleaning",
            {"what": "Clarifier weirs", "method": "brushed"},
        ),
        ("night", "operator2", other["id"], "note", {"text": "RAS pump 2 noisy overnight"}),
        (
            "hostile",
            "operator",
            shift["id"],
            "note",
            {"text": 'label "><img src=/etc/passwd> typed'},
        ),
        (
            "ph",
            "operator",
            shift["id"],
            "reading",
            {"instrument": "effluent pH", "value": 7.2, "unit": "pH"},
        ),
    ]:
        r = await api.entry(who, sid, kind, data)
        assert r.status_code == 201, r.text
        made[name] = r.json()["id"]
    r = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "entry",
            "target_id": made["clean"],
            "changes": {"data": {"what": "Clarifier weirs and scum baffle"}},
            "reason": "forgot the baffle, hosed down too",
        },
    )
    assert r.status_code == 201, r.text
    return made, shift, other


async def test_words_prefixes_amendments_and_the_listings_filters(api):
    made, shift, other = await _log(api)
    # Every word must begin a word of the entry, in any order, any case.
    assert await _ids(api, site="demo-wwtp", q="pump") == [made["pumps"], made["night"]]
    assert await _ids(api, site="demo-wwtp", q="ras 2 PUMP") == [made["pumps"], made["night"]]
    assert await _ids(api, q="noisy pump") == [made["night"]]
    # "do" is an English stop word; the simple configuration keeps it (as a prefix it
    # finds "down" too).
    assert await _ids(api, q="DO") == [made["do"], made["clean"]]
    assert await _ids(api, q="DO basin") == [made["do"]]
    assert await _ids(api, q="effluent pH") == [made["ph"]]
    # Numbers are not words: only what was typed as text is searched.
    assert await _ids(api, q="7.2") == []
    # An amendment's changes and its reason are found, and the entry comes as amended.
    assert await _ids(api, q="baffle") == [made["clean"]]
    assert await _ids(api, q="hosed") == [made["clean"]]
    r = await api.get("regulator", "/api/entries", q="baffle")
    (item,) = r.json()["items"]
    assert item["amended"] and item["data"]["what"] == "Clarifier weirs and scum baffle"
    # PostgreSQL's parser skips what looks like a markup tag, in the log and in the query:
    # the words around it are found, the tag alone finds nothing (and breaks nothing).
    assert await _ids(api, q="label typed") == [made["hostile"]]
    assert await _ids(api, q='"><img src=/etc/passwd>') == []
    assert await _ids(api, q="nothing-like-it") == []
    # With the listing's filters: kind, person, shift, dates, operational.
    assert await _ids(api, q="pump", kind="note", person=await api.id("operator2")) == [
        made["night"]
    ]
    assert await _ids(api, q="pump", shift_id=shift["id"]) == [made["pumps"]]
    assert await _ids(api, q="clarifier", operational="true") == [made["clean"]]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await _ids(api, q="pump", **{"from": future}) == []
    assert await _ids(api, q="pump", to=future) == [made["pumps"], made["night"]]
    # Every role that reads the log may search it.
    for who in ("trainee", "chief", "admin", "regulator"):
        assert await _ids(api, who, q="pump") == [made["pumps"], made["night"]]


async def test_a_search_pages_in_time_order(api):
    shift = await api.open_shift()
    ids = []
    for n in range(5):
        r = await api.entry("operator", shift["id"], "note", {"text": f"blower {n} checked"})
        ids.append(r.json()["id"])
    await api.entry("operator", shift["id"], "note", {"text": "nothing to do with it"})
    seen, cursor = [], None
    while True:
        params = {"q": "blower checked", "limit": 2} | ({"cursor": cursor} if cursor else {})
        r = await api.get("operator", "/api/entries", **params)
        body = r.json()
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


async def test_a_reading_of_a_tag_and_its_alarms_acks_are_found_by_tag(api):
    shift = await api.open_shift()
    with psycopg.connect(api.db_url) as conn:
        tag, other = (
            row[0]
            for row in conn.execute(
                "INSERT INTO tags (site_id, name, unit, source_protocol)"
                " SELECT id, n, 'pH', 'manual' FROM sites, unnest(ARRAY['a_ph', 'b_ph']) n"
                " WHERE code = 'demo-wwtp' RETURNING id"
            ).fetchall()
        )
    event = insert_event(api.db_url)
    with psycopg.connect(api.db_url) as conn:
        conn.execute("UPDATE events SET tag_id = %s WHERE id = %s", (tag, event))
    reading = await api.entry(
        "operator", shift["id"], "reading", {"tag_id": tag, "value": 7.0, "unit": "pH"}
    )
    moved = await api.entry(
        "operator", shift["id"], "reading", {"tag_id": other, "value": 7.1, "unit": "pH"}
    )
    ack = await api.entry(
        "operator", shift["id"], "alarm_ack", {"event_id": event, "response": "rinsed probe"}
    )
    await api.entry("operator", shift["id"], "note", {"text": "rinsed the other probe"})
    r = await api.post(
        "operator",
        "/api/amendments",
        {
            "target": "entry",
            "target_id": moved.json()["id"],
            "changes": {"data": {"tag_id": tag}},
            "reason": "wrong meter picked",
        },
    )
    assert r.status_code == 201, r.text
    expected = [reading.json()["id"], moved.json()["id"], ack.json()["id"]]
    assert await _ids(api, tag=tag) == expected
    assert await _ids(api, tag=tag, q="rinsed") == [ack.json()["id"]]


@pytest.mark.parametrize(
    ("params", "loc", "msg"),
    [
        ({"q": ""}, ["query", "q"], "empty"),
        ({"q": "  "}, ["query", "q"], "empty"),
        ({"q": "x" * 201}, ["query", "q"], "too long"),
        ({"q": "*&!"}, ["query", "q"], "no word"),
        ({"q": "pump", "text": "pump"}, ["query", "text"], "unknown parameter"),
        ({"shift": "3"}, ["query", "shift"], "unknown parameter"),
        ({"q": "pump", "kind": "diary"}, ["query", "kind"], "unknown kind"),
        ({"q": "pump", "tag": "ph"}, ["query", "tag"], "integer"),
    ],
)
async def test_bad_searches_are_422_naming_the_parameter(api, params, loc, msg):
    r = await api.get("operator", "/api/entries", **params)
    assert r.status_code == 422, r.text
    (problem,) = r.json()["detail"]
    assert problem["loc"] == loc and msg in problem["msg"], problem


async def test_a_search_uses_the_words_indexes(api):
    await _log(api)
    with psycopg.connect(api.db_url) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN SELECT id FROM entries WHERE logbook_entry_words(data)"
                " @@ 'pump:*'::tsquery UNION SELECT target_id FROM amendments"
                " WHERE target = 'entry' AND logbook_amendment_words(changes, reason)"
                " @@ 'pump:*'::tsquery"
            ).fetchall()
        )
    # (The amendments' side is planned by size: with a handful, by their target index.)
    assert "Bitmap Index Scan on entries_words" in plan, plan


async def test_the_search_migration_indexes_a_log_already_kept(db_server):
    url = db_server.make_database(migrated=False)
    # All of it as the owner, who migrates (the runtime role has no grants before that).
    owner = owner_of(url)
    try:
        everything = discover()
        with psycopg.connect(owner, autocommit=True) as conn:
            migrate(conn, [m for m in everything if m.version != "0212"])
        await seed_people(owner)
        with psycopg.connect(owner, autocommit=True) as conn:
            (person,) = conn.execute("SELECT id FROM people WHERE username = 'operator'").fetchone()
            (shift,) = conn.execute(
                "INSERT INTO shifts (site_id, label, opened_at, opened_by)"
                " SELECT id, 'day', now(), %s FROM sites WHERE code = 'demo-wwtp' RETURNING id",
                (person,),
            ).fetchone()
            (entry,) = conn.execute(
                "INSERT INTO entries (site_id, shift_id, kind, data, operational, occurred_at,"
                " recorded_by) SELECT site_id, id, 'note', '{\"text\": \"grit chamber cleared\"}',"
                " false, now(), %s FROM shifts WHERE id = %s RETURNING id",
                (person, shift),
            ).fetchone()
            assert [m.version for m in everything if m.version not in applied(conn)] == ["0212"]
            migrate(conn)
            found = conn.execute(
                "SELECT id FROM entries WHERE logbook_entry_words(data) @@ 'grit:*'::tsquery"
            ).fetchall()
            assert found == [(entry,)]
            # The record tables are still append-only after the index was built.
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute("UPDATE entries SET data = '{}' WHERE id = %s", (entry,))
    finally:
        db_server.drop_database(url)
