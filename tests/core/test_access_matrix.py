"""The role x action x site matrix (``clearwell.access.MATRIX``) asked cell by cell
through the real HTTP API (issue 17, item 6).

Two sites: the demo site, where every demo person belongs, and ``far-wwtp``, where they
worked (shifts, entries, samples of theirs are there) before they left it. For every
action, every role, password sessions, at the site of theirs and at the other (and, where
the cell says ``own`` or ``others``, about themselves and about someone else), one request
is made and its answer compared with the cell read from the table: a refusal is a 403
naming an action of the matrix; anything else (200, 201, 404, 409, 422 ...) is not a
refusal by the matrix. Every route of the app names an action, and every action has a
probe here, so a route or an action added later fails this test until it is covered.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from clearwell import access
from clearwell.app import create_app
from clearwell.authorize import Acting
from clearwell.settings import Settings
from tests.support.api import PASSWORDS, Api

HOME, FAR = "demo-wwtp", "far-wwtp"
CREW_ROLES = {"chief": "drc", "operator": "operator", "trainee": "trainee", "operator2": "operator"}
USERS = {  # a demo person of each role
    "operator": "operator",
    "trainee": "trainee",
    "chief_operator": "chief",
    "admin": "admin",
    "regulator": "regulator",
}
REFUSED = re.compile(r"\(([a-z]+\.[a-z_]+)\)$")
# Routes anyone may call: logging in, the pages that send a browser there, health (the
# collectors' too, which monitors read without a session, as before issue 17).
OPEN_ROUTES = {
    "/healthz",
    "/api/ingest/status",
    "/api/auth/login",
    "/api/auth/pin-login",
    "/",
    "/login",
}


def _now(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


@dataclass
class Place:
    """What a site holds for the probes."""

    code: str
    id: int
    shift: int = 0  # open, everyone on its crew
    closed: int = 0  # closed, everyone on its crew
    later: int = 0  # open, opened after ``shift`` (a handoff's incoming shift)
    crew: dict[str, int] = field(default_factory=dict)  # username -> crew row on ``shift``
    entries: dict[str, int] = field(default_factory=dict)  # username -> their entry
    sample: int = 0
    note: int = 0
    amendment: int = 0


@dataclass
class World:
    places: dict[str, Place]
    spare: int  # an operator of the demo site the probes change
    faraway: int  # an operator who belongs to far-wwtp only


Probe = Callable[[Api, World, str, Place, str], Awaitable[httpx.Response]]


async def _join(api: Api, person: int, code: str, member: bool) -> None:
    r = await api.post("admin", f"/api/people/{person}/sites", {"site": code, "member": member})
    assert r.status_code == 200, r.text


async def _place(api: Api, code: str, site_id: int) -> Place:
    place = Place(code, site_id)
    crew = [{"person_id": await api.id(u), "shift_role": r} for u, r in CREW_ROLES.items()]
    for attr in ("closed", "shift", "later"):
        r = await api.post("chief", "/api/shifts", {"site": code, "label": attr, "crew": crew})
        assert r.status_code == 201, r.text
        setattr(place, attr, r.json()["id"])
        if attr == "shift":
            rows = {c["person_id"]: c["id"] for c in r.json()["crew"]}
            place.crew = {u: rows[await api.id(u)] for u in CREW_ROLES}
    r = await api.post("chief", f"/api/shifts/{place.closed}/close", {})
    assert r.status_code == 200, r.text
    for username in ("chief", "operator", "trainee", "operator2"):
        r = await api.entry(
            username, place.shift, "reading", {"instrument": "pH", "value": 7.0, "unit": "pH"}
        )
        assert r.status_code == 201, r.text
        place.entries[username] = r.json()["id"]
    r = await api.post("admin", "/api/shifts", {"site": code, "label": "admin's", "crew": crew})
    assert r.status_code == 201, r.text
    r = await api.post("admin", "/api/entries", _entry(r.json()["id"]))
    assert r.status_code == 201, r.text
    place.entries["admin"] = r.json()["id"]
    r = await api.post("operator", "/api/samples", await _sample(api, code, place.shift))
    assert r.status_code == 201, r.text
    place.sample = r.json()["id"]
    r = await api.post("chief", f"/api/shifts/{place.shift}/handoff", {"body": "all quiet"})
    assert r.status_code == 201, r.text
    place.note = r.json()["id"]
    r = await api.post("operator", "/api/amendments", _amend(place.entries["operator"]))
    assert r.status_code == 201, r.text
    place.amendment = r.json()["id"]
    return place


@pytest.fixture
async def world(api: Api) -> World:
    with psycopg.connect(api.db_url) as conn:
        conn.execute(
            "INSERT INTO sites (code, name, timezone, state, category)"
            " VALUES (%s, 'Far WWTP', 'America/Denver', 'UT', 'treatment')",
            (FAR,),
        )
        ids: dict[str, int] = dict(conn.execute("SELECT code, id FROM sites").fetchall())
    made = {}
    for username, sites in (("spare", [HOME]), ("faraway", [FAR])):
        body = {
            "username": username,
            "full_name": username,
            "role": "operator",
            "password": "a-long-enough-password",
            "sites": sites,
        }
        r = await api.post("admin", "/api/people", body)
        assert r.status_code == 201, r.text
        made[username] = r.json()["id"]
    people = [await api.id(u) for u in ("chief", "operator", "trainee", "operator2", "regulator")]
    for person in people:
        await _join(api, person, FAR, True)
    places = {code: await _place(api, code, ids[code]) for code in (HOME, FAR)}
    for person in people:
        await _join(api, person, FAR, False)
    return World(places, made["spare"], made["faraway"])


def _entry(shift: int) -> dict[str, Any]:
    return {
        "shift_id": shift,
        "kind": "reading",
        "data": {"instrument": "pH", "value": 7.1, "unit": "pH"},
    }


def _amend(entry: int) -> dict[str, Any]:
    return {
        "target": "entry",
        "target_id": entry,
        "changes": {"data": {"instrument": "pH", "value": 7.2, "unit": "pH"}},
        "reason": "misread",
    }


async def _sample(api: Api, code: str, shift: int) -> dict[str, Any]:
    return {
        "site": code,
        "shift_id": shift,
        "sample_point": "final effluent",
        "sample_type": "grab",
        "sampled_at": _now(minutes=-5),
        "sampled_by": [await api.id("operator")],
    }


def _person(w: World, whose: str, me: int, at: str) -> int:
    """The person a probe about someone is about: themselves, or someone of ``at``."""
    if whose == "own":
        return me
    return w.spare if at == HOME else w.faraway


def _get(path: str, **params: Any) -> Probe:
    async def probe(api: Api, w: World, u: str, p: Place, whose: str) -> httpx.Response:
        return await api.get(u, path.format(p=p), **params)

    return probe


def _qs(path: str, **params: Callable[[Place], Any]) -> Probe:
    async def probe(api: Api, w: World, u: str, p: Place, whose: str) -> httpx.Response:
        return await api.get(u, path.format(p=p), **{k: f(p) for k, f in params.items()})

    return probe


def _post(path: str, body: Callable[[Api, World, str, Place], Any]) -> Probe:
    async def probe(api: Api, w: World, u: str, p: Place, whose: str) -> httpx.Response:
        return await api.post(u, path.format(p=p), body(api, w, u, p))

    return probe


async def _credentials(api: Api, w: World, u: str, p: Place, whose: str) -> httpx.Response:
    me = await api.id(u)
    target = me if whose == "own" else w.spare
    body = {"value": PASSWORDS[u] if target == me else "another-long-password"}
    return await api.post(
        u, f"/api/people/{target}/password", {**body, "current_password": PASSWORDS[u]}
    )


async def _sites(api: Api, w: World, u: str, p: Place, whose: str) -> httpx.Response:
    return await api.post(u, f"/api/people/{w.spare}/sites", {"site": FAR})


async def _role(api: Api, w: World, u: str, p: Place, whose: str) -> httpx.Response:
    target = await api.id(u) if whose == "own" else w.spare
    role = "admin" if whose == "own" else "operator"
    return await api.post(u, f"/api/people/{target}/role", {"role": role})


async def _departure(api: Api, w: World, u: str, p: Place, whose: str) -> httpx.Response:
    # An admin or a regulator serves on no crew: about themselves is about another.
    crew = (p.crew.get(u) if whose == "own" else None) or p.crew["operator2"]
    return await api.post(u, f"/api/shifts/{p.shift}/crew/{crew}/departure", {})


async def _amendment(api: Api, w: World, u: str, p: Place, whose: str) -> httpx.Response:
    # A regulator records no entries: about themselves is about another.
    entry = p.entries.get(u, p.entries["operator2"]) if whose == "own" else p.entries["operator2"]
    return await api.post(u, "/api/amendments", _amend(entry))


def _about(path: str, body: Callable[[int], dict[str, Any]] | None = None) -> Probe:
    """A record about a person (certificates, training): at the sites that person belongs to."""

    async def probe(api: Api, w: World, u: str, p: Place, whose: str) -> httpx.Response:
        person = _person(w, whose, await api.id(u), p.code)
        if body is None:
            return await api.get(u, path, person=person)
        return await api.post(u, path, body(person))

    return probe


async def _level_read(api: Api, w: World, u: str, p: Place, whose: str) -> httpx.Response:
    person = await api.id(u) if whose == "own" else await api.id("operator2")
    return await api.get(u, "/api/compliance/levels", facility=p.code, person=person)


async def _level_write(api: Api, w: World, u: str, p: Place, whose: str) -> httpx.Response:
    person = await api.id(u) if whose == "own" else await api.id("operator2")
    body = {
        "facility": p.code,
        "person_id": person,
        "level": "developing",
        "assessed_on": "2020-01-01",
        "assessor_id": await api.id("chief"),
    }
    return await api.post(u, "/api/compliance/levels", body)


def _certificate(person: int) -> dict[str, Any]:
    return {
        "person_id": person,
        "state": "UT",
        "category": "treatment",
        "grade": "IV",
        "kind": "full",
        "number": f"UT-{person}",
        "issued": "2024-01-01",
        "expires": f"{datetime.now(UTC).year + 1}-12-31",
    }


def _training(person: int) -> dict[str, Any]:
    return {"person_id": person, "date": "2025-03-01", "hours": 6, "online": True}


def _password(api: Api, w: World, u: str, p: Place) -> dict[str, str]:
    return {"password": PASSWORDS[u]}


PROBES: dict[str, Probe] = {
    "session.own": _get("/api/auth/me"),
    "people.read": _get("/api/people"),
    "people.create": _post(
        "/api/people",
        lambda api, w, u, p: {
            "username": f"new-{u}".replace("_", "-"),
            "full_name": "New",
            "role": "operator",
            "password": "a-long-enough-password",
        },
    ),
    "people.role": _role,
    "people.credentials": _credentials,
    "people.sites": _sites,
    "sites.read": _get("/api/sites"),
    "audit.verify": _get("/api/audit/verify"),
    "sites.settings": _post(
        "/api/sites/{p.code}/logbook-settings",
        lambda api, w, u, p: {"allow_pin_login": True, "backdate_limit_hours": 24},
    ),
    "shift.read": _get("/api/shifts/{p.shift}"),
    "shift.open": _post(
        "/api/shifts", lambda api, w, u, p: {"site": p.code, "label": "probe", "crew": []}
    ),
    "shift.close": _post("/api/shifts/{p.later}/close", lambda api, w, u, p: {}),
    "shift.sign": _post("/api/shifts/{p.closed}/sign", _password),
    "crew.add": _post(
        "/api/shifts/{p.shift}/crew",
        lambda api, w, u, p: {"person_id": w.spare, "shift_role": "operator"},
    ),
    "crew.designate_drc": _post(
        "/api/shifts/{p.later}/crew",
        lambda api, w, u, p: {"person_id": w.spare, "shift_role": "drc"},
    ),
    "crew.departure": _departure,
    "handoff.write": _post("/api/shifts/{p.shift}/handoff", lambda api, w, u, p: {"body": "x"}),
    "handoff.acknowledge": _post(
        "/api/handoff-notes/{p.note}/acknowledge", lambda api, w, u, p: {"shift_id": p.later}
    ),
    "entry.read": _get("/api/entries/{p.entries[operator]}"),
    "entry.create": _post("/api/entries", lambda api, w, u, p: _entry(p.shift)),
    "entry.countersign": _post("/api/entries/{p.entries[operator2]}/countersign", _password),
    "sample.read": _get("/api/samples/{p.sample}"),
    "sample.create": _post(
        "/api/samples/{p.sample}/custody",
        lambda api, w, u, p: {"relinquished_by": "a", "received_by": "b", "at": _now()},
    ),
    "sample.countersign": _post("/api/samples/{p.sample}/countersign", _password),
    "amendment.read": _get("/api/amendments/{p.amendment}"),
    "amendment.create": _amendment,
    "audit.read": _get("/api/audit"),
    "coverage.read": _qs(
        "/api/compliance/coverage",
        facility=lambda p: p.code,
        start=lambda p: _now(hours=-2),
        end=lambda p: _now(),
    ),
    "coverage.now": _qs("/api/compliance/now", facility=lambda p: p.code),
    "expiries.read": _qs("/api/compliance/expiries", facility=lambda p: p.code),
    "profile.read": _get("/api/compliance/facilities/{p.code}/profile"),
    "profile.write": _post(
        "/api/compliance/facilities/{p.code}/profile",
        lambda api, w, u, p: {"effective_from": "2020-01-01", "class": "II"},
    ),
    "policy.read": _get("/api/compliance/facilities/{p.code}/competency-policy"),
    "policy.write": _post(
        "/api/compliance/facilities/{p.code}/competency-policy", lambda api, w, u, p: {"kinds": {}}
    ),
    "level.read": _level_read,
    "level.write": _level_write,
    "certificate.read": _about("/api/compliance/certificates"),
    "certificate.write": _about("/api/compliance/certificates", _certificate),
    "training.read": _about("/api/compliance/training"),
    "training.write": _about("/api/compliance/training", _training),
    "plant.read": _qs("/api/tags", site=lambda p: p.code),
    "floor.read": _get("/floor/{p.code}/tiles"),
    "floor.verify": _post(
        "/floor/{p.code}/verify",
        lambda api, w, u, p: {
            "entry_ids": [p.entries["trainee"]],
            "username": "operator2",
            "password": PASSWORDS["operator2"],
        },
    ),
    "chief.read": _qs("/chief", facility=lambda p: p.code),
    "records.read": _get("/records/entries/{p.entries[operator]}"),
    "exports.read": _get("/exports/{p.code}/2020-01/lab.csv"),
}

# Actions whose probe is a listing, which shows the sites a person may read rather than
# refuse one: only the role's cell is seen through them (sites_for is tested below).
LISTINGS = {"audit.read"}


def expected(name: str, role: str, at: str, whose: str) -> bool:
    """Whether the cell lets ``role`` act at ``at`` (the person's own site or another)
    about ``whose`` (themselves or another), read from the cell's words."""
    text = access.MATRIX[name][1 + access.ROLES.index(role)]
    if text == "-":
        return False
    if "@" in text:
        who, _, where = text.partition("@")
    elif text in ("own", "others"):
        who, where = text, "any"
    else:
        who, where = "", text
    if who and who != whose:
        return False
    return where != "member" or at == HOME or name in LISTINGS


# Records about a person are at the sites that person belongs to: about oneself, at home.
PERSON_SITED = ("certificate.", "training.")


def _cells(name: str) -> list[tuple[str, str, str]]:
    act = access.action(name)
    sites = (HOME, FAR) if act.sited or name.startswith(PERSON_SITED) else (HOME,)
    owners = ("own", "others") if act.about_a_person else ("others",)
    return [
        (role, at, whose)
        for role in access.ROLES
        for at in sites
        for whose in owners
        if not (whose == "own" and at == FAR and name.startswith(PERSON_SITED))
    ]


@pytest.mark.parametrize("name", sorted(access.ACTIONS))
async def test_every_action_of_the_matrix(api: Api, world: World, name: str) -> None:
    """Each cell of one action, for every role, at their site and another, about
    themselves and another, through the HTTP API."""
    wrong = []
    for role, at, whose in _cells(name):
        username = USERS[role]
        r = await PROBES[name](api, world, username, world.places[at], whose)
        refused = r.status_code == 403 and REFUSED.search(_detail(r)) is not None
        if refused != (not expected(name, role, at, whose)) or r.status_code >= 500:
            wrong.append(f"{role} at {at} about {whose}: {r.status_code} {r.text[:200]}")
    assert not wrong, f"{name}:\n" + "\n".join(wrong)


def _detail(r: httpx.Response) -> str:
    if not r.content or not r.headers.get("content-type", "").startswith("application/json"):
        return ""
    body = r.json()
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else ""


def _routes(routes: list[Any]) -> list[Any]:
    out = []
    for r in routes:
        if hasattr(r, "original_router"):
            out += _routes(r.original_router.routes)
        elif hasattr(r, "dependant"):
            out.append(r)
    return out


def _actions_of(dependant: Any) -> list[str]:
    out = []
    for d in dependant.dependencies:
        if isinstance(d.call, Acting):
            out.append(d.call.action)
        out += _actions_of(d)
    return out


def test_every_route_names_one_action_and_every_action_has_a_probe() -> None:
    app = create_app(Settings(database_url="postgresql://x@127.0.0.1/x"))
    named: set[str] = set()
    for route in _routes(app.routes):
        actions = _actions_of(route.dependant)
        if route.path in OPEN_ROUTES:
            assert actions == [], route.path
            continue
        assert len(actions) == 1, f"{route.path} names {actions}"
        named.update(actions)
    # Designating the DRC is asked inside the routes that add or amend a crew member.
    assert named | {"crew.designate_drc"} == set(access.ACTIONS) == set(PROBES)
