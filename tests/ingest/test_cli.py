"""``clearwell ingest``: configuration errors reach the terminal as one clear message; a
signal stops it gracefully."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.ingest.modbus.libmodbus import Layout, LibmodbusServer, cli_env


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


def test_every_problem_of_a_file_comes_in_one_run_a_repeated_key_among_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(
        "site: {code: s, name: S}\nmodbus:\n  devices:\n    - {name: plc, host: h}\ntags:\n"
        "  - name: a\n"
        "    modbus: {device: plc, register: holding, address: 0}\n"
        "    modbus: {device: plc, register: holding, address: 1}\n"
        "  - {name: b, modbus: {device: plc, register: holding, address: 1}}\n"
        "  - {name: c, modbus: {device: plc, register: input, address: 0, type: float33}}\n"
        "  - {name: b, modbus: {device: nope, register: input, address: 9}}\n"
    )
    result = run_cli("ingest", "--config", str(path), "--check")
    assert result.returncode == 1
    assert result.stderr.splitlines()[1:] == [
        f"  {path}:8: tags[0].modbus: given twice (first on line 7)",
        f"  {path}:9: tags[1].modbus.address: overlaps tag 'a' (plc holding 1-1)",
        f"  {path}:10: tags[2].modbus.type: Input should be 'int16', 'uint16', 'int32',"
        " 'uint32', 'int64', 'float32', 'float64', 'bool' or 'string', got 'float33'",
        f"  {path}:11: tags[3].name: duplicate tag 'b' (first on line 9)",
        f"  {path}:11: tags[3].modbus.device: no Modbus device named 'nope'",
    ], result.stderr
    assert result.stderr.startswith(f"clearwell: error: 5 problems in {path}:")


def test_check_prints_the_plan_of_the_simulator_map() -> None:
    from simulators.address_map import DEFAULT_MAP

    result = run_cli("ingest", "--config", str(DEFAULT_MAP), "--check")
    assert result.returncode == 0, result.stderr
    assert "plc-process" in result.stdout and "holding 0+" in result.stdout
    assert "configuration valid" in result.stdout


def site_yaml(port: int, code: str = "stop", poll_interval_s: float = 0.5) -> str:
    # Two requests a poll: the counter (input 0, counting the reads of it) and holding 100.
    return (
        f"site: {{code: {code}, name: Stop}}\n"
        "modbus:\n  devices:\n"
        f"    - {{name: plc, host: 127.0.0.1, port: {port}, timeout_s: 2,"
        f" poll_interval_s: {poll_interval_s}}}\n"
        "ingest: {flush_interval_s: 0.2, health_interval_s: 1}\n"
        "tags:\n"
        "  - {name: reads, modbus: {device: plc, register: input, address: 0}}\n"
        "  - {name: level, modbus: {device: plc, register: holding, address: 100}}\n"
    )


def stored(db_url: str, name: str) -> list[tuple[float | None, int]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT r.value, r.status FROM readings r JOIN tags t ON t.id = r.tag_id"
            " WHERE t.name = %s ORDER BY r.time",
            (name,),
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


async def test_sigterm_stops_ingest_after_the_poll_in_flight_with_its_readings_stored(
    db_url: str, tmp_path: Path
) -> None:
    sig = signal.SIGTERM
    # Each answer takes 200 ms, so the signal lands while the first request of a poll
    # waits for its answer: that poll is finished and stored, not cut short.
    layout = Layout(delay_ms=200, trace=True).put("holding", 100, [42]).count("input", 0)
    server = LibmodbusServer(layout, tmp_path)
    port = await server.start()
    config = tmp_path / "site.yaml"
    config.write_text(site_yaml(port))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "clearwell.cli",
        "ingest",
        "--config",
        str(config),
        env=cli_env(db_url, tmp_path / "var"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    counted = 0
    try:
        while len(stored(db_url, "reads")) < 2:
            if await server.next_read() == ("input", 0, 1):
                counted += 1
        while await server.next_read() != ("input", 0, 1):
            pass
        counted += 1
        proc.send_signal(sig)
        _, err = await asyncio.wait_for(proc.communicate(), 20)
        # Reads the server received after the signal (the in-flight poll's second one).
        while True:
            try:
                read = await asyncio.wait_for(server.next_read(), 0.5)
            except TimeoutError:
                break
            counted += read == ("input", 0, 1)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await server.stop()
    log = err.decode()
    assert proc.returncode == 0, log
    assert f"{sig.name}: stopping" in log and "stopped" in log
    assert "Traceback" not in log
    # Every poll stored, the one the signal interrupted included: the counter's
    # readings are 1, 2, … up to the last read the server counted.
    assert [v for v, _ in stored(db_url, "reads")] == [float(n) for n in range(1, counted + 1)]
    assert stored(db_url, "level") == [(42.0, 0)] * counted


async def test_ctrl_c_stops_as_sigterm_does(db_url: str, tmp_path: Path) -> None:
    from ingest.cli import _until_signalled
    from ingest.service import IngestService
    from sitefile.load import parse_config

    layout = Layout().put("holding", 100, [42]).count("input", 0)
    server = LibmodbusServer(layout, tmp_path)
    port = await server.start()
    service = IngestService(parse_config(site_yaml(port, poll_interval_s=0.1)), db_url, tmp_path)
    try:
        running = asyncio.create_task(_until_signalled(service))
        while len(stored(db_url, "reads")) < 2:
            await asyncio.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.wait_for(running, 10)
    finally:
        await server.stop()
    reads = [v for v, _ in stored(db_url, "reads")]
    assert reads == [float(n) for n in range(1, len(reads) + 1)]
    assert len(stored(db_url, "level")) == len(reads)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
