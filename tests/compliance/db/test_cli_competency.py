"""`clearwell compliance level add|list` and `policy show|set FILE`, run as a real
subprocess against a database with the demo people."""

from __future__ import annotations

import json
from pathlib import Path

from tests.compliance.db.helpers import SITE, audit_actions, run_cli
from tests.support.api import Api


async def test_levels_from_the_command_line(api: Api) -> None:
    url = api.db_url
    result = run_cli(
        "compliance", "level", "add", "--facility", SITE, "--person", "operator",
        "--level", "proficient", "--assessor", "chief", "--assessed-on", "2024-01-01",
        "--note", "annual review", db_url=url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("recorded assessment ")
    assert "Oli Operator (demo) proficient from 2024-01-01 (assessed by Casey Chief (demo))" in (
        result.stdout
    )
    first = int(result.stdout.split()[2].rstrip(":"))
    result = run_cli(
        "compliance", "level", "add", "--facility", SITE, "--person", str(await api.id("operator")),
        "--level", "developing", "--assessor", "chief", "--assessed-on", "2024-01-01",
        "--supersedes", str(first), db_url=url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    result = run_cli("compliance", "level", "list", "--facility", SITE, db_url=url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum("Oli Operator (demo)" in line for line in lines) == 2  # the row and today
    assert "developing" in lines[0] and f"corrects {first}" in lines[0]
    result = run_cli(
        "compliance", "level", "list", "--facility", SITE, "--all-versions", db_url=url
    )
    assert "(superseded)" in result.stdout

    for args, says in (
        (("--level", "expert"), "level: Input should be"),
        (("--level", "proficient", "--assessed-on", "2999-01-01"), "assessed_on: is after today"),
    ):
        result = run_cli(
            "compliance", "level", "add", "--facility", SITE, "--person", "trainee",
            "--assessor", "chief", *args, db_url=url,
        )  # fmt: skip
        assert result.returncode == 1
        assert says in result.stderr and "Traceback" not in result.stderr
    result = run_cli(
        "compliance", "level", "add", "--facility", SITE, "--person", "nobody",
        "--level", "emerging", "--assessor", "chief", db_url=url,
    )  # fmt: skip
    assert result.returncode == 1 and "--person: no person" in result.stderr
    assert [a for a in audit_actions(url) if a[0] == "compliance.level_add"] == [
        ("compliance.level_add", "cli")
    ] * 2


async def test_policy_from_the_command_line(api: Api, tmp_path: Path) -> None:
    url = api.db_url
    result = run_cli("compliance", "policy", "show", "--facility", SITE, db_url=url)
    assert result.returncode == 0, result.stderr
    assert "competency policy, the default (a site policy, not a rule)" in result.stdout
    assert "sample" in result.stdout and "below it: direct" in result.stdout

    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"reading": {"unsupervised_from": "emerging"}}))
    result = run_cli(
        "compliance", "policy", "set", str(policy), "--facility", SITE, "--note", "readings",
        db_url=url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    reading = next(line for line in result.stdout.splitlines() if " reading " in line)
    assert reading.startswith(" * ") and "unsupervised from emerging" in reading
    result = run_cli("compliance", "policy", "show", "--facility", SITE, "--json", db_url=url)
    body = json.loads(result.stdout)
    assert body["current"]["kinds"] == {
        "reading": {"unsupervised_from": "emerging", "below": "verify"}
    }
    assert body["current"]["note"] == "readings"

    policy.write_text(json.dumps({"readin": {"below": "verify"}}))
    result = run_cli("compliance", "policy", "set", str(policy), "--facility", SITE, db_url=url)
    assert result.returncode == 1
    assert "kinds.readin: unknown entry kind 'readin'" in result.stderr
    assert f"(in {policy})" in result.stderr
    policy.write_text(json.dumps({"reading": {"below": "sometimes"}}))
    result = run_cli("compliance", "policy", "set", str(policy), "--facility", SITE, db_url=url)
    assert result.returncode == 1 and "kinds.reading.below: Input should be" in result.stderr
    result = run_cli("compliance", "policy", "show", "--facility", "nowhere", db_url=url)
    assert result.returncode == 1 and "--facility: no facility" in result.stderr
    assert [a for a in audit_actions(url) if a[0] == "compliance.policy_set"] == [
        ("compliance.policy_set", "cli")
    ]
