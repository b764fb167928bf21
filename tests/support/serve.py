"""``clearwell serve`` in a subprocess on a free loopback port: the real app, for browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.support.pg_cluster import free_port


@contextmanager
def serve(db_url: str, **env_extra: str) -> Iterator[str]:
    """The app serving ``db_url``; yields its base URL and stops it afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env.update(CLEARWELL_DATABASE_URL=db_url, CLEARWELL_LOG_LEVEL="WARNING", **env_extra)
    cmd = [sys.executable, "-m", "clearwell.cli", "serve", "--host", "127.0.0.1", "--port"]
    proc = subprocess.Popen(
        [*cmd, str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"clearwell serve exited with {proc.returncode}: {out}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("clearwell serve did not answer /healthz within 30 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


@contextmanager
def serve_in_process(db_url: str, **settings: object) -> Iterator[str]:
    """The app on ``db_url`` served by uvicorn in a thread of this process, so a test can
    give it what no setting can (a stand-in for data another package does not store yet);
    yields its base URL and stops it afterwards."""
    import threading

    import uvicorn

    from clearwell.app import create_app
    from clearwell.settings import load_settings

    port = free_port()
    app = create_app(load_settings(database_url=db_url, **settings))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", loop="asyncio")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the app did not start serving within 30 s")
            time.sleep(0.05)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=15)
