"""The simulators package in the clearwell command and in ``clearwell demo``."""

from __future__ import annotations


def test_register_adds_simulate_and_a_demo_service():
    import typer

    from clearwell import cli
    from simulators.cli import demo_service, register

    app = typer.Typer()
    before = list(cli.DEMO_SERVICES)
    try:
        register(app)
        assert [c.name for c in app.registered_commands] == ["simulate"]
        assert ("simulator", demo_service) in cli.DEMO_SERVICES
    finally:
        cli.DEMO_SERVICES[:] = before
