"""Property-based requests to the real app from its OpenAPI document: schemathesis' own
runner (``schemathesis run``: its coverage phase's boundary and invalid values, and its
generated ones) as one role or as no one, and what it found, from its NDJSON report.

Checked in every answer: no server error, the body as the document declares it for
that status, the content type declared. Shared by the test in ``make test`` (a few
examples an operation) and ``bench fuzz`` (many).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from logbook import audit
from logbook.people import create_person
from tests.support.api import PASSWORDS

ROLES: tuple[str | None, ...] = ("admin", "chief", "operator", "trainee", "regulator", None)
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"
# Whose password, PIN and role the people routes may change (fuzz_hooks sends them
# there): the run's own logins must keep working.
VICTIM = ("fuzzvictim", "Fuzz Victim", "operator", "fuzz-victim-pass", "9753")
VICTIM_ENV = "CLEARWELL_FUZZ_VICTIM"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Report:
    role: str | None
    exit_code: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    output: str = ""

    def line(self) -> str:
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        server_errors = sum(v for k, v in self.statuses.items() if k >= 500)
        return (
            f"{self.role or 'anonymous'}: {self.requests} requests ({codes}),"
            f" {server_errors} server errors, {len(self.failures)} failed checks"
        )


async def seed_victim(db_url: str) -> int:
    async with await psycopg.AsyncConnection.connect(db_url) as conn, conn.transaction():
        return await create_person(conn, audit.SYSTEM, *VICTIM)


def tokens(base: str, roles: list[str | None]) -> dict[str | None, str | None]:
    """Each role's session, all opened before any run: a run fuzzes the login route, and
    the wrong passwords it sends count against this address."""
    found: dict[str | None, str | None] = {None: None}
    for role in roles:
        if role is not None:
            r = httpx.post(
                f"{base}/api/auth/login",
                json={"username": role, "password": PASSWORDS[role]},
                timeout=30,
            )
            r.raise_for_status()
            found[role] = str(r.json()["token"])
    return found


def schema_file(base: str, workdir: Path) -> Path:
    """The app's OpenAPI document, fetched once with time to spare: schemathesis' own
    loader gives up after 10 s, which a loaded machine can take to make it."""
    path = workdir / "openapi.json"
    r = httpx.get(f"{base}/openapi.json", timeout=120)
    r.raise_for_status()
    path.write_bytes(r.content)
    return path


def run(
    base: str,
    role: str | None,
    token: str | None,
    victim_id: int,
    workdir: Path,
    *,
    examples: int,
    max_time: int | None = None,
    phases: str = "coverage,fuzzing",
    seed: int = 17,
    workers: int = 2,
) -> Report:
    """One ``schemathesis run`` as ``role`` with its session ``token`` (None: anonymous).
    The logout route is left to the anonymous run: it would end the role's session."""
    ndjson = workdir / f"{role or 'anonymous'}.ndjson"
    cmd = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        str(schema_file(base, workdir)),
        f"--url={base}",
        f"--phases={phases}",
        f"--max-examples={examples}",
        f"--seed={seed}",
        f"--workers={workers}",
        f"--checks={CHECKS}",
        "--no-shrink",
        "--max-redirects=0",
        "--generation-database=none",
        "--request-timeout=60",
        "--no-color",
        "--report=ndjson",
        f"--report-ndjson-path={ndjson}",
    ]
    if max_time:
        cmd.append(f"--max-time={max_time}")
    if token is not None:
        cmd += ["--exclude-path=/api/auth/logout", "-H", f"Authorization: Bearer {token}"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "SCHEMATHESIS_HOOKS": "tests.support.fuzz_hooks",
        VICTIM_ENV: str(victim_id),
    }
    done = subprocess.run(cmd, env=env, cwd=workdir, capture_output=True, text=True)
    report = Report(role, done.returncode, output=done.stdout + done.stderr)
    if ndjson.exists():
        read_ndjson(ndjson, report)
    return report


def read_ndjson(path: Path, report: Report) -> None:
    """Answers and failed checks from schemathesis' NDJSON events."""
    for line in path.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if finished is None:
            continue
        recorder = finished["recorder"]
        for interaction in recorder.get("interactions", {}).values():
            response = interaction.get("response")
            report.requests += 1
            report.statuses[response["status_code"] if response else 0] += 1
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check.get("status") != "failure":
                    continue
                failure = check["failure_info"]["failure"]
                case = recorder["cases"].get(case_id, {}).get("value", {})
                report.failures.append(
                    f"{failure['operation']}: {failure['title']}: {failure['message'][:300]}"
                    f" (case {json.dumps(case, default=str)[:300]})"
                )
