"""The access matrix (``clearwell.access``) asked over HTTP: the dependency with which every
route names its action, and the check of a site once the route knows it.

``acting(name)`` finds who asks (the logbook's sessions, through ``clearwell.hooks``: a
401 without one) and refuses, as an audited 403, a role the matrix lets take the action
nowhere, or a PIN session where a password one is needed. The route then asks
``authorize`` at the site it reads or writes, or, inside its transaction
(``clearwell.web.transaction``), ``require``, whose refusal is audited once the work is
rolled back (the logbook's write layer does so); a listing reads only the sites
``access.sites_for`` gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request

from clearwell import access, hooks
from clearwell.web import Denied


class Acting:
    """A route's dependency naming its action (``action``, which the tests that call every
    route for every role read); it answers the person asking."""

    def __init__(self, action: str) -> None:
        access.action(action)  # a name the matrix does not hold fails at assembly
        self.action = action

    async def person(self, request: Request) -> Any:
        return await hooks.current_user()(request)

    async def __call__(self, request: Request) -> Any:
        user = await self.person(request)
        why = access.may_at_all(user, self.action)
        if why is not None:
            raise await hooks.request_denied()(request, user, why, None, None, None)
        return user


def acting(action: str) -> Acting:
    return Acting(action)


async def authorize(
    request: Request,
    user: Any,
    action: str,
    at: int | Iterable[int] | None = None,
    owner: int | None = None,
    subject: str | None = None,
    subject_id: object = None,
) -> None:
    """Refuses (an audited 403, outside a transaction) what :func:`require` refuses."""
    try:
        require(user, action, at, owner, subject, subject_id)
    except Denied as exc:
        audited = hooks.request_denied()
        raise await audited(
            request, user, exc.reason, exc.subject, exc.subject_id, exc.site_id
        ) from None


def require(
    user: Any,
    action: str,
    at: int | Iterable[int] | None = None,
    owner: int | None = None,
    subject: str | None = None,
    subject_id: object = None,
) -> None:
    """Raises ``Denied`` (an audited 403, inside ``clearwell.web.transaction``) for what
    ``access.decide`` refuses; see there for ``at`` and ``owner``."""
    why = access.decide(user, action, at, owner)
    if why is not None:
        site = at if isinstance(at, int) else None
        if subject is None and site is not None:
            subject, subject_id = "site", site
        raise Denied(why, subject, subject_id, site)
