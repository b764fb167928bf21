"""``clearwell ingest``: configuration errors reach the terminal as one clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env["CLEARWELL_DATABASE_URL"] = "postgresql://u:p@127.0.0.1:1/x"
    return subprocess.run(
        [sys.executable, "-m", "clearwell.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_bad_configuration_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(
        "site: {code: s, name: S}\nmodbus:\n  devices:\n    - {name: plc, host: h}\ntags:\n"
        "  - {name: a, modbus: {device: plc, register: holding, address: 0, type: float33}}\n"
    )
    result = run_cli("ingest", "--config", str(path))
    assert result.returncode == 1
    assert f"clearwell: error: {path}:6: tags[0].modbus.type: " in result.stderr
    assert "Traceback" not in result.stderr


def test_check_prints_the_plan_of_the_simulator_map() -> None:
    from simulators.address_map import DEFAULT_MAP

    result = run_cli("ingest", "--config", str(DEFAULT_MAP), "--check")
    assert result.returncode == 0, result.stderr
    assert "plc-process" in result.stdout and "holding 0+" in result.stdout
    assert "configuration valid" in result.stdout
