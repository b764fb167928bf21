"""A site's logbook settings: PIN login at its floor terminals, and how far back an
entry's occurred_at may be. The newest row is in force."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg

from logbook import audit
from logbook.store import DEFAULT_BACKDATE_LIMIT


async def set_logbook_settings(
    conn: psycopg.AsyncConnection[Any],
    actor: audit.Actor,
    site_id: int,
    allow_pin_login: bool,
    detail: dict[str, Any],
    backdate_limit: timedelta = DEFAULT_BACKDATE_LIMIT,
) -> None:
    """Appends the site's settings; ``detail`` is what the audit log records of it."""
    await conn.execute(
        "INSERT INTO site_logbook_settings (site_id, allow_pin_login, backdate_limit, set_by)"
        " VALUES (%s, %s, %s, %s)",
        (site_id, allow_pin_login, backdate_limit, actor.id),
    )
    await audit.append(conn, actor, "site.logbook_settings", "site", site_id, site_id, detail)
