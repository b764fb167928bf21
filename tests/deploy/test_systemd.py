"""The systemd units in deploy/systemd/ as deploy/install.sh lays them out: systemd's own
``systemd-analyze verify`` finds nothing to say about them, and each runs as the
clearwell user with the environment file, restarts on failure and is hardened."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = ("clearwell-web.service", "clearwell-ingest@.service", "clearwell-stamp.service")
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "CapabilityBoundingSet": "",
    "RestrictSUIDSGID": "yes",
    "SystemCallArchitectures": "native",
}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the destdir install.sh laid the files out in, its prefix), the prefix's
    clearwell being this checkout's."""
    tmp = tmp_path_factory.mktemp("install")
    prefix = tmp / "srv" / "cw"
    (prefix / "venv" / "bin").mkdir(parents=True)
    (prefix / "venv" / "bin" / "clearwell").symlink_to(Path(sys.executable).parent / "clearwell")
    root = tmp / "root"
    done = subprocess.run(
        [
            "sh",
            str(REPO / "deploy" / "install.sh"),
            "--destdir",
            str(root),
            "--prefix",
            str(prefix),
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return root, prefix


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


def test_systemd_analyze_verify_passes_on_every_unit(installed, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    root, _ = installed
    folder = root / "etc" / "systemd" / "system"
    # A template is verified as an instance of it.
    instance = tmp_path / "clearwell-ingest@plant.service"
    instance.write_text((folder / "clearwell-ingest@.service").read_text())
    paths = [folder / "clearwell-web.service", folder / "clearwell-stamp.service",
             folder / "clearwell-stamp.timer", instance]  # fmt: skip
    done = subprocess.run(
        ["systemd-analyze", "verify", *map(str, paths)], capture_output=True, text=True
    )
    # verify exits 0 on warnings (an unknown key, a value it ignores): they fail here too.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_verify_would_catch_a_broken_unit(installed, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    root, _ = installed
    text = (root / "etc" / "systemd" / "system" / "clearwell-web.service").read_text()
    broken = tmp_path / "clearwell-broken.service"
    broken.write_text(text.replace("ProtectSystem=strict", "ProtectSystem=stricter"))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True
    )
    assert "protect system value, ignoring: stricter" in done.stderr


@pytest.mark.parametrize("name", UNITS)
def test_each_service_runs_as_clearwell_with_its_settings_and_is_hardened(installed, name):
    root, prefix = installed
    service = _unit(root / "etc" / "systemd" / "system" / name)["Service"]
    assert service["User"] == "clearwell"
    assert service["EnvironmentFile"] == "/etc/clearwell/clearwell.env"
    assert service["StateDirectory"] == "clearwell"
    assert service["Environment"] == "CLEARWELL_DATA_DIR=/var/lib/clearwell"
    assert service["ExecStart"].startswith(f"{prefix}/venv/bin/clearwell ")
    if service["Type"] != "oneshot":
        assert service["Restart"] == "on-failure"
    for key, value in HARDENING.items():
        assert service[key] == value, key
    assert "StandardOutput" not in service  # the journal, systemd's default


def test_install_lays_out_the_settings_and_the_command(installed):
    root, prefix = installed
    env = (root / "etc" / "clearwell" / "clearwell.env").read_text()
    assert (
        "CLEARWELL_DATABASE_URL=postgresql://clearwell@/clearwell?host=/var/run/postgresql" in env
    )
    command = (root / "usr" / "local" / "bin" / "clearwell").read_text()
    assert f"{prefix}/venv/bin/clearwell" in command and "/opt/clearwell" not in command


def test_the_environment_file_example_is_valid_settings(monkeypatch):
    from clearwell.settings import load_settings

    for line in (REPO / "deploy" / "clearwell.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.database_dsn.endswith("?host=/var/run/postgresql")
