"""Checking and choosing TCP ports before a server binds them."""

from __future__ import annotations

import errno
import socket

from clearwell.errors import ClearwellError


def probe_port(host: str, port: int) -> OSError | None:
    """Try to bind ``host:port`` as a server would; the error if it cannot be had."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # Servers set SO_REUSEADDR too, so a port in TIME_WAIT is not "in use".
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            return exc
    return None


def listen_error(face: str, host: str, port: int, exc: OSError | None) -> ClearwellError:
    """The one-line error for a server that cannot listen, naming the port."""
    if exc is not None and exc.errno == errno.EADDRINUSE:
        return ClearwellError(f"{face}: cannot listen on {host}:{port}: port {port} is in use")
    reason = exc.strerror if exc is not None and exc.strerror else str(exc or "unknown reason")
    return ClearwellError(f"{face}: cannot listen on {host}:{port}: {reason}")


def free_port(host: str) -> int:
    """A port the kernel says is free now (it may be taken again before use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
