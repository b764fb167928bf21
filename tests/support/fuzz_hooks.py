"""schemathesis hooks for ``tests.support.fuzz`` (loaded by name through
``SCHEMATHESIS_HOOKS``): the people routes act on the run's victim, whose password, PIN
and role may change, never on the people the run is logged in as."""

from __future__ import annotations

import os
from typing import Any

import schemathesis

from tests.support.fuzz import VICTIM_ENV


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.operation.path.startswith("/api/people/{person_id}"):
        case.path_parameters = {**(case.path_parameters or {}), "person_id": os.environ[VICTIM_ENV]}
