"""Who may do what, where: the role x action x site matrix, as data, and the one decision
every route's check comes to. Pure, no I/O.

It is in the core because every package's routers ask it (the logbook's, compliance's,
the dashboards' pages and downloads), and because, like ``hooks`` and
``app.ROUTER_MODULES``, it is the one place that names what every package does: who may
do what is read in one table, not gathered from the role lists of a dozen routers. A
route names its action (``clearwell.authorize.acting``); where it learns the site (a path,
a query, a body, the record it loads), it asks :func:`decide` for that site, and a listing
reads only the sites :func:`sites_for` gives. ``tests/core/test_access_matrix.py`` calls
every route of the app for every role at a site of theirs and at another, and compares
each answer with this table; a route that names no action fails it.

A cell says where a role may take an action:

- ``-``: nowhere;
- ``member``: at the sites the person belongs to (``logbook.memberships``); a PIN session,
  opened on a floor terminal, only at that terminal's site;
- ``any``: at every site;
- ``own@member``: only about themselves (their own record, their own departure), at their
  sites; ``others@member``, ``others@any``: only about someone else.

An action at no site (people, one's own session) has ``yes``, ``own`` or ``others``. An
action about a person rather than a place (their certificates, training) is at the sites
that person belongs to: a chief operator may record one for someone who shares a site
with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

ROLES = ("operator", "trainee", "chief_operator", "admin", "regulator")
ROLE_WORDS = {
    "operator": "an operator",
    "trainee": "a trainee",
    "chief_operator": "a chief operator",
    "admin": "an admin",
    "regulator": "a regulator",
}

# action: (what it is, in words after "may"; then the cell of each role in ROLES' order:
#          operator, trainee, chief_operator, admin, regulator)
MATRIX: dict[str, tuple[str, str, str, str, str, str]] = {
    # the logbook: sessions, people and sites (at no site)
    "session.own": ("use their own session", "yes", "yes", "yes", "yes", "yes"),
    "people.read": ("read the list of people", "yes", "yes", "yes", "yes", "yes"),
    "people.create": ("add a person", "-", "-", "-", "yes", "-"),
    "people.role": ("change a person's role", "-", "-", "-", "others", "-"),
    "people.credentials": ("set a password or PIN", "own", "own", "own", "yes", "own"),
    "people.sites": ("change the sites a person belongs to", "-", "-", "-", "yes", "-"),
    "sites.read": ("read the list of sites", "yes", "yes", "yes", "yes", "yes"),
    "audit.verify": ("check the audit chain", "-", "-", "yes", "yes", "yes"),
    # the logbook at a site
    "sites.settings": ("set a site's logbook settings", "-", "-", "member", "any", "-"),
    "shift.read": ("read shifts", "member", "member", "member", "any", "member"),
    "shift.open": ("open a shift", "member", "-", "member", "any", "-"),
    "shift.close": ("close a shift", "member", "-", "member", "any", "-"),
    "shift.sign": ("sign a shift", "member", "-", "member", "-", "-"),
    "crew.add": ("add a person to a shift's crew", "member", "-", "member", "any", "-"),
    "crew.designate_drc": ("designate the DRC", "-", "-", "member", "any", "-"),
    "crew.departure": (
        "record a crew member's departure",
        "member",
        "own@member",
        "member",
        "any",
        "-",
    ),
    "handoff.write": ("write a handoff note", "member", "-", "member", "any", "-"),
    "handoff.acknowledge": ("acknowledge a handoff note", "member", "-", "member", "any", "-"),
    "entry.read": ("read entries", "member", "member", "member", "any", "member"),
    "entry.create": ("record an entry", "member", "member", "member", "any", "-"),
    "entry.countersign": ("countersign an entry", "member", "-", "member", "-", "-"),
    "sample.read": ("read samples and results", "member", "member", "member", "any", "member"),
    "sample.create": (
        "record a sample, its custody or results",
        "member",
        "member",
        "member",
        "any",
        "-",
    ),
    "sample.countersign": ("verify a sample or result", "member", "-", "member", "-", "-"),
    "amendment.read": ("read amendments", "member", "member", "member", "any", "member"),
    "amendment.create": ("amend a record", "member", "own@member", "member", "any", "-"),
    "audit.read": ("read the audit trail", "-", "-", "member", "any", "member"),
    # compliance
    "coverage.read": ("read a facility's coverage report", "-", "-", "member", "any", "member"),
    "coverage.now": ("read who is in charge now", "member", "member", "member", "any", "member"),
    "expiries.read": (
        "read the certificates and training coming due",
        "-",
        "-",
        "member",
        "any",
        "member",
    ),
    "profile.read": ("read a facility's profile", "member", "member", "member", "any", "member"),
    "profile.write": ("record a facility's profile", "-", "-", "member", "any", "-"),
    "policy.read": (
        "read a facility's competency policy",
        "member",
        "member",
        "member",
        "any",
        "member",
    ),
    "policy.write": ("record a facility's competency policy", "-", "-", "member", "any", "-"),
    "level.read": (
        "read competency levels",
        "own@member",
        "own@member",
        "member",
        "any",
        "member",
    ),
    "level.write": (
        "record a competency level",
        "-",
        "-",
        "others@member",
        "others@any",
        "-",
    ),
    "certificate.read": (
        "read certificates",
        "own@member",
        "own@member",
        "member",
        "any",
        "member",
    ),
    "certificate.write": (
        "record a certificate",
        "-",
        "-",
        "others@member",
        "others@any",
        "-",
    ),
    "training.read": (
        "read training records",
        "own@member",
        "own@member",
        "member",
        "any",
        "member",
    ),
    "training.write": ("record training", "-", "-", "others@member", "others@any", "-"),
    # the dashboards' pages and downloads
    "plant.read": (
        "read a site's tags and readings",
        "member",
        "member",
        "member",
        "any",
        "member",
    ),
    "floor.read": ("use a site's floor terminal", "member", "member", "member", "any", "-"),
    "floor.verify": (
        "host a verification at a site's floor terminal",
        "member",
        "member",
        "member",
        "any",
        "-",
    ),
    "chief.read": ("open the chief operator's page", "-", "-", "member", "any", "-"),
    "records.read": ("open a site's record pages", "-", "-", "member", "any", "member"),
    "exports.read": ("export a site's reports", "-", "-", "member", "any", "member"),
}

# Changing who someone is or what they may do needs a password session: a PIN, four
# digits typed on a shared terminal, must not take over an account (issue 17).
PASSWORD_SESSION_ONLY = frozenset(
    {"people.create", "people.role", "people.credentials", "people.sites", "sites.settings"}
)


class Person(Protocol):
    """Who asks (``logbook.auth.sessions.Principal``): the person, their role, how they
    logged in (a PIN session at ``site_id``) and the sites they belong to."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...

    @property
    def method(self) -> str: ...

    @property
    def site_id(self) -> int | None: ...

    @property
    def sites(self) -> frozenset[int]: ...


@dataclass(frozen=True, slots=True)
class Cell:
    sites: str  # "none" (refused), "member", "any"
    whose: str  # "all", "own" (only about themselves), "others" (only about someone else)


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    what: str
    sited: bool
    cells: dict[str, Cell]

    @property
    def about_a_person(self) -> bool:
        """Whether some role's cell depends on whose record it is."""
        return any(c.whose != "all" for c in self.cells.values())


_SITED = {"member": "member", "any": "any"}
_UNSITED = {"yes": "any"}


def _cell(text: str) -> tuple[Cell, bool | None]:
    """A cell and whether its words are those of an action at a site (None: ``-``)."""
    if text == "-":
        return Cell("none", "all"), None
    whose, _, where = text.rpartition("@")
    if text in ("own", "others"):
        return Cell("any", text), False
    if where in _SITED and whose in ("", "own", "others"):
        return Cell(_SITED[where], whose or "all"), True
    if text in _UNSITED:
        return Cell(_UNSITED[text], "all"), False
    raise ValueError(f"not a cell: {text!r}")


def _actions() -> dict[str, Action]:
    out = {}
    for name, (what, *cells) in MATRIX.items():
        parsed = [_cell(c) for c in cells]
        kinds = {sited for _, sited in parsed if sited is not None}
        if len(kinds) != 1:
            raise ValueError(f"{name}: cells of an action at a site and at none mixed")
        out[name] = Action(
            name, what, kinds.pop(), {r: c for r, (c, _) in zip(ROLES, parsed, strict=True)}
        )
    unknown = PASSWORD_SESSION_ONLY - set(out)
    if unknown:
        raise ValueError(f"PASSWORD_SESSION_ONLY names no action {sorted(unknown)}")
    return out


ACTIONS = _actions()


def action(name: str) -> Action:
    try:
        return ACTIONS[name]
    except KeyError:
        raise ValueError(f"no action {name!r} in clearwell.access.MATRIX") from None


def roles_for(name: str) -> tuple[str, ...]:
    """The roles that may take the action somewhere."""
    return tuple(r for r, c in action(name).cells.items() if c.sites != "none")


def home_sites(person: Person) -> frozenset[int]:
    """The sites the person acts at as a member: theirs, and in a PIN session only the
    terminal's (when it is theirs)."""
    if person.method == "pin":
        return person.sites & {person.site_id} if person.site_id is not None else frozenset()
    return person.sites


def _a(person: Person) -> str:
    return ROLE_WORDS.get(person.role, f"a {person.role}")


def may_at_all(person: Person, name: str) -> str | None:
    """Why the person may not take the action anywhere, or None: the role's cell, and a PIN
    session for what needs a password one. The site is :func:`decide`'s."""
    act = action(name)
    cell = act.cells.get(person.role, Cell("none", "all"))
    if cell.sites == "none":
        return f"{_a(person)} may not {act.what} ({name})"
    if name in PASSWORD_SESSION_ONLY and person.method != "password":
        return f"a PIN session may not {act.what}; log in with a password ({name})"
    return None


def decide(
    person: Person,
    name: str,
    at: int | Iterable[int] | None = None,
    owner: int | None = None,
) -> str | None:
    """Why the person may not take the action, or None if they may.

    ``at``: the site the action is at; for an action about a person, the sites that
    person belongs to (the person may be at several). ``owner``: whom the record or the
    act is about (its author, the crew member, the person certified), where a cell says
    ``own`` or ``others``.
    """
    act = action(name)
    why = may_at_all(person, name)
    if why is not None:
        return why
    cell = act.cells[person.role]
    if act.sited:
        if at is None:
            raise ValueError(f"{name} is an action at a site: say which")
        sites = {at} if isinstance(at, int) else set(at)
        if person.method == "pin" and person.site_id not in sites:
            return f"a PIN session acts only at the site it was opened at ({name})"
        if cell.sites == "member" and not sites & home_sites(person):
            return f"{_a(person)} may {act.what} only at the sites they belong to ({name})"
    elif at is not None:
        raise ValueError(f"{name} is an action at no site")
    if cell.whose != "all":
        if owner is None:
            raise ValueError(f"{name}: whose record it is decides; say whose")
        if cell.whose == "own" and owner != person.id:
            return f"{_a(person)} may {act.what} only about themselves ({name})"
        if cell.whose == "others" and owner == person.id:
            return f"nobody may {act.what} about themselves ({name})"
    return None


def sites_for(person: Person, name: str) -> frozenset[int] | None:
    """The sites at which the person may take the action (a listing shows those): None for
    every site, empty for none."""
    act = action(name)
    if not act.sited:
        raise ValueError(f"{name} is an action at no site")
    if may_at_all(person, name) is not None:
        return frozenset()
    cell = act.cells[person.role]
    if cell.sites == "member":
        return home_sites(person)
    if person.method == "pin":
        return frozenset({person.site_id} if person.site_id is not None else ())
    return None


def only_own(person: Person, name: str) -> bool:
    """Whether the person may take the action only about themselves (a listing shows
    only their own records)."""
    return action(name).cells[person.role].whose == "own"


def markdown() -> str:
    """The matrix as a Markdown table (logbook/README.md shows it; a test keeps the two
    equal)."""
    head = "| action | what | " + " | ".join(r.replace("_", " ") for r in ROLES) + " |"
    rule = "|---|---|" + "---|" * len(ROLES)
    rows = []
    for name, (what, *cells) in MATRIX.items():
        mark = " (password session)" if name in PASSWORD_SESSION_ONLY else ""
        rows.append(f"| `{name}` | {what}{mark} | " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *rows])
