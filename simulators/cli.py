"""``clearwell simulate``: run the plant simulator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from clearwell.errors import ClearwellError

log = logging.getLogger("clearwell.simulators")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)


def simulate(
    modbus_port: Annotated[
        int | None, typer.Option(help="Modbus TCP port (default: the map's; 0 = any free)")
    ] = None,
    opcua_port: Annotated[
        int | None, typer.Option(help="OPC UA port (default: the map's; 0 = any free)")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the plant's randomness")] = 1,
    speed: Annotated[
        float, typer.Option(help="Plant seconds per real second (0 stops the clock)")
    ] = 1.0,
    start: Annotated[
        str | None, typer.Option(help="Plant start time, ISO 8601 (default: now)")
    ] = None,
    faults: Annotated[
        list[str] | None,
        typer.Option(
            "--faults",
            help="Faults in force from the start, kind:target[=value], comma-separated or "
            "repeated; e.g. exception:plc-liftstation=busy,stall:plc-process=3",
        ),
    ] = None,
    no_modbus: Annotated[bool, typer.Option("--no-modbus", help="Do not serve Modbus")] = False,
    no_opcua: Annotated[bool, typer.Option("--no-opcua", help="Do not serve OPC UA")] = False,
    map_file: Annotated[
        Path | None, typer.Option("--map", help="Address map (default: the demo plant's)")
    ] = None,
    synthetic: Annotated[
        str | None,
        typer.Option(help="Serve a synthetic load-test plant instead: DEVICESxTAGS, e.g. 10x200"),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    admin_port: Annotated[
        int | None, typer.Option(help="Port of the HTTP/JSON fault admin API (off by default)")
    ] = None,
    opcua_user: Annotated[
        list[str] | None,
        typer.Option(help="OPC UA login NAME:PASSWORD, repeatable (default operator:operator)"),
    ] = None,
    no_anonymous: Annotated[
        bool, typer.Option("--no-anonymous", help="Refuse anonymous OPC UA sessions")
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where the OPC UA certificate is kept (default $CLEARWELL_DATA_DIR/simulator)"
        ),
    ] = None,
) -> None:
    """Run the demo plant as a Modbus TCP and OPC UA server until Ctrl-C."""
    from simulators.faults import parse_faults
    from simulators.runtime import PlantSimulator, parse_users, utc_now_seconds

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("pymodbus", "asyncua"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if no_modbus and no_opcua:
        raise ClearwellError("--no-modbus and --no-opcua together leave nothing to serve")
    begin = _parse_start(start) if start else utc_now_seconds()
    specs = list(faults or [])
    users = parse_users(opcua_user) if opcua_user else None
    model = None
    if synthetic:
        from simulators.synthetic import parse_size, synthetic_plant

        n_devices, n_tags = parse_size(synthetic)
        plant_map, model = synthetic_plant(
            n_devices,
            n_tags,
            seed=seed,
            start=begin,
            modbus_port=modbus_port or 5020,
            opcua_port=opcua_port or 4840,
        )
    else:
        from simulators.address_map import DEFAULT_MAP, load_map
        from simulators.model.plant import VARIABLES

        plant_map = load_map(map_file or DEFAULT_MAP, known_tags=[v.name for v in VARIABLES])
        parse_faults(specs, [d.name for d in plant_map.devices], [t.name for t in plant_map.tags])
    sim = PlantSimulator(
        plant_map=plant_map,
        model=model,
        seed=seed,
        start=begin,
        speed=speed,
        host=host,
        modbus=not no_modbus,
        opcua=not no_opcua,
        modbus_port=modbus_port,
        opcua_port=opcua_port,
        admin_port=admin_port,
        faults=specs,
        data_dir=data_dir,
        users=users,
        allow_anonymous=not no_anonymous,
    )
    asyncio.run(_run_until_signal(sim))


async def _run_until_signal(sim: object) -> None:
    from simulators.runtime import PlantSimulator

    assert isinstance(sim, PlantSimulator)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with sim:
        log.info(
            "plant %s running at %gx from %s; Ctrl-C stops",
            sim.plant_map.site.code,
            sim.speed,
            sim.time.isoformat(),
        )
        await stop.wait()
        log.info("stopping")
    log.info("simulator stopped")


def _parse_start(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ClearwellError(
            f"--start {text!r}: expected ISO 8601, e.g. 2026-01-01T00:00:00Z"
        ) from None
    if value.tzinfo is None:
        raise ClearwellError(f"--start {text!r}: give a UTC offset, e.g. 2026-01-01T00:00:00Z")
    return value
