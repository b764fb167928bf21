"""The whole API fuzzed at length: schemathesis from the OpenAPI document, as each role and
as no one, against the app served by uvicorn on a scratch database with the demo site and
people (on the server ``CLEARWELL_DATABASE_URL`` names, else a throwaway local cluster).

The test in ``make test`` (tests/core/test_api_fuzz.py) runs the same with a few
examples an operation; this runs many. What counts: server errors (must be 0) and failed
checks (the body and the content type the document declares), per role and in all.

    .venv/bin/python -m bench fuzz [--examples N] [--max-time S] [--roles a,b,...]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg
from argon2 import PasswordHasher

from bench.scratch import scratch_database
from clearwell.migrate import migrate
from logbook.auth import secrets
from tests.support import fuzz
from tests.support.api import seed_people
from tests.support.serve import serve_in_process

# Seconds, and no figure that means anything (tests/bench/test_smoke.py).
SMOKE_ARGS = ("--examples", "1", "--max-time", "10", "--roles", "anonymous")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench fuzz")
    parser.add_argument("--examples", type=int, default=100, help="per operation")
    parser.add_argument("--max-time", type=int, default=None, help="seconds per role")
    parser.add_argument("--roles", default=",".join(r or "anonymous" for r in fuzz.ROLES))
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    roles = [None if r == "anonymous" else r for r in args.roles.split(",")]
    started = time.monotonic()
    with scratch_database("fuzz") as (url, where):
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        # Cheap hashes: logins are not what is measured; verifying reads the parameters
        # from the stored hash, so the server checks these too.
        secrets.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        asyncio.run(seed_people(url))
        victim = asyncio.run(fuzz.seed_victim(url))
        print(f"database: {where}")
        print(f"examples per operation {args.examples}, seed {args.seed}, max time {args.max_time}")
        reports = []
        with tempfile.TemporaryDirectory() as tmp, serve_in_process(url, data_dir=tmp) as base:
            sessions = fuzz.tokens(base, roles)
            for role in roles:
                report = fuzz.run(
                    base,
                    role,
                    sessions[role],
                    victim,
                    Path(tmp),
                    examples=args.examples,
                    max_time=args.max_time,
                    seed=args.seed,
                )
                reports.append(report)
                print(report.line(), flush=True)
                for failure in report.failures[:20]:
                    print(f"    {failure}")
    statuses: Counter[int] = Counter()
    for r in reports:
        statuses.update(r.statuses)
    total = sum(statuses.values())
    errors = sum(v for k, v in statuses.items() if k >= 500)
    failed = sum(len(r.failures) for r in reports)
    elapsed = time.monotonic() - started
    print(f"total: {total:,} requests, {errors} server errors, {failed} failed checks")
    print(f"in {elapsed:.0f} s ({total / max(elapsed, 1):.0f} requests/s)")
    return 0
