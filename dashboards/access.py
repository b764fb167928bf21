"""Who may read plant data through the dashboards' endpoints.

Open for now: the logbook's sessions (``logbook.auth.deps.CurrentUser``) are
being built beside this. Every read endpoint and page of the dashboards depends
on :func:`read_access` and nothing else, so requiring a login later is a change
to this one function.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request


async def read_access(request: Request) -> None:
    """Allows every request (no authentication yet)."""
    return None


ReadAccess = Annotated[None, Depends(read_access)]
