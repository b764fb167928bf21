"""People: who may use the logbook, in which role, at which sites (changes appended and
audited), and the sites' logbook settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from clearwell.access import decide
from clearwell.authorize import acting, require
from clearwell.params import Id
from clearwell.web import Denied, invalid, json_response, not_found, transaction
from logbook.api.common import confirm_password, site_id_for
from logbook.auth.sessions import Principal
from logbook.memberships import set_member, site_ids
from logbook.people import PersonError, create_person, get_person, list_people, set_role, set_secret
from logbook.write.sites import set_logbook_settings

router = APIRouter(prefix="/api", tags=["people"])

Role = Literal["operator", "trainee", "chief_operator", "admin", "regulator"]


class PersonIn(BaseModel):
    username: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")]
    full_name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Role
    password: Annotated[str, Field(min_length=10, max_length=1024)]
    pin: Annotated[str, Field(pattern=r"^[0-9]{4,8}$")] | None = None
    sites: list[Annotated[str, Field(min_length=1, max_length=63)]] = Field(
        default_factory=list, max_length=100, description="codes of the sites they belong to"
    )


class PersonOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: str
    has_pin: bool
    created_at: datetime
    sites: list[str] = Field(description="codes of the sites they belong to")


class RoleIn(BaseModel):
    role: Role | Literal["disabled"]


class SecretIn(BaseModel):
    value: Annotated[str, Field(min_length=4, max_length=1024)]
    current_password: Annotated[str, Field(min_length=1, max_length=1024)] | None = Field(
        None, description="your password now: needed to change your own password or PIN"
    )


class MembershipIn(BaseModel):
    site: Annotated[str, Field(min_length=1, max_length=63, description="site code")]
    member: bool = Field(True, description="true: belongs there from now; false: no longer")
    reason: Annotated[str, Field(max_length=500)] = ""


class SiteSettingsIn(BaseModel):
    allow_pin_login: bool = False
    backdate_limit_hours: Annotated[float, Field(ge=0, le=744)] = 24


class SiteOut(BaseModel):
    id: int
    code: str
    name: str
    timezone: str
    state: str | None
    category: str | None
    allow_pin_login: bool
    backdate_limit_hours: float


def _person_error(exc: PersonError) -> Exception:
    return invalid(exc.field, exc.reason)


@router.post("/people", status_code=201, response_model=PersonOut)
async def add_person(
    body: PersonIn,
    user: Annotated[Principal, Depends(acting("people.create"))],
    request: Request,
) -> object:
    """Add a person, with the sites they belong to (admin only)."""
    try:
        async with transaction(request, user) as conn:
            person_id = await create_person(
                conn,
                user.actor,
                body.username,
                body.full_name,
                body.role,
                body.password,
                body.pin,
                await site_ids(conn, body.sites),
            )
            person = await get_person(conn, person_id)
    except PersonError as exc:
        raise _person_error(exc) from None
    return json_response(person, 201)


@router.get("/people", response_model=list[PersonOut])
async def people(
    user: Annotated[Principal, Depends(acting("people.read"))], request: Request
) -> object:
    async with transaction(request, user) as conn:
        return json_response(await list_people(conn))


@router.get("/people/{person_id}", response_model=PersonOut, responses={404: {}})
async def person(
    person_id: Id, user: Annotated[Principal, Depends(acting("people.read"))], request: Request
) -> object:
    async with transaction(request, user) as conn:
        found = await get_person(conn, person_id)
    if found is None:
        raise not_found("person", person_id)
    return json_response(found)


@router.post("/people/{person_id}/role", response_model=PersonOut, responses={404: {}})
async def change_role(
    person_id: Id,
    body: RoleIn,
    user: Annotated[Principal, Depends(acting("people.role"))],
    request: Request,
) -> object:
    """Change a person's role (admin only, and not their own, in a password session):
    appended, audited with the old and new role, and the person's sessions end."""
    async with transaction(request, user) as conn:
        if await get_person(conn, person_id) is None:
            raise not_found("person", person_id)
        why = decide(user, "people.role", owner=person_id)
        if why:
            raise Denied(why, "person", person_id)
        await set_role(conn, user.actor, person_id, body.role)
        return json_response(await get_person(conn, person_id))


@router.post("/people/{person_id}/sites", response_model=PersonOut, responses={404: {}, 422: {}})
async def change_sites(
    person_id: int,
    body: MembershipIn,
    user: Annotated[Principal, Depends(acting("people.sites"))],
    request: Request,
) -> object:
    """A person joins a site (``member``: true) or leaves it (admin only): appended and
    audited. A person acts at the sites they belong to; an admin everywhere."""
    async with transaction(request, user) as conn:
        if await get_person(conn, person_id) is None:
            raise not_found("person", person_id)
        site_id = await site_id_for(conn, body.site)
        await set_member(conn, user.actor, person_id, site_id, body.member, body.reason)
        return json_response(await get_person(conn, person_id))


@router.post("/people/{person_id}/{kind}", status_code=204, responses={404: {}, 403: {}, 429: {}})
async def set_credential(
    person_id: Id,
    kind: Literal["password", "pin"],
    body: SecretIn,
    user: Annotated[Principal, Depends(acting("people.credentials"))],
    request: Request,
) -> None:
    """Set a password or PIN: your own, giving your current password, or anyone's if you
    are an admin; never from a PIN session. The person's other sessions end."""
    async with transaction(request, user) as conn:
        if await get_person(conn, person_id) is None:
            raise not_found("person", person_id)
        why = decide(user, "people.credentials", owner=person_id)
        if why:
            raise Denied(why, "person", person_id)
    if person_id == user.id:
        if body.current_password is None:
            raise invalid("current_password", f"give your current password to change your {kind}")
        await confirm_password(
            request,
            user,
            body.current_password,
            f"the current password does not match; the {kind} is not changed",
        )
    keep = user.session_id if person_id == user.id else None
    try:
        async with transaction(request, user) as conn:
            await set_secret(conn, user.actor, person_id, kind, body.value, keep)
    except PersonError as exc:
        raise invalid("value", exc.reason) from None


_SITE_SQL = """
SELECT s.id, s.code, s.name, s.timezone, s.state, s.category,
       coalesce(l.allow_pin_login, false),
       extract(epoch FROM coalesce(l.backdate_limit, interval '24 hours')) / 3600
FROM sites s
LEFT JOIN LATERAL (SELECT allow_pin_login, backdate_limit FROM site_logbook_settings
                   WHERE site_id = s.id ORDER BY id DESC LIMIT 1) l ON true
"""


def _site(row: tuple[object, ...]) -> dict[str, object]:
    keys = (
        "id",
        "code",
        "name",
        "timezone",
        "state",
        "category",
        "allow_pin_login",
        "backdate_limit_hours",
    )
    return dict(zip(keys, row, strict=True))


@router.get("/sites", response_model=list[SiteOut], tags=["sites"])
async def sites(
    user: Annotated[Principal, Depends(acting("sites.read"))], request: Request
) -> object:
    async with transaction(request, user) as conn:
        cur = await conn.execute(_SITE_SQL + " ORDER BY s.code")
        return json_response([_site(r) for r in await cur.fetchall()])


@router.post(
    "/sites/{code}/logbook-settings", response_model=SiteOut, tags=["sites"], responses={404: {}}
)
async def site_settings(
    code: str,
    body: SiteSettingsIn,
    user: Annotated[Principal, Depends(acting("sites.settings"))],
    request: Request,
) -> object:
    """PIN login and how far back an entry's occurred_at may be (chief operator or admin)."""
    async with transaction(request, user) as conn:
        cur = await conn.execute("SELECT id FROM sites WHERE code = %s", (code,))
        found = await cur.fetchone()
        if found is None:
            raise not_found("site", code)
        site_id = found[0]
        require(user, "sites.settings", site_id)
        limit = timedelta(hours=body.backdate_limit_hours)
        await set_logbook_settings(
            conn, user.actor, site_id, body.allow_pin_login, body.model_dump(), limit
        )
        cur = await conn.execute(_SITE_SQL + " WHERE s.id = %s", (site_id,))
        row = await cur.fetchone()
    assert row is not None
    return json_response(_site(row))
