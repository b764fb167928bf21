"""``clearwell demo``: its command, seeders and services, named in one place."""

from __future__ import annotations

import typer

from demo import steps
from demo.cli import register


def test_the_demo_command_is_registered() -> None:
    app = typer.Typer()
    register(app)
    assert [c.name for c in app.registered_commands] == ["demo"]


def test_the_demo_seeds_people_before_the_records_that_name_them() -> None:
    names = [name for name, _ in steps.SEEDERS]
    assert names.index("logbook: demo site and people") < names.index(
        "compliance: demo profile and certificates"
    )


def test_the_demo_writes_its_history_once_the_people_and_the_site_file_are_there() -> None:
    names = [name for name, _ in steps.SEEDERS]
    assert names[-1] == "the plant's history"


def test_the_demo_runs_the_plant_its_collectors_and_the_stamping_pass() -> None:
    # The collectors start inside the simulator's service, once it listens
    # (test_plant_start).
    assert [name for name, _ in steps.SERVICES] == [
        "simulator, then its collectors",
        "compliance-stamps",
    ]


def test_no_package_registers_itself_into_another_modules_globals() -> None:
    from clearwell import cli

    assert not hasattr(cli, "DEMO_SERVICES") and not hasattr(cli, "DEMO_SEEDERS")
