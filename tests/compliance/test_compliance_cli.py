"""`clearwell compliance check` and `classify`, run as a real subprocess."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compliance.builders import cert, member, op, scenario, shift

EXAMPLES = Path(__file__).resolve().parents[2] / "compliance" / "examples"


def clearwell(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearwell.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_prints_json_and_exits_0_with_findings():
    result = clearwell("compliance", "check", str(EXAMPLES / "ut_cedar_valley.json"))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["facility_class"] == "III"
    # UT: whoever holds charge on site holds the class (R317-10-4 I, E; R317-10-6 Table 1).
    assert out["required"] == {
        "drc": "III",
        "chief": "III",
        "assistant_chief": "III",
        "shift_operator": "III",
    }
    assert {f["rule"] for f in out["findings"]} >= {"drc-missing", "drc-unqualified"}
    assert set(out) >= {"coverage", "findings", "entries", "required", "facility_class"}
    assert {f["basis"] for f in out["findings"]} == {"regulation", "site policy"}


def test_check_clean_scenario(tmp_path):
    path = tmp_path / "clean.json"
    path.write_text(
        json.dumps(
            scenario(
                "UT", operators=[op("a", cert("II"))], shifts=[shift("UT", member("a", "drc"))]
            )
        )
    )
    result = clearwell("compliance", "check", str(path), "--indent", "0")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    assert json.loads(result.stdout)["findings"] == []


@pytest.mark.parametrize(
    ("content", "stderr"),
    [
        (
            lambda: {
                **scenario("UT", operators=[op("a")], shifts=[shift("UT", member("a", "captain"))])
            },
            "clearwell: error: $.shifts[0].crew[0].role: must be one of drc, chief, "
            "assistant_chief, shift_operator, operator, trainee (got 'captain') (in {path})",
        ),
        (lambda: "[1, 2", "clearwell: error: {path}: line 1 column 6: not valid JSON"),
        (lambda: [], "clearwell: error: $: must be an object, not a list (in {path})"),
    ],
)
def test_malformed_scenario_is_one_line_and_exit_1(tmp_path, content, stderr):
    path = tmp_path / "bad.json"
    value = content()
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    result = clearwell("compliance", "check", str(path))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(stderr.format(path=path))


def test_missing_file(tmp_path):
    result = clearwell("compliance", "check", str(tmp_path / "nope.json"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"clearwell: error: {tmp_path / 'nope.json'}: no such file"


def test_classify_prints_breakdown_and_class():
    result = clearwell("compliance", "classify", str(EXAMPLES / "ut_cedar_valley.json"))
    assert result.returncode == 0, result.stderr
    assert "15  Activated sludge" in result.stdout
    assert result.stdout.count("Clarifiers") == 1
    assert "73  TOTAL" in result.stdout
    assert "class III" in result.stdout


def test_classify_json_for_a_bare_ny_facility(tmp_path):
    path = tmp_path / "facility.json"
    path.write_text(
        json.dumps(
            {
                "name": "Bend",
                "state": "NY",
                "timezone": "America/New_York",
                "category": "treatment",
                "points": 76,
                "activated_sludge": True,
            }
        )
    )
    result = clearwell("compliance", "classify", "--json", str(path))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["classes"][0]["class"] == "4A"
    assert out["classes"][0]["assistant_shift_operator"] == "3A"


def test_classify_facility_without_state(tmp_path):
    path = tmp_path / "facility.json"
    path.write_text(
        json.dumps({"name": "X", "timezone": "UTC", "category": "treatment", "points": 3})
    )
    result = clearwell("compliance", "classify", str(path))
    assert result.returncode == 1
    assert result.stderr.strip() == f"clearwell: error: $.state: is required (in {path})"


def test_classify_ut_collection_by_population(tmp_path):
    path = tmp_path / "collection.json"
    path.write_text(
        json.dumps(
            {
                "name": "Sage Flats",
                "state": "UT",
                "timezone": "America/Denver",
                "category": "collection",
                "population": 15001,
            }
        )
    )
    result = clearwell("compliance", "classify", str(path))
    assert result.returncode == 0, result.stderr
    assert "Population served  [15,001]" in result.stdout
    assert "class III  [UT R317-10-6 Table 1]" in result.stdout
